/* Logging: every line of the host and its plugins goes through the
 * embedder's hook (or stderr), tagged with who wrote it.
 *
 *   level filter ─► format (only lines that pass) ─► escape ─► hook
 *
 * Lines are escaped (control bytes, DEL and '\' become \n, \t, \\, \xNN),
 * so a path or a plugin's text can never forge a second line (issue 9:
 * log-line injection). A line longer than LOG_LINE_MAX is cut in the middle
 * with a marker, keeping both its start (who, which file) and its end (the
 * cause) (A16). Thread: loop thread only, like the hook it calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uvp-internal.h"

enum { LOG_LINE_MAX = 512, FORMAT_STACK = 1024 };

static const char cut_marker[] = " [...] ";

const char *uvp_log_level_name(int level) {
  static const char *const names[] = {"error", "warn", "info", "debug"};
  return (level >= 0 && level < (int)ARRAY_SIZE(names)) ? names[level]
                                                        : "unknown";
}

/* Bytes the escaped form of c takes. */
static size_t esc_len(unsigned char c) {
  if (c == '\n' || c == '\r' || c == '\t' || c == '\\') return 2;
  return (c < 0x20 || c == 0x7f) ? 4 : 1;
}

static size_t esc_put(char *dst, unsigned char c) {
  static const char hex[] = "0123456789abcdef";
  switch (c) {
    case '\n':
      return memcpy(dst, "\\n", 2), 2;
    case '\r':
      return memcpy(dst, "\\r", 2), 2;
    case '\t':
      return memcpy(dst, "\\t", 2), 2;
    case '\\':
      return memcpy(dst, "\\\\", 2), 2;
    default:
      if (c >= 0x20 && c != 0x7f) return dst[0] = (char)c, 1;
      dst[0] = '\\', dst[1] = 'x', dst[2] = hex[c >> 4], dst[3] = hex[c & 15];
      return 4;
  }
}

/* Escapes msg[from, to) into dst; returns the bytes written. */
static size_t esc_range(char *dst, const char *msg, size_t from, size_t to) {
  size_t n = 0;
  for (size_t i = from; i < to; i++)
    n += esc_put(dst + n, (unsigned char)msg[i]);
  return n;
}

size_t uvp__log_escape(char *dst, size_t cap, const char *msg, size_t len) {
  assert(cap > sizeof cut_marker * 2);
  size_t budget = cap - 1, total = 0;
  for (size_t i = 0; i < len; i++) total += esc_len((unsigned char)msg[i]);
  if (total <= budget) {
    size_t n = esc_range(dst, msg, 0, len);
    dst[n] = '\0';
    return n;
  }
  size_t mark = sizeof cut_marker - 1;
  size_t head_max = (budget - mark) / 2, tail_max = budget - mark - head_max;
  size_t head = 0, head_len = 0; /* message bytes, escaped bytes */
  while (head_len + esc_len((unsigned char)msg[head]) <= head_max)
    head_len += esc_len((unsigned char)msg[head++]);
  size_t tail = len, tail_len = 0;
  while (tail > head &&
         tail_len + esc_len((unsigned char)msg[tail - 1]) <= tail_max)
    tail_len += esc_len((unsigned char)msg[--tail]);
  size_t n = esc_range(dst, msg, 0, head);
  memcpy(dst + n, cut_marker, mark);
  n += mark;
  n += esc_range(dst + n, msg, tail, len);
  dst[n] = '\0';
  return n;
}

void uvp__log_raw(uvp_host *h, const char *who, int level, const char *msg,
                  size_t len) {
  if (level > h->opts.log_level) return;
  char line[LOG_LINE_MAX];
  size_t n = uvp__log_escape(line, sizeof line, msg, len);
  if (h->opts.log != NULL) {
    h->opts.log(h->opts.log_data, level, who, line, n);
    return;
  }
  fprintf(stderr, "uvplug [%s] %s: %.*s\n", uvp_log_level_name(level), who,
          (int)n, line);
}

void uvp__log(uvp_host *h, const char *who, int level, const char *fmt, ...) {
  if (level > h->opts.log_level) return; /* a filtered line costs nothing */
  char stack[FORMAT_STACK];
  va_list ap, again;
  va_start(ap, fmt);
  va_copy(again, ap);
  int n = vsnprintf(stack, sizeof stack, fmt, ap);
  va_end(ap);
  char *line = stack;
  /* Longer than the stack buffer: format it whole, so that its end (the
   * cause) survives the cut. */
  if (n >= (int)sizeof stack &&
      (line = uvp__malloc(&h->alloc, (size_t)n + 1)) != NULL)
    vsnprintf(line, (size_t)n + 1, fmt, again);
  va_end(again);
  if (n < 0) return;
  size_t len = line != NULL ? (size_t)n : sizeof stack - 1;
  uvp__log_raw(h, who, level, line != NULL ? line : stack, len);
  if (line != stack) uvp__free(&h->alloc, line);
}
