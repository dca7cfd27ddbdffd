/* SIGHUP: re-read the config file and apply the difference.
 *
 *   parse ──► plan ──► check in children ──► load adds, reload changes
 *     │ errors   │        │ any failure         │ any failure: undo adds
 *     ▼          ▼        ▼                     ▼
 *   rejected, the running set stays        unload removed, swap the set
 *
 * An instance is "changed" when its resolved path, config string, fault
 * policy, remote limit or pin changed, or when the file's SHA-256 differs
 * from the one hashed when it was loaded. Unchanged instances are not
 * touched: they keep their registrations and see every event. Instances
 * given on the command line (--plugin) are not in the file and are always
 * kept.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>

#include "daemon.h"

enum { ACT_KEEP, ACT_ADD, ACT_CHANGE, ACT_OFF };

typedef struct plan {
  uvpd_config nc;      /* the new config */
  int *act;            /* per new plugin */
  long *old;           /* per new plugin: index in d->inst or -1 */
  unsigned char *gone; /* per old instance: not carried over */
  int adds, changes, removes, keeps;
} plan;

static long find_old(uvpd *d, const char *name) {
  for (size_t i = 0; i < d->n_inst; i++)
    if (!d->inst[i].conf.from_cli && d->inst[i].conf.name &&
        strcmp(d->inst[i].conf.name, name) == 0)
      return (long)i;
  return -1;
}

static int classify(uvpd *d, const uvpd_plugin_conf *pc, long o) {
  if (!pc->enabled) return ACT_OFF;
  if (o < 0 || !d->inst[o].loaded) return ACT_ADD;
  const uvpd_instance *in = &d->inst[o];
  if (!uvpd_plugin_conf_same(&in->conf, pc)) return ACT_CHANGE;
  uint8_t h[32];
  if (uvpd_hash_file(pc->resolved, h) != 0) return ACT_CHANGE;
  return memcmp(h, in->file_hash, 32) == 0 ? ACT_KEEP : ACT_CHANGE;
}

static int make_plan(uvpd *d, plan *p) {
  size_t n = p->nc.n_plugins;
  p->act = calloc(n + 1, sizeof *p->act);
  p->old = calloc(n + 1, sizeof *p->old);
  p->gone = calloc(d->n_inst + 1, 1);
  if (!p->act || !p->old || !p->gone) return -1;
  for (size_t i = 0; i < d->n_inst; i++) p->gone[i] = !d->inst[i].conf.from_cli;
  for (size_t i = 0; i < n; i++) {
    p->old[i] = find_old(d, p->nc.plugins[i].name);
    p->act[i] = classify(d, &p->nc.plugins[i], p->old[i]);
    if (p->old[i] >= 0 && p->act[i] == ACT_KEEP) p->gone[p->old[i]] = 0;
    p->adds += p->act[i] == ACT_ADD;
    p->changes += p->act[i] == ACT_CHANGE;
    p->keeps += p->act[i] == ACT_KEEP;
  }
  /* A changed instance is reloaded in place, not removed. */
  for (size_t i = 0; i < n; i++)
    if (p->act[i] == ACT_CHANGE) p->gone[p->old[i]] = 0;
  for (size_t i = 0; i < d->n_inst; i++)
    p->removes += p->gone[i] && d->inst[i].loaded;
  return 0;
}

static void free_plan(plan *p) {
  uvpd_config_free(&p->nc);
  free(p->act);
  free(p->old);
  free(p->gone);
}

/* Every added or changed plugin loads in a child first. */
static int precheck(uvpd *d, plan *p) {
  int bad = 0;
  /* checked as they will load: unsafe_loading changes at a restart only */
  uvpd_config as_loaded = p->nc;
  as_loaded.unsafe_loading = d->cfg.unsafe_loading;
  for (size_t i = 0; i < p->nc.n_plugins; i++) {
    if (p->act[i] != ACT_ADD && p->act[i] != ACT_CHANGE) continue;
    char why[1300];
    if (uvpd_check_plugin(&as_loaded, &p->nc.plugins[i], why, sizeof why) !=
        0) {
      dlog(UVP_LOG_ERROR, "reload: %s: %s", p->nc.plugins[i].name, why);
      bad++;
    }
  }
  return bad;
}

/* The new instance array: kept ones move over, others start from the new
 * config. Loads the adds and changes; on a failure undoes the adds. */
static int apply_loads(uvpd *d, plan *p, uvpd_instance *ni) {
  size_t n = p->nc.n_plugins, i;
  for (i = 0; i < n; i++) {
    if (uvpd_plugin_conf_copy(&ni[i].conf, &p->nc.plugins[i]) != 0) break;
    ni[i].status = p->act[i] == ACT_OFF ? "disabled" : "failed";
    if (p->old[i] >= 0) {
      ni[i].restarts = d->inst[p->old[i]].restarts;
      ni[i].rs = d->inst[p->old[i]].rs;
    }
    if (p->act[i] == ACT_KEEP) {
      const uvpd_instance *o = &d->inst[p->old[i]];
      ni[i].loaded = 1;
      ni[i].status = o->status;
      memcpy(ni[i].file_hash, o->file_hash, 32);
    } else if (p->act[i] == ACT_ADD || p->act[i] == ACT_CHANGE) {
      if (uvpd_instance_load(d, &ni[i], p->act[i] == ACT_CHANGE) != 0) break;
      memset(&ni[i].rs, 0, sizeof ni[i].rs);
    }
  }
  if (i == n) return 0;
  for (size_t j = 0; j < i; j++) {
    if (p->act[j] == ACT_ADD) uvpd_instance_unload(d, &ni[j]);
    if (p->act[j] == ACT_CHANGE) {
      /* cannot go back to bytes that may be gone: the next SIGHUP
       * reloads it again (its hash no longer matches) */
      dlog(UVP_LOG_WARN, "reload: %s stays reloaded from %s", ni[j].conf.name,
           ni[j].conf.resolved);
      memset(d->inst[p->old[j]].file_hash, 0, 32);
    }
  }
  for (size_t j = 0; j <= i && j < n; j++) uvpd_plugin_conf_free(&ni[j].conf);
  return -1;
}

/* Unload what the new config dropped, keep command-line instances, and
 * make ni the running set. */
static int swap_in(uvpd *d, plan *p, uvpd_instance *ni, size_t n_new) {
  size_t k = n_new;
  for (size_t i = 0; i < d->n_inst; i++) {
    uvpd_instance *o = &d->inst[i];
    if (o->conf.from_cli) {
      ni[k++] = *o;
      memset(&o->conf, 0, sizeof o->conf);
      continue;
    }
    if (p->gone[i] && o->loaded) {
      long still = -1;
      for (size_t j = 0; j < n_new; j++)
        if (p->old[j] == (long)i && p->act[j] == ACT_OFF) still = (long)j;
      uvpd_instance_unload(d, o);
      if (still >= 0) ni[still].status = "disabled";
    }
    uvpd_plugin_conf_free(&o->conf);
  }
  free(d->inst);
  d->inst = ni;
  d->n_inst = k;
  return uvpd_view_sync(d);
}

/* The caller counts the reload (uvpd_reload_all). */
static void reject(uvpd *d, const char *why) {
  (void)d;
  dlog(UVP_LOG_ERROR, "reload rejected: %s; the running set stays as it was",
       why);
}

/* Keys of [host] that only a restart applies; the log level applies now. */
static void apply_host_keys(uvpd *d, uvpd_config *nc) {
  int level = d->cli.log_level >= 0 ? d->cli.log_level : nc->log_level;
  dlog_set_level(level);
  uvp_host_set_log_level(d->host, level);
  uvpd_config *c = &d->cfg;
  if (c->queue_capacity != nc->queue_capacity ||
      c->max_payload != nc->max_payload || c->batch != nc->batch ||
      c->fault_policy != nc->fault_policy || c->log_target != nc->log_target ||
      c->unsafe_loading != nc->unsafe_loading ||
      c->slow_callback_ms != nc->slow_callback_ms ||
      c->workers != nc->workers || !uvpd_topics_same(c, nc) ||
      strcmp(c->metrics_listen ? c->metrics_listen : "",
             nc->metrics_listen ? nc->metrics_listen : "") != 0 ||
      c->metrics_public != nc->metrics_public)
    dlog(UVP_LOG_WARN,
         "reload: changed [host] keys other than log_level, restart, "
         "on_load_failure and plugin_dir take effect at the next start");
}

/* Command-line overrides hold across reloads. */
static int reload_config(uvpd *d, uvpd_config *nc) {
  if (d->cli.plugin_dir != NULL) {
    free(nc->plugin_dir);
    nc->plugin_dir = strdup(d->cli.plugin_dir);
  }
  return uvpd_config_resolve(nc);
}

int uvpd_reload_parse(uvpd *d, uvpd_config *nc) {
  dlog(UVP_LOG_INFO, "SIGHUP: reloading %s", d->cfg.file);
  int errs = uvpd_config_load(d->cfg.file, nc);
  if (errs == 0 && reload_config(d, nc) != 0) errs = 1;
  if (errs != 0) {
    reject(d, "the new config has errors (above)");
    uvpd_config_free(nc);
    return -1;
  }
  return 0;
}

int uvpd_reload_apply(uvpd *d, uvpd_config *nc) {
  plan p;
  memset(&p, 0, sizeof p);
  p.nc = *nc;
  memset(nc, 0, sizeof *nc);
  uvpd_instance *ni = NULL;
  int rc = -1;
  if (make_plan(d, &p) != 0 ||
      (ni = calloc(p.nc.n_plugins + d->n_inst + 1, sizeof *ni)) == NULL) {
    reject(d, "out of memory");
  } else if (precheck(d, &p) != 0) {
    reject(d, "plugins of the new config fail to load (above)");
  } else if (apply_loads(d, &p, ni) != 0) {
    reject(d, "a plugin failed to load (above)");
  } else {
    int removes = p.removes;
    swap_in(d, &p, ni, p.nc.n_plugins);
    ni = NULL;
    apply_host_keys(d, &p.nc);
    uvpd_config old = d->cfg; /* freed with the plan */
    d->cfg = p.nc;
    p.nc = old;
    rc = 0;
    dlog(UVP_LOG_INFO,
         "reload done: %d added, %d reloaded, %d removed, %d unchanged", p.adds,
         p.changes, removes, p.keeps);
  }
  free(ni);
  free_plan(&p);
  return rc;
}
