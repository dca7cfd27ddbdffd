/* uvplugd's config file: INI through libinih, checked key by key.
 *
 *   [host]            daemon-wide keys (docs/uvplugd.md "Config file")
 *   [plugin NAME]     one instance: path, config, fault_policy, enabled,
 *                     sha256, remote_limit
 *
 * Every problem is logged as "FILE:LINE: what is wrong; expected what" and
 * counted, so an operator sees them all in one run. libinih does not give
 * its handler the line number in Debian's build, so the file is fed
 * through our own reader, which counts lines and also judges section
 * headers and key lines itself (unknown sections, empty sections and lines
 * that are too long are invisible to the handler).
 */
#define _XOPEN_SOURCE 700 /* realpath */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

#ifndef UVPD_PLUGIN_DIR
#define UVPD_PLUGIN_DIR "/usr/local/lib/uvplug/plugins"
#endif
/* The plugin directory relative to the directory of the uvplugd binary,
 * so that an install tree moved elsewhere (cmake --install --prefix, a
 * DESTDIR) finds its plugins, as the binary finds libuvplug by its rpath. */
#ifndef UVPD_PLUGIN_DIR_REL
#define UVPD_PLUGIN_DIR_REL "../lib/uvplug/plugins"
#endif

enum { KIND_NONE, KIND_HOST, KIND_PLUGIN, KIND_BAD };

typedef struct parse_state {
  FILE *f;
  const char *file;
  unsigned line;
  int errors;
  int kind;
  size_t cur;            /* plugin index when kind == KIND_PLUGIN */
  unsigned host_line;    /* first [host] header, 0 if none yet */
  unsigned host_seen;    /* bit per host key already set */
  unsigned *plugin_seen; /* bit per plugin key, parallel to cfg->plugins */
  int skip_line;         /* the reader reported this line already */
  uvpd_config *cfg;
} parse_state;

static void perr(parse_state *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void perr(parse_state *st, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  dlog(UVP_LOG_ERROR, "%s:%u: %s", st->file, st->line, msg);
  st->errors++;
}

void uvpd_config_defaults(uvpd_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->fault_policy = UVP_FAULT_QUARANTINE;
  cfg->log_level = UVP_LOG_INFO;
  cfg->log_target = UVPD_TARGET_STDERR;
  cfg->on_load_failure = UVPD_ON_FAIL_REFUSE;
  cfg->restart = UVPD_RESTART_NEVER;
  cfg->restart_max_per_min = 5;
  cfg->workers = 1;
}

/* ---- value parsers: 0 or -1 ---- */

static int parse_u32(const char *v, uint32_t lo, uint32_t hi, uint32_t *out) {
  if (!isdigit((unsigned char)v[0])) return -1;
  errno = 0;
  char *end;
  unsigned long long n = strtoull(v, &end, 10);
  if (errno != 0 || *end != '\0' || n < lo || n > hi) return -1;
  *out = (uint32_t)n;
  return 0;
}

static int parse_bool(const char *v, int *out) {
  static const char *const yes[] = {"yes", "true", "on", "1"};
  static const char *const no[] = {"no", "false", "off", "0"};
  for (int i = 0; i < 4; i++) {
    if (strcmp(v, yes[i]) == 0) return *out = 1, 0;
    if (strcmp(v, no[i]) == 0) return *out = 0, 0;
  }
  return -1;
}

static int parse_fault(const char *v, int *out) {
  if (strcmp(v, "quarantine") == 0) return *out = UVP_FAULT_QUARANTINE, 0;
  if (strcmp(v, "log") == 0) return *out = UVP_FAULT_LOG, 0;
  if (strcmp(v, "abort") == 0) return *out = UVP_FAULT_ABORT, 0;
  return -1;
}

int uvpd_parse_sha256(const char *v, uint8_t out[32]) {
  if (strlen(v) != 64) return -1;
  for (int i = 0; i < 32; i++) {
    unsigned b;
    if (!isxdigit((unsigned char)v[2 * i]) ||
        !isxdigit((unsigned char)v[2 * i + 1]) ||
        sscanf(v + 2 * i, "%2x", &b) != 1)
      return -1;
    out[i] = (uint8_t)b;
  }
  return 0;
}

static int valid_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > UVP_NAME_MAX) return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!isalnum(c) && c != '_' && c != '.' && c != '-') return 0;
  }
  return 1;
}

static int set_str(char **dst, const char *v) {
  char *s = strdup(v);
  if (s == NULL) return -1;
  free(*dst);
  *dst = s;
  return 0;
}

/* ---- [host] ---- */

static const char *const host_keys[] = {
    "queue_capacity", "max_payload",      "batch",      "fault_policy",
    "plugin_dir",     "log_level",        "log_target", "metrics_listen",
    "metrics_public", "on_load_failure",  "restart",    "restart_max_per_min",
    "unsafe_loading", "slow_callback_ms", "workers",    "shared_topics"};
#define N_HOST_KEYS (sizeof host_keys / sizeof host_keys[0])

/* Apply key k of [host]; returns NULL or what was expected. */
static const char *host_value(uvpd_config *c, int k, const char *v) {
  int b;
  switch (k) {
    case 0:
      return parse_u32(v, 1, UINT32_MAX, &c->queue_capacity) ? "an integer >= 1"
                                                             : NULL;
    case 1:
      return parse_u32(v, 1, UINT32_MAX, &c->max_payload)
                 ? "a size in bytes >= 1"
                 : NULL;
    case 2:
      return parse_u32(v, 1, UINT32_MAX, &c->batch) ? "an integer >= 1" : NULL;
    case 3:
      return parse_fault(v, &c->fault_policy) ? "quarantine, log or abort"
                                              : NULL;
    case 4:
      return v[0] == '\0' || set_str(&c->plugin_dir, v) ? "a directory" : NULL;
    case 5:
      return (c->log_level = dlog_parse_level(v)) < 0
                 ? "error, warn, info or debug"
                 : NULL;
    case 6:
      if (strcmp(v, "stderr") == 0) return c->log_target = 0, NULL;
      if (strcmp(v, "syslog") == 0) return c->log_target = 1, NULL;
      return "stderr or syslog";
    case 7:
      return set_str(&c->metrics_listen, v) ? "ADDR:PORT or nothing" : NULL;
    case 8:
      return parse_bool(v, &c->metrics_public) ? "yes or no" : NULL;
    case 9:
      if (strcmp(v, "refuse") == 0) return c->on_load_failure = 0, NULL;
      if (strcmp(v, "skip") == 0) return c->on_load_failure = 1, NULL;
      return "refuse or skip";
    case 10:
      if (strcmp(v, "never") == 0) return c->restart = 0, NULL;
      if (strcmp(v, "on-fault") == 0) return c->restart = 1, NULL;
      return "never or on-fault";
    case 11:
      return parse_u32(v, 1, 16, &c->restart_max_per_min)
                 ? "an integer from 1 to 16"
                 : NULL;
    case 12:
      if (parse_bool(v, &b)) return "yes or no";
      c->unsafe_loading = b;
      return NULL;
    case 13:
      return parse_u32(v, 0, UINT32_MAX, &c->slow_callback_ms)
                 ? "milliseconds (0: off)"
                 : NULL;
    case 14:
      return uvpd_parse_workers(v, &c->workers);
    case 15:
      return uvpd_parse_shared_topics(v, c);
  }
  return "a known key";
}

/* ---- [plugin NAME] ---- */

static const char *const plugin_keys[] = {"path",    "config",  "fault_policy",
                                          "enabled", "sha256",  "remote_limit",
                                          "worker",  "replicas"};
#define N_PLUGIN_KEYS (sizeof plugin_keys / sizeof plugin_keys[0])

static const char *plugin_value(uvpd_plugin_conf *p, int k, const char *v) {
  switch (k) {
    case 0:
      return v[0] == '\0' || set_str(&p->path, v) ? "a file path" : NULL;
    case 1:
      return set_str(&p->config, v) ? "a config string" : NULL;
    case 2:
      return parse_fault(v, &p->fault_policy) ? "quarantine, log or abort"
                                              : NULL;
    case 3:
      return parse_bool(v, &p->enabled) ? "yes or no" : NULL;
    case 4:
      if (uvpd_parse_sha256(v, p->sha256)) return "64 hexadecimal digits";
      p->has_sha256 = 1;
      return NULL;
    case 5:
      return parse_u32(v, 1, UINT32_MAX, &p->remote_limit) ? "an integer >= 1"
                                                           : NULL;
    case 6:
      return uvpd_parse_worker(v, &p->worker);
    case 7:
      return uvpd_parse_replicas(v, &p->replicas_all);
  }
  return "a known key";
}

static int key_index(const char *const *keys, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(keys[i], name) == 0) return (int)i;
  return -1;
}

static void list_keys(char *buf, size_t n, const char *const *keys, size_t nk) {
  size_t o = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < nk && o < n; i++)
    o += (size_t)snprintf(buf + o, n - o, "%s%s", i ? ", " : "", keys[i]);
}

static int handler(void *user, const char *section, const char *name,
                   const char *value) {
  parse_state *st = user;
  (void)section;
  if (st->skip_line) return 1;
  if (st->kind == KIND_BAD) return 1; /* the header was reported */
  if (st->kind == KIND_NONE) {
    perr(st,
         "key '%s' outside a section; expected [host] or [plugin NAME] "
         "first",
         name);
    return 1;
  }
  int host = st->kind == KIND_HOST;
  const char *const *keys = host ? host_keys : plugin_keys;
  size_t nk = host ? N_HOST_KEYS : N_PLUGIN_KEYS;
  int k = key_index(keys, nk, name);
  if (k < 0) {
    char list[512];
    list_keys(list, sizeof list, keys, nk);
    perr(st, "unknown key '%s' in [%s]; expected one of: %s", name,
         host ? "host" : "plugin NAME", list);
    return 1;
  }
  unsigned *seen = host ? &st->host_seen : &st->plugin_seen[st->cur];
  if (*seen & (1u << k)) {
    perr(st, "key '%s' set twice in this section; expected it once", name);
    return 1;
  }
  *seen |= 1u << k;
  if (!host && k == 6) st->cfg->plugins[st->cur].worker_line = st->line;
  const char *want = host ? host_value(st->cfg, k, value)
                          : plugin_value(&st->cfg->plugins[st->cur], k, value);
  if (want != NULL)
    perr(st, "bad value '%s' for %s; expected %s", value, name, want);
  return 1;
}

static int append_plugin(uvpd_config *cfg, unsigned **seen) {
  size_t n = cfg->n_plugins + 1;
  uvpd_plugin_conf *p = realloc(cfg->plugins, n * sizeof *p);
  if (p == NULL) return -1;
  cfg->plugins = p;
  if (seen != NULL) {
    unsigned *s = realloc(*seen, n * sizeof *s);
    if (s == NULL) return -1;
    *seen = s;
    s[n - 1] = 0;
  }
  memset(&p[n - 1], 0, sizeof *p);
  p[n - 1].enabled = 1;
  p[n - 1].config = strdup("");
  if (p[n - 1].config == NULL) return -1;
  cfg->n_plugins = n;
  return 0;
}

static uvpd_plugin_conf *find_plugin(uvpd_config *cfg, const char *name) {
  for (size_t i = 0; i < cfg->n_plugins; i++)
    if (cfg->plugins[i].name && strcmp(cfg->plugins[i].name, name) == 0)
      return &cfg->plugins[i];
  return NULL;
}

/* "[host]" or "[plugin NAME]": sets st->kind (KIND_BAD after an error). */
static void section_header(parse_state *st, char *s) {
  char *end = strchr(s, ']');
  st->kind = KIND_BAD;
  if (end == NULL) {
    perr(st, "section header without ']'; expected [host] or [plugin NAME]");
    return;
  }
  *end = '\0';
  char *word = s + 1, *arg;
  while (isspace((unsigned char)*word)) word++;
  for (arg = word; *arg && !isspace((unsigned char)*arg);) arg++;
  if (*arg) *arg++ = '\0';
  while (isspace((unsigned char)*arg)) arg++;
  for (char *t = arg + strlen(arg); t > arg && isspace((unsigned char)t[-1]);)
    *--t = '\0';

  if (strcmp(word, "host") == 0 && *arg == '\0') {
    if (st->host_line != 0) {
      perr(st, "second [host] section; expected one (first on line %u)",
           st->host_line);
      return;
    }
    st->host_line = st->line;
    st->kind = KIND_HOST;
  } else if (strcmp(word, "plugin") == 0) {
    if (!valid_name(arg)) {
      perr(st,
           "bad instance name '%s'; expected [plugin NAME] with NAME of "
           "1..%d characters [A-Za-z0-9_.-]",
           arg, UVP_NAME_MAX);
      return;
    }
    uvpd_plugin_conf *dup = find_plugin(st->cfg, arg);
    if (dup != NULL) {
      perr(st,
           "instance '%s' defined twice; expected unique names (first on "
           "line %u)",
           arg, dup->line);
      return;
    }
    if (append_plugin(st->cfg, &st->plugin_seen) != 0 ||
        (st->cfg->plugins[st->cfg->n_plugins - 1].name = strdup(arg)) == NULL) {
      perr(st, "out of memory");
      return;
    }
    st->cur = st->cfg->n_plugins - 1;
    st->cfg->plugins[st->cur].line = st->line;
    st->kind = KIND_PLUGIN;
  } else {
    perr(st, "unknown section [%s%s%s]; expected [host] or [plugin NAME]", word,
         *arg ? " " : "", arg);
  }
}

/* libinih's fgets: counts lines and judges each before inih parses it. */
static char *reader(char *str, int num, void *stream) {
  parse_state *st = stream;
  if (fgets(str, num, st->f) == NULL) return NULL;
  st->line++;
  st->skip_line = 0;
  size_t len = strlen(str);
  if (len > 0 && str[len - 1] != '\n' && !feof(st->f)) {
    perr(st, "line longer than %d bytes; expected a shorter line", num - 3);
    int c;
    while ((c = fgetc(st->f)) != EOF && c != '\n') {
    }
    str[0] = '\0';
    st->skip_line = 1;
    return str;
  }
  char *start = str;
  if (st->line == 1 && strncmp(start, "\xEF\xBB\xBF", 3) == 0)
    start += 3; /* a UTF-8 BOM, which libinih skips too */
  char *s = start;
  while (isspace((unsigned char)*s)) s++;
  if (*s == '\0' || *s == ';' || *s == '#') return str;
  if (s != start) {
    /* inih would take it as a continuation of the previous value */
    perr(st, "indented line; expected 'key = value' at the start of a line");
    str[0] = '\0';
    st->skip_line = 1;
    return str;
  }
  if (*s == '[') {
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", s);
    section_header(st, copy);
    return str;
  }
  if (strpbrk(s, "=:") == NULL) {
    perr(st, "expected 'key = value', a [section] or a comment");
    str[0] = '\0';
    st->skip_line = 1;
  }
  return str;
}

/* After the file: every enabled section has a path. */
static void check_complete(parse_state *st) {
  for (size_t i = 0; i < st->cfg->n_plugins; i++) {
    uvpd_plugin_conf *p = &st->cfg->plugins[i];
    if (p->path == NULL) {
      st->line = p->line;
      perr(st, "[plugin %s] has no path; expected 'path = FILE'", p->name);
    }
  }
}

/* A relative plugin_dir is relative to the file's directory. */
static int anchor_plugin_dir(uvpd_config *cfg, const char *file) {
  if (cfg->plugin_dir == NULL || cfg->plugin_dir[0] == '/') return 0;
  const char *slash = strrchr(file, '/');
  if (slash == NULL) return 0;
  size_t n = (size_t)(slash - file) + 1 + strlen(cfg->plugin_dir) + 1;
  char *s = malloc(n);
  if (s == NULL) return -1;
  snprintf(s, n, "%.*s/%s", (int)(slash - file), file, cfg->plugin_dir);
  free(cfg->plugin_dir);
  cfg->plugin_dir = s;
  return 0;
}

int uvpd_config_load(const char *path, uvpd_config *cfg) {
  uvpd_config_defaults(cfg);
  cfg->file = strdup(path);
  cfg->metrics_listen = strdup("127.0.0.1:9464");
  if (cfg->file == NULL || cfg->metrics_listen == NULL) return 1;
  parse_state st = {.file = path, .cfg = cfg};
  st.f = fopen(path, "r");
  if (st.f == NULL) {
    dlog(UVP_LOG_ERROR, "%s: cannot read the config file: %s", path,
         strerror(errno));
    return 1;
  }
  int rc = ini_parse_stream(reader, &st, handler, &st);
  fclose(st.f);
  if (rc > 0 && st.errors == 0) {
    st.line = (unsigned)rc;
    perr(&st,
         "syntax error; expected 'key = value', a [section] or a "
         "comment");
  } else if (rc < 0) {
    dlog(UVP_LOG_ERROR, "%s: cannot parse (libinih status %d)", path, rc);
    st.errors++;
  }
  check_complete(&st);
  st.errors += uvpd_placement_check(cfg);
  free(st.plugin_seen);
  if (anchor_plugin_dir(cfg, path) != 0) st.errors++;
  return st.errors;
}

/* PATH[:NAME[:CONFIG]], split on the first two ':'. */
int uvpd_config_add_spec(uvpd_config *cfg, const char *spec) {
  if (spec[0] == '\0' || spec[0] == ':') {
    dlog(UVP_LOG_ERROR, "bad plugin '%s'; expected PATH[:NAME[:CONFIG]]", spec);
    return -1;
  }
  if (append_plugin(cfg, NULL) != 0) return -1;
  uvpd_plugin_conf *p = &cfg->plugins[cfg->n_plugins - 1];
  p->from_cli = 1;
  const char *c1 = strchr(spec, ':');
  const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
  size_t plen = c1 ? (size_t)(c1 - spec) : strlen(spec);
  p->path = strndup(spec, plen);
  if (c1 != NULL && c1[1] != ':' && c1[1] != '\0') {
    size_t nlen = c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1);
    p->name = strndup(c1 + 1, nlen);
    if (p->name != NULL && !valid_name(p->name)) {
      dlog(UVP_LOG_ERROR,
           "bad instance name '%s' in '%s'; expected 1..%d characters "
           "[A-Za-z0-9_.-]",
           p->name, spec, UVP_NAME_MAX);
      return -1;
    }
  }
  if (c2 != NULL && set_str(&p->config, c2 + 1) != 0) return -1;
  return p->path != NULL ? 0 : -1;
}

static char *join(const char *dir, const char *file) {
  size_t n = strlen(dir) + 1 + strlen(file) + 1;
  char *s = malloc(n);
  if (s != NULL) snprintf(s, n, "%s/%s", dir, file);
  return s;
}

/* <dir of /proc/self/exe>/UVPD_PLUGIN_DIR_REL when that directory exists,
 * else the configured UVPD_PLUGIN_DIR. */
static const char *default_plugin_dir(void) {
  static char dir[PATH_MAX];
  char exe[PATH_MAX], joined[PATH_MAX * 2];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return UVPD_PLUGIN_DIR;
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (slash == NULL) return UVPD_PLUGIN_DIR;
  *slash = '\0';
  snprintf(joined, sizeof joined, "%s/%s", exe, UVPD_PLUGIN_DIR_REL);
  if (realpath(joined, dir) == NULL) return UVPD_PLUGIN_DIR;
  return dir;
}

int uvpd_config_resolve(uvpd_config *cfg) {
  const char *dir = cfg->plugin_dir ? cfg->plugin_dir : default_plugin_dir();
  for (size_t i = 0; i < cfg->n_plugins; i++) {
    uvpd_plugin_conf *p = &cfg->plugins[i];
    free(p->resolved);
    p->resolved = NULL;
    if (p->path == NULL) continue; /* reported: "has no path" */
    int as_given = p->path[0] == '/' || (p->from_cli && strchr(p->path, '/'));
    p->resolved = as_given ? strdup(p->path) : join(dir, p->path);
    if (p->resolved == NULL) return -1;
  }
  return 0;
}

void uvpd_plugin_conf_free(uvpd_plugin_conf *p) {
  free(p->name);
  free(p->path);
  free(p->resolved);
  free(p->config);
  memset(p, 0, sizeof *p);
}

static char *dup_or_null(const char *s, int *fail) {
  if (s == NULL) return NULL;
  char *d = strdup(s);
  if (d == NULL) *fail = 1;
  return d;
}

int uvpd_plugin_conf_copy(uvpd_plugin_conf *dst, const uvpd_plugin_conf *src) {
  int fail = 0;
  *dst = *src;
  dst->name = dup_or_null(src->name, &fail);
  dst->path = dup_or_null(src->path, &fail);
  dst->resolved = dup_or_null(src->resolved, &fail);
  dst->config = dup_or_null(src->config, &fail);
  return fail ? -1 : 0;
}

static int str_eq(const char *a, const char *b) {
  return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

int uvpd_plugin_conf_same(const uvpd_plugin_conf *a,
                          const uvpd_plugin_conf *b) {
  return str_eq(a->resolved, b->resolved) && str_eq(a->config, b->config) &&
         a->fault_policy == b->fault_policy &&
         a->remote_limit == b->remote_limit && a->has_sha256 == b->has_sha256 &&
         (!a->has_sha256 || memcmp(a->sha256, b->sha256, 32) == 0);
}

void uvpd_config_free(uvpd_config *cfg) {
  for (size_t i = 0; i < cfg->n_plugins; i++)
    uvpd_plugin_conf_free(&cfg->plugins[i]);
  free(cfg->plugins);
  free(cfg->file);
  free(cfg->plugin_dir);
  free(cfg->metrics_listen);
  uvpd_placement_free(cfg);
  memset(cfg, 0, sizeof *cfg);
}

int uvpd_hash_file(const char *path, uint8_t out[32]) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return -errno;
  struct sha256_ctx ctx;
  sha256_init(&ctx);
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    sha256_update(&ctx, (size_t)n, (const uint8_t *)buf);
  int err = n < 0 ? -errno : 0;
  close(fd);
  sha256_digest(&ctx, 32, out);
  return err;
}

uvp_load_options uvpd_load_options(const uvpd_config *cfg,
                                   const uvpd_plugin_conf *pc) {
  uvp_load_options o = UVP_LOAD_OPTIONS_INIT;
  o.fault_policy = pc->fault_policy;
  o.remote_limit = pc->remote_limit;
  o.strict_modes = !cfg->unsafe_loading;
  o.sha256 = pc->has_sha256 ? pc->sha256 : NULL;
  return o;
}
