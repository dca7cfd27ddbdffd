/* The daemon's instances: one per [plugin NAME] section (or --plugin),
 * loaded or not, and the metrics view that mirrors them.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "notify.h"

/* Loads and unloads of every worker, one at a time: the dynamic linker's
 * list of objects is process state that the loader reads after dlopen
 * (dlfd.c), and with worker loops two hosts would otherwise load at once
 * on two threads. Costs nothing with one worker. */
static pthread_mutex_t load_mu = PTHREAD_MUTEX_INITIALIZER;

/* The name the host gave an instance loaded without one: the last in load
 * order. */
static int adopt_descriptor_name(uvpd *d, uvpd_instance *in) {
  const char *name = NULL, *n;
  for (uint32_t i = 0; uvp_host_plugin_name(d->host, i, &n) == 0; i++) name = n;
  if (name == NULL) return -1;
  in->conf.name = strdup(name);
  return in->conf.name != NULL ? 0 : -1;
}

static void log_load_failure(uvpd *d, uvpd_instance *in, int rc, int reload) {
  int status;
  const char *why = NULL;
  if (uvp_host_load_error(d->host, &status, &why) != 0 || status != rc)
    why = uvp_strerror(rc);
  /* why is "PATH: cause", escaped by the host (A15, A16) */
  dlog(UVP_LOG_ERROR, "cannot %s %s: %s (%s)", reload ? "reload" : "load",
       in->conf.name ? in->conf.name : in->conf.path, why, uvp_err_name(rc));
}

int uvpd_instance_load(uvpd *d, uvpd_instance *in, int reload) {
  if (!in->conf.enabled) {
    in->status = "disabled";
    return 0;
  }
  /* Hash first: if the file is replaced between the hash and the load,
   * the next SIGHUP sees a changed hash and reloads once more, which is
   * harmless; the other order could miss a change. */
  uint8_t hash[32];
  memset(hash, 0, sizeof hash);
  (void)uvpd_hash_file(in->conf.resolved, hash);
  uvp_load_options lo = uvpd_load_options(&d->cfg, &in->conf);
  pthread_mutex_lock(&load_mu);
  int rc = reload ? uvp_host_reload(d->host, in->conf.name, in->conf.resolved,
                                    in->conf.config, &lo)
                  : uvp_host_load(d->host, in->conf.resolved, in->conf.name,
                                  in->conf.config, &lo);
  pthread_mutex_unlock(&load_mu);
  if (rc < 0) {
    log_load_failure(d, in, rc, reload);
    if (!reload) in->status = "failed";
    return rc;
  }
  if (in->conf.name == NULL && adopt_descriptor_name(d, in) != 0)
    return UVP_ENOMEM;
  memcpy(in->file_hash, hash, sizeof hash);
  in->loaded = 1;
  in->status = "running";
  dlog(UVP_LOG_INFO, "%s %s from %s", reload ? "reloaded" : "loaded",
       in->conf.name, in->conf.resolved);
  return 0;
}

int uvpd_instance_unload(uvpd *d, uvpd_instance *in) {
  in->status = in->conf.enabled ? "stopped" : "disabled";
  if (!in->loaded) return 0;
  in->loaded = 0;
  pthread_mutex_lock(&load_mu);
  int rc = uvp_host_unload(d->host, in->conf.name);
  pthread_mutex_unlock(&load_mu);
  if (rc < 0 && rc != UVP_ENOENT) {
    dlog(UVP_LOG_ERROR, "cannot unload %s: %s", in->conf.name,
         uvp_strerror(rc));
    return rc;
  }
  dlog(UVP_LOG_INFO, "unloaded %s", in->conf.name);
  return 0;
}

int uvpd_view_sync(uvpd *d) {
  if (d->n_inst > 0) {
    uvpd_instance_status *s = realloc(d->status, d->n_inst * sizeof *s);
    if (s == NULL) return -1;
    d->status = s;
  }
  for (size_t i = 0; i < d->n_inst; i++) {
    uvpd_instance *in = &d->inst[i];
    d->status[i].name = in->conf.name ? in->conf.name : in->conf.path;
    d->status[i].status = in->status ? in->status : "failed";
    d->status[i].restarts = in->restarts;
  }
  d->view.instances = d->status;
  d->view.n_instances = d->n_inst;
  return 0;
}

int uvpd_instances_from_config(uvpd *d) {
  size_t n = d->cfg.n_plugins;
  d->inst = calloc(n ? n : 1, sizeof *d->inst);
  if (d->inst == NULL) return -1;
  for (size_t i = 0; i < n; i++) {
    if (uvpd_plugin_conf_copy(&d->inst[i].conf, &d->cfg.plugins[i]) != 0)
      return -1;
    d->inst[i].status = d->inst[i].conf.enabled ? "failed" : "disabled";
    d->n_inst = i + 1;
  }
  return uvpd_view_sync(d);
}

void uvpd_instances_free(uvpd *d) {
  for (size_t i = 0; i < d->n_inst; i++)
    uvpd_plugin_conf_free(&d->inst[i].conf);
  free(d->inst);
  free(d->status);
  d->inst = NULL;
  d->status = NULL;
  d->n_inst = 0;
  d->view.instances = NULL;
  d->view.n_instances = 0;
}

void uvpd_status_notify(uvpd *d, const char *what) {
  size_t running, total;
  uvpd_workers_count(d, &running, &total);
  char st[160];
  snprintf(st, sizeof st, "STATUS=%s: %zu of %zu instances running", what,
           running, total);
  uvpd_notify(st);
}
