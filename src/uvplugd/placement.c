/* Worker loops in the config: how many ([host] workers), where each
 * instance runs ([plugin NAME] worker = K or replicas = all) and which
 * topics have process scope ([host] shared_topics). config.c hands the
 * values here; the daemon asks here which instances a worker runs.
 *
 *   [host]    workers = 2              (or auto: the CPUs we may use)
 *             shared_topics = a, b     (topics on the process-wide bus)
 *   [plugin x] worker = 1              (one instance, on worker 1)
 *   [plugin y] replicas = all          (an instance on every worker)
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

/* "auto" or 1..UVPD_WORKERS_MAX. NULL or what was expected. */
const char *uvpd_parse_workers(const char *v, uint32_t *out) {
  if (strcmp(v, "auto") == 0) {
    unsigned n = uv_available_parallelism();
    *out = n < 1 ? 1 : n > UVPD_WORKERS_MAX ? UVPD_WORKERS_MAX : n;
    return NULL;
  }
  char *end;
  errno = 0;
  unsigned long n = strtoul(v, &end, 10);
  if (!isdigit((unsigned char)v[0]) || *end != '\0' || errno != 0 || n < 1 ||
      n > UVPD_WORKERS_MAX)
    return "auto or an integer from 1 to 64";
  *out = (uint32_t)n;
  return NULL;
}

const char *uvpd_parse_worker(const char *v, uint32_t *out) {
  char *end;
  errno = 0;
  unsigned long n = strtoul(v, &end, 10);
  if (!isdigit((unsigned char)v[0]) || *end != '\0' || errno != 0 ||
      n >= UVPD_WORKERS_MAX)
    return "a worker number from 0 to 63";
  *out = (uint32_t)n;
  return NULL;
}

const char *uvpd_parse_replicas(const char *v, int *out) {
  if (strcmp(v, "all") == 0) return *out = 1, NULL;
  if (strcmp(v, "one") == 0) return *out = 0, NULL;
  return "all or one";
}

static void free_topics(uvpd_config *c) {
  for (size_t i = 0; i < c->n_shared_topics; i++) free(c->shared_topics[i]);
  free(c->shared_topics);
  c->shared_topics = NULL;
  c->n_shared_topics = 0;
}

static int valid_topic(const char *s, size_t n) {
  if (n == 0 || n > UVP_TOPIC_MAX) return 0;
  for (size_t i = 0; i < n; i++)
    if (isspace((unsigned char)s[i]) || s[i] == ',') return 0;
  return 1;
}

/* Append v[0..n) unless it is there already. 0 or -1. */
static int add_topic(uvpd_config *c, const char *v, size_t n) {
  for (size_t i = 0; i < c->n_shared_topics; i++)
    if (strlen(c->shared_topics[i]) == n &&
        memcmp(c->shared_topics[i], v, n) == 0)
      return 0;
  char **t = realloc(c->shared_topics, (c->n_shared_topics + 1) * sizeof *t);
  if (t == NULL) return -1;
  c->shared_topics = t;
  if ((t[c->n_shared_topics] = strndup(v, n)) == NULL) return -1;
  c->n_shared_topics++;
  return 0;
}

/* "a, b,c": topic names separated by commas (and blanks). */
const char *uvpd_parse_shared_topics(const char *v, uvpd_config *c) {
  free_topics(c);
  const char *want = "topic names separated by commas";
  for (const char *s = v; *s != '\0';) {
    while (isspace((unsigned char)*s)) s++;
    const char *e = s;
    while (*e != '\0' && *e != ',') e++;
    size_t n = (size_t)(e - s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) n--;
    if (!valid_topic(s, n) || add_topic(c, s, n) != 0) {
      free_topics(c);
      return want;
    }
    s = *e == ',' ? e + 1 : e;
  }
  return NULL;
}

void uvpd_placement_free(uvpd_config *c) { free_topics(c); }

int uvpd_placement_copy_topics(uvpd_config *dst, const uvpd_config *src) {
  dst->shared_topics = NULL;
  dst->n_shared_topics = 0;
  for (size_t i = 0; i < src->n_shared_topics; i++)
    if (add_topic(dst, src->shared_topics[i], strlen(src->shared_topics[i])))
      return -1;
  return 0;
}

int uvpd_topics_same(const uvpd_config *a, const uvpd_config *b) {
  if (a->n_shared_topics != b->n_shared_topics) return 0;
  for (size_t i = 0; i < a->n_shared_topics; i++)
    if (strcmp(a->shared_topics[i], b->shared_topics[i]) != 0) return 0;
  return 1;
}

int uvpd_placed_on(const uvpd_plugin_conf *pc, uint32_t worker) {
  return pc->replicas_all || pc->worker == worker;
}

/* After the whole file: placements name workers that exist and do not
 * combine a worker with replicas = all. Returns the problems, each logged
 * as FILE:LINE. */
int uvpd_placement_check(const uvpd_config *c) {
  int errs = 0;
  for (size_t i = 0; i < c->n_plugins; i++) {
    const uvpd_plugin_conf *p = &c->plugins[i];
    if (p->worker_line == 0) continue;
    if (p->replicas_all) {
      dlog(UVP_LOG_ERROR,
           "%s:%u: [plugin %s] sets worker and replicas = all; expected "
           "one of them",
           c->file, p->worker_line, p->name);
      errs++;
    } else if (p->worker >= c->workers) {
      dlog(UVP_LOG_ERROR,
           "%s:%u: worker = %u but [host] workers = %u; expected 0 to %u",
           c->file, p->worker_line, p->worker, c->workers, c->workers - 1);
      errs++;
    }
  }
  return errs;
}

/* The config worker k runs: the [host] keys as they are and the plugins
 * placed on k, in file order. */
int uvpd_config_for_worker(const uvpd_config *all, uint32_t k,
                           uvpd_config *out) {
  *out = *all;
  out->plugins = NULL;
  out->n_plugins = 0;
  out->file = all->file ? strdup(all->file) : NULL;
  out->plugin_dir = all->plugin_dir ? strdup(all->plugin_dir) : NULL;
  out->metrics_listen =
      all->metrics_listen ? strdup(all->metrics_listen) : NULL;
  int fail = uvpd_placement_copy_topics(out, all) != 0 ||
             (all->file && !out->file) ||
             (all->plugin_dir && !out->plugin_dir) ||
             (all->metrics_listen && !out->metrics_listen);
  out->plugins = calloc(all->n_plugins + 1, sizeof *out->plugins);
  if (out->plugins == NULL) fail = 1;
  for (size_t i = 0; !fail && i < all->n_plugins; i++) {
    if (!uvpd_placed_on(&all->plugins[i], k)) continue;
    if (uvpd_plugin_conf_copy(&out->plugins[out->n_plugins], &all->plugins[i]))
      fail = 1;
    out->n_plugins++;
  }
  return fail ? -1 : 0;
}
