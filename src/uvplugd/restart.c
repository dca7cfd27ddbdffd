/* Quarantine watch and `restart = on-fault`.
 *
 * The host quarantines a faulting plugin (F1) and unloads it a turn later;
 * the daemon notices on a 200 ms timer (an instance it loaded is gone or
 * QUARANTINED), marks it "quarantined" and logs it. With restart = on-fault
 * it loads the instance again after a back-off of 1 s, doubling per
 * restart within the last minute up to 60 s, and gives up (logged, the
 * instance stays quarantined until a SIGHUP) once restart_max_per_min
 * restarts happened in the last 60 s. Every restart is counted and logged.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <string.h>

#include "daemon.h"

#define WATCH_MS 200
#define MINUTE_MS 60000

static int still_there(uvpd *d, uvpd_instance *in) {
  uvp_plugin_stats st;
  memset(&st, 0, sizeof st);
  st.size = sizeof st;
  if (uvp_host_plugin_stats(d->host, in->conf.name, &st) != 0) return 0;
  return st.state != UVP_PLUGIN_QUARANTINED;
}

static unsigned recent_restarts(uvpd_instance *in, uint64_t now) {
  unsigned n = 0;
  for (unsigned i = 0; i < in->rs.n_recent; i++)
    n += now - in->rs.recent[i] < MINUTE_MS;
  return n;
}

static void schedule(uvpd *d, uvpd_instance *in, uint64_t now) {
  unsigned recent = recent_restarts(in, now);
  if (recent >= d->cfg.restart_max_per_min) {
    in->rs.gave_up = 1;
    dlog(UVP_LOG_ERROR,
         "%s: %u restarts in the last minute (restart_max_per_min); not "
         "restarting it again until a SIGHUP",
         in->conf.name, recent);
    return;
  }
  uint64_t delay = 1000;
  for (unsigned i = 0; i < recent && delay < MINUTE_MS; i++) delay *= 2;
  if (delay > MINUTE_MS) delay = MINUTE_MS;
  in->rs.due_ms = now + delay;
  dlog(UVP_LOG_INFO, "%s: restart in %" PRIu64 " ms", in->conf.name, delay);
}

static void try_restart(uvpd *d, uvpd_instance *in, uint64_t now) {
  uvp_plugin_stats st;
  memset(&st, 0, sizeof st);
  st.size = sizeof st;
  if (uvp_host_plugin_stats(d->host, in->conf.name, &st) == 0) return;
  in->rs.due_ms = 0;
  in->rs.recent[in->rs.n_recent % 16] = now;
  if (in->rs.n_recent < 16) in->rs.n_recent++;
  if (uvpd_instance_load(d, in, 0) == 0) {
    in->restarts++;
    d->view.restarts_total++;
    dlog(UVP_LOG_WARN, "%s: restarted (restart %" PRIu64 ")", in->conf.name,
         in->restarts);
  } else {
    in->status = "quarantined";
    schedule(d, in, now);
  }
}

void uvpd_watch_tick(uvpd *d) {
  if (d->host == NULL || d->stopping) return;
  uint64_t now = uv_now(&d->loop);
  int changed = 0;
  for (size_t i = 0; i < d->n_inst; i++) {
    uvpd_instance *in = &d->inst[i];
    if (in->loaded && !still_there(d, in)) {
      in->loaded = 0;
      in->status = "quarantined";
      changed = 1;
      dlog(UVP_LOG_ERROR, "%s: quarantined after a fault", in->conf.name);
      if (d->cfg.restart == UVPD_RESTART_ON_FAULT) schedule(d, in, now);
    } else if (!in->loaded && in->rs.due_ms != 0 && now >= in->rs.due_ms &&
               d->cfg.restart == UVPD_RESTART_ON_FAULT) {
      try_restart(d, in, now);
      changed = 1;
    }
  }
  if (changed) uvpd_view_sync(d);
}

static void on_watch(uv_timer_t *t) { uvpd_watch_tick(t->data); }

int uvpd_watch_start(uvpd *d) {
  int rc = uv_timer_init(&d->loop, &d->watch_timer);
  if (rc != 0) return rc;
  d->watch_timer.data = d;
  return uv_timer_start(&d->watch_timer, on_watch, WATCH_MS, WATCH_MS);
}
