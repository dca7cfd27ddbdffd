/* /metrics with worker loops: each worker renders its own exposition on
 * its own thread (uvpd_metrics_render, where its host may be read), and
 * the main thread merges them here into one valid exposition.
 *
 *   worker 0: # HELP uvplug_topics ..      merged: # HELP uvplug_topics ..
 *             uvplug_topics 3       ──►            uvplug_topics{worker="0"} 3
 *   worker 1: uvplug_topics 2                      uvplug_topics{worker="1"} 2
 *
 * A family is the block that starts at its "# HELP NAME" line; the text
 * format wants each family once, so the blocks of one name are joined.
 * The process-wide families (build, readiness, reloads, process_*) come
 * from worker 0 alone and keep no worker label.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

typedef struct outbuf {
  char *buf;
  size_t len, cap;
  int oom;
} outbuf;

static void put(outbuf *o, const char *s, size_t n) {
  if (o->oom) return;
  if (o->len + n > o->cap) {
    size_t c = o->cap ? o->cap : 4096;
    while (c < o->len + n) c *= 2;
    char *b = realloc(o->buf, c);
    if (b == NULL) {
      o->oom = 1;
      return;
    }
    o->buf = b;
    o->cap = c;
  }
  memcpy(o->buf + o->len, s, n);
  o->len += n;
}

static int process_wide(const char *name, size_t n) {
  static const char *const names[] = {"uvplug_build_info", "uvplug_ready",
                                      "uvplug_reloads_total"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strlen(names[i]) == n && memcmp(names[i], name, n) == 0) return 1;
  return n >= 8 && memcmp(name, "process_", 8) == 0;
}

/* End of the line that starts at off (past its '\n'). */
static size_t line_end(const char *t, size_t len, size_t off) {
  const char *nl = memchr(t + off, '\n', len - off);
  return nl ? (size_t)(nl - t) + 1 : len;
}

/* The family name of a "# HELP NAME ..." line at off, or 0. */
static size_t help_name(const char *t, size_t len, size_t off,
                        const char **name) {
  static const char help[] = "# HELP ";
  if (len - off < sizeof help || memcmp(t + off, help, sizeof help - 1) != 0)
    return 0;
  size_t s = off + sizeof help - 1, e = s;
  while (e < len && t[e] != ' ' && t[e] != '\n') e++;
  *name = t + s;
  return e - s;
}

/* The block [*b, *e) of family name in t; 0 if found, -1 if not. */
static int find_block(const char *t, size_t len, const char *name, size_t n,
                      size_t *b, size_t *e) {
  for (size_t off = 0; t != NULL && off < len; off = line_end(t, len, off)) {
    const char *f;
    size_t fn = help_name(t, len, off, &f);
    if (fn != n || memcmp(f, name, n) != 0) continue;
    *b = off;
    size_t x = line_end(t, len, off);
    while (x < len && help_name(t, len, x, &f) == 0) x = line_end(t, len, x);
    *e = x;
    return 0;
  }
  return -1;
}

/* One sample line with worker="k" as its first label. */
static void put_labelled(outbuf *o, const char *l, size_t n, unsigned k) {
  size_t m = 0;
  while (m < n && l[m] != '{' && l[m] != ' ') m++;
  char lab[32];
  int ln = snprintf(lab, sizeof lab, "{worker=\"%u\"%s", k,
                    m < n && l[m] == '{' ? "," : "}");
  put(o, l, m);
  put(o, lab, (size_t)ln);
  size_t rest = m < n && l[m] == '{' ? m + 1 : m;
  put(o, l + rest, n - rest);
}

/* Family name: the header from the first text that has it, then every
 * worker's samples. */
static void put_family(outbuf *o, char *const *text, const size_t *len,
                       size_t nt, const char *name, size_t n) {
  int header = 0, wide = process_wide(name, n);
  for (size_t k = 0; k < nt; k++) {
    size_t b, e;
    if (find_block(text[k], len[k], name, n, &b, &e) != 0) continue;
    for (size_t off = b; off < e; off = line_end(text[k], e, off)) {
      const char *l = text[k] + off;
      size_t ln = line_end(text[k], e, off) - off;
      if (l[0] == '#') {
        if (!header) put(o, l, ln);
      } else if (wide) {
        put(o, l, ln);
      } else {
        put_labelled(o, l, ln, (unsigned)k);
      }
    }
    header = 1;
    if (wide) break;
  }
}

/* Nonzero when family name has a block in a text before k. */
static int seen_before(char *const *text, const size_t *len, size_t k,
                       const char *name, size_t n) {
  size_t b, e;
  for (size_t j = 0; j < k; j++)
    if (find_block(text[j], len[j], name, n, &b, &e) == 0) return 1;
  return 0;
}

int uvpd_metrics_merge(char *const *text, const size_t *len, size_t n,
                       char **out_buf, size_t *out_len) {
  outbuf o = {0};
  for (size_t k = 0; k < n; k++) {
    const char *t = text[k];
    for (size_t off = 0; t != NULL && off < len[k];
         off = line_end(t, len[k], off)) {
      const char *name;
      size_t nn = help_name(t, len[k], off, &name);
      if (nn == 0 || seen_before(text, len, k, name, nn)) continue;
      put_family(&o, text, len, n, name, nn);
    }
  }
  if (o.oom || o.buf == NULL) {
    free(o.buf);
    return UVP_ENOMEM;
  }
  *out_buf = o.buf;
  *out_len = o.len;
  return 0;
}
