/* fuzz_log: fuzzed bytes as a plugin's log message, through uvp_api.log
 * (the embedder's ctx) to the embedder's log hook, which checks A16 on
 * every line: no control byte or DEL left, at most 511 bytes, and the line
 * decodes back to the message, whole, or, when cut, its start and its end
 * around the " [...] " marker.
 *
 * Input: [level][message bytes...]
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "uvplug/uvplug.h"

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "fuzz_log: %s:%d: violated: %s\n", __FILE__, __LINE__, \
              #cond);                                                        \
      abort();                                                               \
    }                                                                        \
  } while (0)

enum { LINE_MAX_BYTES = 511 };
static const char marker[] = " [...] ";

static uv_loop_t loop;
static uvp_host *host;
static uvp_ctx *ctx;
static const uvp_api *api;

static const unsigned char *want;
static size_t want_len;
static int want_level, lines;

/* Lower-case hex digit, as the host writes them. */
static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Decodes escaped text; returns the decoded length, or -1 if malformed. */
static long decode(const char *s, size_t n, unsigned char *out) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '\\') {
      out[o++] = (unsigned char)s[i];
      continue;
    }
    if (++i >= n) return -1;
    switch (s[i]) {
      case 'n':
        out[o++] = '\n';
        break;
      case 'r':
        out[o++] = '\r';
        break;
      case 't':
        out[o++] = '\t';
        break;
      case '\\':
        out[o++] = '\\';
        break;
      case 'x': {
        int hi, lo;
        if (i + 2 >= n || (hi = hexval(s[i + 1])) < 0 ||
            (lo = hexval(s[i + 2])) < 0)
          return -1;
        unsigned v = (unsigned)(hi << 4 | lo);
        if (v >= 0x20 && v != 0x7f) return -1; /* only what must be */
        out[o++] = (unsigned char)v;
        i += 2;
        break;
      }
      default:
        return -1;
    }
  }
  return (long)o;
}

/* The line is esc(msg[0, h)) marker esc(msg[t, len)) for some h <= t. */
static bool is_cut_of(const char *line, size_t n) {
  unsigned char buf[LINE_MAX_BYTES + 1];
  for (const char *p = strstr(line, marker); p != NULL;
       p = strstr(p + 1, marker)) {
    size_t at = (size_t)(p - line), rest = n - at - (sizeof marker - 1);
    long h = decode(line, at, buf);
    if (h < 0 || (size_t)h > want_len || memcmp(buf, want, (size_t)h) != 0)
      continue;
    long t = decode(p + sizeof marker - 1, rest, buf);
    if (t < 0 || (size_t)(h + t) > want_len ||
        memcmp(buf, want + want_len - (size_t)t, (size_t)t) != 0)
      continue;
    return true;
  }
  return false;
}

static void hook(void *data, int level, const char *plugin, const char *line,
                 size_t n) {
  (void)data, (void)plugin;
  lines++;
  CHECK(level == want_level);
  CHECK(n <= LINE_MAX_BYTES && line[n] == '\0' && strlen(line) == n);
  for (size_t i = 0; i < n; i++) /* A16: nothing can forge a line */
    CHECK((unsigned char)line[i] >= 0x20 && (unsigned char)line[i] != 0x7f);
  static unsigned char buf[1 << 20];
  long d = decode(line, n, buf);
  if (d >= 0 && (size_t)d == want_len && memcmp(buf, want, want_len) == 0)
    return; /* whole */
  CHECK(is_cut_of(line, n));
  /* cut only when needed, and tightly: each side leaves out less than one
   * escape (4 bytes) */
  CHECK(n + 6 >= LINE_MAX_BYTES);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.log = hook;
  o.log_level = UVP_LOG_DEBUG;
  if (uv_loop_init(&loop) != 0 || uvp_host_new(&loop, &o, &host) != 0 ||
      uvp_host_ctx(host, &ctx, &api) != 0)
    abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size - 1 > sizeof(unsigned char[1 << 20]) / 4) return 0;
  want_level = (int)(int8_t)data[0] % 6;
  want = data + 1;
  want_len = size - 1;
  lines = 0;
  int rc = api->log(ctx, want_level, (const char *)want, want_len);
  if (want_level < UVP_LOG_ERROR || want_level > UVP_LOG_DEBUG) {
    CHECK(rc == UVP_EINVAL && lines == 0);
  } else {
    CHECK(rc == 0 && lines == 1);
  }
  return 0;
}
