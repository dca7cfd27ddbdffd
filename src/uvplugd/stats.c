/* SIGUSR1 (and the end of a run): one log line of counters per instance,
 * in load order, then one line for the daemon itself. */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"

static const char *state_name(int state) {
  static const char *const names[] = {"loading", "running", "stopping",
                                      "quarantined", "draining"};
  return state >= 0 && state < 5 ? names[state] : "unknown";
}

/* The instance's named counters (O4), one line, when it has any:
 * "counters NAME: sent=3 received=2". */
static void log_counters(uvpd *d, const char *name) {
  char line[1024];
  size_t len = 0;
  const char *cname;
  uint64_t v;
  for (uint32_t k = 0;
       uvp_host_plugin_counter(d->host, name, k, &cname, &v) == 0; k++) {
    int w = snprintf(line + len, sizeof line - len, " %s=%" PRIu64, cname, v);
    if (w < 0 || (size_t)w >= sizeof line - len) break; /* cut, not wrapped */
    len += (size_t)w;
  }
  if (len > 0) dlog(UVP_LOG_INFO, "counters %s:%s", name, line);
}

void uvpd_stats_log(uvpd *d) {
  const char *name;
  for (uint32_t i = 0; uvp_host_plugin_name(d->host, i, &name) == 0; i++) {
    uvp_plugin_stats st;
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    int rc = uvp_host_plugin_stats(d->host, name, &st);
    if (rc < 0) {
      dlog(UVP_LOG_WARN, "stats %s: unavailable: %s", name, uvp_err_name(rc));
      continue;
    }
    dlog(UVP_LOG_INFO,
         "stats %s: state=%s calls=%" PRIu64 " events=%" PRIu64
         " published=%" PRIu64 " errors=%" PRIu64 " panics=%" PRIu64
         " registrations=%" PRIu32 " posts=%" PRIu64 " work_pending=%" PRIu32,
         name, state_name(st.state), st.calls, st.events, st.published,
         st.errors, st.panics, st.registrations, st.posts, st.work_pending);
    log_counters(d, name);
  }
  size_t running = 0;
  for (size_t i = 0; i < d->n_inst; i++) running += d->inst[i].loaded;
  if (d->worker > 0) { /* reloads are counted once, by worker 0 */
    dlog(UVP_LOG_INFO,
         "stats worker %u: instances=%zu running=%zu restarts=%" PRIu64,
         d->worker, d->n_inst, running, d->view.restarts_total);
    return;
  }
  dlog(UVP_LOG_INFO,
       "stats daemon: instances=%zu running=%zu reloads_ok=%" PRIu64
       " reloads_failed=%" PRIu64 " restarts=%" PRIu64,
       d->n_inst, running, d->view.reloads_ok, d->view.reloads_failed,
       d->view.restarts_total);
}
