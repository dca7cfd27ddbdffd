/* Logging: every line of the host and its plugins goes through the
 * embedder's hook (or stderr), tagged with who wrote it.
 * Thread: loop thread only, like the hook it calls. */
#include <stdio.h>

#include "uvp-internal.h"

static const char *level_name(int level) {
  static const char *const names[] = {"error", "warn", "info", "debug"};
  return (level >= 0 && level < (int)ARRAY_SIZE(names)) ? names[level] : "?";
}

void uvp__log_raw(uvp_host *h, const char *who, int level, const char *msg,
                  size_t len) {
  if (level > h->opts.log_level) return;
  if (h->opts.log != NULL) {
    h->opts.log(h->opts.log_data, level, who, msg, len);
    return;
  }
  fprintf(stderr, "uvplug [%s] %s: %.*s\n", level_name(level), who,
          (int)(len > INT32_MAX ? INT32_MAX : len), msg);
}

void uvp__log(uvp_host *h, const char *who, int level, const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
  uvp__log_raw(h, who, level, line, len);
}
