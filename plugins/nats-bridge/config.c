/* Parsing of the bridge's config string (config.h).
 * Thread: any thread.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t cap, const char *what, const char *tok,
                size_t n) {
  snprintf(err, cap, "%s: '%.*s'", what, (int)n, tok);
  return -1;
}

int nb_subject_ok(const char *s, size_t len) {
  if (len == 0 || len > 255 || s[0] == '.' || s[len - 1] == '.') return 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '*' || c == '>' || c == '\0' ||
        (c == '.' && s[i + 1] == '.'))
      return 0;
  }
  return 1;
}

/* Splits a comma-separated list into a NULL-free array of copies. */
static int split_list(const char *v, size_t n, char ***out, size_t *n_out) {
  size_t count = 1;
  for (size_t i = 0; i < n; i++) count += v[i] == ',';
  char **a = calloc(count, sizeof *a);
  if (a == NULL) return -1;
  *out = a;
  *n_out = 0;
  if (n == 0 || v[n - 1] == ',') return -1; /* empty last element */
  for (size_t i = 0; i < n;) {
    size_t k = i;
    while (k < n && v[k] != ',') k++;
    if (k == i) return -1; /* empty element */
    char *e = malloc(k - i + 1);
    if (e == NULL) return -1;
    memcpy(e, v + i, k - i);
    e[k - i] = '\0';
    a[(*n_out)++] = e;
    i = k + 1;
  }
  return *n_out == 0 ? -1 : 0;
}

static int set_str(char *dst, size_t cap, const char *v, size_t n) {
  if (n >= cap) return -1;
  memcpy(dst, v, n);
  dst[n] = '\0';
  return 0;
}

static int set_u64(uint64_t *dst, const char *v, size_t n, uint64_t min) {
  char buf[24];
  char *end;
  if (n == 0 || n >= sizeof buf || v[0] == '-') return -1;
  memcpy(buf, v, n);
  buf[n] = '\0';
  unsigned long long x = strtoull(buf, &end, 10);
  if (*end != '\0' || x < min || x > INT32_MAX) return -1;
  *dst = x;
  return 0;
}

static int set_key(nb_config *c, const char *k, size_t kn, const char *v,
                   size_t vn) {
#define KEY(s) (kn == sizeof(s) - 1 && memcmp(k, s, kn) == 0)
  if (KEY("url")) return set_str(c->url, sizeof c->url, v, vn);
  if (KEY("prefix")) return set_str(c->prefix, sizeof c->prefix, v, vn);
  if (KEY("status")) return set_str(c->status, sizeof c->status, v, vn);
  if (KEY("out") && c->out == NULL)
    return split_list(v, vn, &c->out, &c->n_out);
  if (KEY("in") && c->in == NULL) return split_list(v, vn, &c->in, &c->n_in);
  if (KEY("buffer")) return set_u64(&c->buffer, v, vn, 0);
  if (KEY("inbox")) return set_u64(&c->inbox, v, vn, 1);
  if (KEY("pending")) /* libnats 3.4 refuses 2^21 and more */
    return set_u64(&c->pending, v, vn, 1) < 0 || c->pending > NB_PENDING_MAX
               ? -1
               : 0;
  if (KEY("batch")) return set_u64(&c->batch, v, vn, 1);
  if (KEY("sync_ms")) return set_u64(&c->sync_ms, v, vn, 0);
  if (KEY("reconnect_wait_ms")) return set_u64(&c->reconnect_wait_ms, v, vn, 1);
  if (KEY("echo") && vn == 1 && (v[0] == '0' || v[0] == '1')) {
    c->echo = v[0] == '1';
    return 0;
  }
#undef KEY
  return -1;
}

static void defaults(nb_config *c) {
  memset(c, 0, sizeof *c);
  strcpy(c->url, "nats://127.0.0.1:4222");
  strcpy(c->prefix, "uvplug.");
  strcpy(c->status, "nats_bridge.status");
  c->buffer = 8u << 20;
  c->inbox = 65536;
  c->pending = 262144;
  c->batch = 1024;
  c->sync_ms = 1000;
  c->reconnect_wait_ms = 250;
}

/* Every out topic must make a valid subject with the prefix. */
static int check(const nb_config *c, char *err, size_t cap) {
  size_t plen = strlen(c->prefix);
  for (size_t i = 0; i < c->n_out; i++) {
    char subj[512];
    int n = snprintf(subj, sizeof subj, "%s%s", c->prefix, c->out[i]);
    if (n < 0 || (size_t)n >= sizeof subj || strlen(c->out[i]) > 255 ||
        !nb_subject_ok(subj, (size_t)n))
      return fail(err, cap, "out topic not usable as a NATS subject", c->out[i],
                  strlen(c->out[i]));
  }
  if (plen != 0 && c->prefix[plen - 1] != '.')
    return fail(err, cap, "prefix must end with '.'", c->prefix, plen);
  if (c->n_out == 0 && c->n_in == 0)
    return fail(err, cap, "nothing to bridge (no out= or in=)", "", 0);
  return 0;
}

int nb_config_parse(const char *text, nb_config *c, char *err, size_t err_cap) {
  defaults(c);
  for (const char *p = text; *p != '\0';) {
    while (*p == ' ' || *p == '\t' || *p == '\n') p++;
    size_t n = strcspn(p, " \t\n");
    if (n == 0) break;
    const char *eq = memchr(p, '=', n);
    if (eq == NULL ||
        set_key(c, p, (size_t)(eq - p), eq + 1, n - (size_t)(eq - p) - 1) < 0)
      return fail(err, err_cap, "bad config token", p, n);
    p += n;
  }
  return check(c, err, err_cap);
}

static void free_list(char **a, size_t n) {
  for (size_t i = 0; a != NULL && i < n; i++) free(a[i]);
  free(a);
}

void nb_config_free(nb_config *c) {
  free_list(c->out, c->n_out);
  free_list(c->in, c->n_in);
  c->out = c->in = NULL;
  c->n_out = c->n_in = 0;
}
