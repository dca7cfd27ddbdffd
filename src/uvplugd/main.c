/* uvplugd: the plugin host as a service.
 *
 *   uvplugd -c FILE | --plugin PATH[:NAME[:CONFIG]]... [options]
 *
 * It embeds uvplug as any C daemon would (docs/embedding.md): one libuv
 * loop, one host on it, the configured instances loaded in order, then the
 * loop runs until SIGTERM/SIGINT (or --run-ms). docs/uvplugd.md documents
 * options, config keys, signals and exit codes.
 *
 *   main ── cli ── config ── [--check: check.c, exit]
 *     └── host ── load instances ── signals, watch, metrics ── READY=1
 *           uv_run ◄─ SIGHUP: reload.c  SIGUSR1: stats.c  timer: restart.c
 *     SIGTERM ─► stop(): STOPPING=1, stats, uvp_host_close ─► on_closed:
 *                close our handles ─► uv_run returns ─► uv_loop_close
 *     a second SIGTERM/SIGINT while stopping: _exit(UVPD_EXIT_FORCED)
 *
 * With [host] workers = N, worker 0 is this loop and workers 1..N-1 run
 * on threads of their own (workers.c); the signals, the metrics endpoint
 * and the notify socket stay here.
 *
 * Thread rule: worker 0's state is used on the main thread, which runs its
 * loop and owns its host (T3); other workers only through workers.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "notify.h"

static void close_handle(uv_handle_t *h) {
  if (h->loop != NULL && !uv_is_closing(h)) uv_close(h, NULL);
}

/* Once our host and every worker's loop finished, the handles that kept a
 * second signal catchable can go. */
static void maybe_finish(uvpd *d) {
  if (d->host != NULL || !uvpd_workers_ended(d)) return;
  if (d->host_closed) dlog(UVP_LOG_INFO, "stopped");
  close_handle((uv_handle_t *)&d->sigint);
  close_handle((uv_handle_t *)&d->sigterm);
  close_handle((uv_handle_t *)&d->ended);
}

/* The host finished closing: every destroy and on_unload ran. */
static void on_host_closed(void *data) {
  uvpd *d = data;
  d->host = NULL;
  d->host_closed = 1;
  maybe_finish(d);
}

/* A worker thread is done with its loop. */
static void on_ended(uv_async_t *a) {
  uvpd *d = a->data;
  if (d->stopping) maybe_finish(d);
}

/* Begin the graceful stop. Safe to call more than once. */
static void stop(uvpd *d, int want_stats) {
  if (d->stopping) return;
  d->stopping = 1;
  d->view.ready = 0;
  uvpd_notify("STOPPING=1");
  uvpd_metrics_stop(d->metrics);
  d->metrics = NULL;
  uvpd_notify_stop();
  close_handle((uv_handle_t *)&d->sighup);
  close_handle((uv_handle_t *)&d->sigusr1);
  close_handle((uv_handle_t *)&d->run_timer);
  close_handle((uv_handle_t *)&d->watch_timer);
  uvpd_workers_stop(d, want_stats);
  if (d->host == NULL) {
    maybe_finish(d);
    return;
  }
  if (want_stats) uvpd_stats_log(d);
  int rc = uvp_host_close(d->host, on_host_closed, d);
  if (rc < 0) {
    dlog(UVP_LOG_ERROR, "uvp_host_close: %s", uvp_strerror(rc));
    d->host = NULL;
    maybe_finish(d);
  }
}

static void on_run_timer(uv_timer_t *t) {
  dlog(UVP_LOG_INFO, "--run-ms elapsed, stopping");
  stop(t->data, 1);
}

static void on_stop_signal(uv_signal_t *s, int signum) {
  uvpd *d = s->data;
  if (d->stopping) {
    dlog(UVP_LOG_ERROR, "second %s while stopping: exiting at once (%d)",
         signum == SIGINT ? "SIGINT" : "SIGTERM", UVPD_EXIT_FORCED);
    fflush(stdout);
    fflush(stderr);
    _exit(UVPD_EXIT_FORCED);
  }
  dlog(UVP_LOG_INFO, "%s: stopping", signum == SIGINT ? "SIGINT" : "SIGTERM");
  stop(d, 1);
}

static void on_sighup(uv_signal_t *s, int signum) {
  (void)signum;
  uvpd *d = s->data;
  uvpd_notify("RELOADING=1");
  uvpd_status_notify(d,
                     uvpd_reload_all(d) == 0 ? "reloaded" : "reload rejected");
  uvpd_notify("READY=1");
}

static void on_sigusr1(uv_signal_t *s, int signum) {
  (void)signum;
  uvpd_stats_all(s->data);
}

static int start_signal(uvpd *d, uv_signal_t *s, uv_signal_cb cb, int sig) {
  int rc = uv_signal_init(&d->loop, s);
  if (rc == 0) {
    s->data = d;
    rc = uv_signal_start(s, cb, sig);
  }
  return rc;
}

static int start_handles(uvpd *d) {
  int rc = uv_async_init(&d->loop, &d->ended, on_ended);
  d->ended.data = d;
  if (rc == 0) rc = start_signal(d, &d->sigint, on_stop_signal, SIGINT);
  if (rc == 0) rc = start_signal(d, &d->sigterm, on_stop_signal, SIGTERM);
  if (rc == 0) rc = start_signal(d, &d->sighup, on_sighup, SIGHUP);
  if (rc == 0) rc = start_signal(d, &d->sigusr1, on_sigusr1, SIGUSR1);
  if (rc == 0) rc = uvpd_watch_start(d);
  if (rc == 0 && d->cli.run_ms > 0) {
    rc = uv_timer_init(&d->loop, &d->run_timer);
    d->run_timer.data = d;
    if (rc == 0)
      rc = uv_timer_start(&d->run_timer, on_run_timer, d->cli.run_ms, 0);
  }
  if (rc != 0) dlog(UVP_LOG_ERROR, "libuv: %s", uv_strerror(rc));
  return rc;
}

/* Config file, command-line plugins and overrides. Returns the number of
 * problems (each logged). */
static int build_config(uvpd *d) {
  int errs = 0;
  if (d->cli.config_file != NULL) {
    errs = uvpd_config_load(d->cli.config_file, &d->cfg);
  } else {
    uvpd_config_defaults(&d->cfg);
    d->cfg.metrics_listen = strdup(""); /* quick runs serve no metrics */
  }
  for (int i = 0; i < d->cli.n_plugins; i++)
    if (uvpd_config_add_spec(&d->cfg, d->cli.plugins[i]) != 0) errs++;
  if (d->cli.plugin_dir != NULL) {
    free(d->cfg.plugin_dir);
    d->cfg.plugin_dir = strdup(d->cli.plugin_dir);
  }
  if (d->cli.log_level >= 0) d->cfg.log_level = d->cli.log_level;
  /* resolved even after errors: --check goes on with the plugins that
   * parsed */
  if (uvpd_config_resolve(&d->cfg) != 0) errs++;
  return errs;
}

int uvpd_new_host(uvpd *d) {
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.log = dlog_hook;
  o.log_data = d;
  o.log_level = d->cfg.log_level;
  o.queue_capacity = d->cfg.queue_capacity;
  o.max_payload = d->cfg.max_payload;
  o.batch = d->cfg.batch;
  o.fault_policy = d->cfg.fault_policy;
  o.slow_callback_ms = d->cfg.slow_callback_ms;
  int rc = uvp_host_new(&d->loop, &o, &d->host);
  if (rc < 0) {
    dlog(UVP_LOG_ERROR, "uvp_host_new: %s (%s)", uvp_err_name(rc),
         uvp_strerror(rc));
    return rc;
  }
  /* joined before any plugin loads: shared topics are there from the
   * first publish */
  if (d->bus != NULL && (rc = uvp_host_join_bus(d->host, d->bus)) < 0)
    dlog(UVP_LOG_ERROR, "uvp_host_join_bus: %s (%s)", uvp_err_name(rc),
         uvp_strerror(rc));
  return rc;
}

int uvpd_load_all(uvpd *d) {
  int failed = 0;
  for (size_t i = 0; i < d->n_inst; i++) {
    if (uvpd_instance_load(d, &d->inst[i], 0) == 0) continue;
    failed++;
    if (d->cfg.on_load_failure == UVPD_ON_FAIL_REFUSE) {
      dlog(UVP_LOG_ERROR,
           "not starting: a plugin failed to load (on_load_failure = "
           "refuse)");
      return UVPD_EXIT_LOAD;
    }
    dlog(UVP_LOG_WARN, "%s: skipped (on_load_failure = skip)",
         d->inst[i].conf.name ? d->inst[i].conf.name : d->inst[i].conf.path);
  }
  uvpd_view_sync(d);
  return 0;
}

/* An endpoint that was asked for and cannot be served is a start-up
 * failure, as a listen address that cannot be bound is for nginx. */
static int start_metrics(uvpd *d) {
  const char *listen = d->cfg.metrics_listen;
  if (listen == NULL || listen[0] == '\0') return 0;
  char err[256] = "";
  int rc =
      uvpd_metrics_start(&d->loop, d->host, &d->view, listen,
                         d->cfg.metrics_public, &d->metrics, err, sizeof err);
  if (rc < 0) {
    dlog(UVP_LOG_ERROR, "not starting: metrics_listen = %s: %s", listen, err);
    return rc;
  }
  uvpd_metrics_set_render(d->metrics, uvpd_workers_render, d);
  dlog(UVP_LOG_INFO, "metrics on http://%s/metrics", listen);
  return 0;
}

static void report_handle(uv_handle_t *h, void *arg) {
  (void)arg;
  dlog(UVP_LOG_ERROR, "handle still open at exit: %s%s",
       uv_handle_type_name(uv_handle_get_type(h)),
       uv_is_closing(h) ? " (closing)" : "");
}

/* Run the loop until nothing is left, then close it. */
static int drain_and_close(uvpd *d) {
  uv_run(&d->loop, UV_RUN_DEFAULT);
  int rc = uv_loop_close(&d->loop);
  if (rc != 0) {
    dlog(UVP_LOG_ERROR, "uv_loop_close: %s", uv_strerror(rc));
    uv_walk(&d->loop, report_handle, NULL);
    return 1;
  }
  return 0;
}

static void status_line(uvpd *d) {
  size_t running, total;
  uvpd_workers_count(d, &running, &total);
  uvpd_status_notify(d, "started");
  dlog(UVP_LOG_INFO,
       "started: %zu of %zu instances running on %u worker%s (uvplugd %s, "
       "libuvplug %s)",
       running, total, d->n_workers, d->n_workers == 1 ? "" : "s", UVPD_VERSION,
       uvp_version_string());
}

static void warn_unsafe(const uvpd_config *cfg) {
  if (cfg->unsafe_loading)
    dlog(UVP_LOG_WARN,
         "UNSAFE LOADING: unsafe_loading = yes turns off the file mode and "
         "owner checks (strict_modes); use it for development only");
}

static int run_loops(uvpd *d) {
  int rc = uv_loop_init(&d->loop);
  if (rc != 0) {
    dlog(UVP_LOG_ERROR, "uv_loop_init: %s", uv_strerror(rc));
    return UVPD_EXIT_FAILURE;
  }
  int status = UVPD_EXIT_OK;
  if (uvpd_new_host(d) != 0) {
    if (d->host == NULL) {
      uv_loop_close(&d->loop);
      return UVPD_EXIT_FAILURE;
    }
    status = UVPD_EXIT_FAILURE; /* it could not join the bus: close it */
  }
  if (status == 0 && uvpd_instances_from_config(d) != 0)
    status = UVPD_EXIT_FAILURE;
  /* Handlers first: a SIGTERM during a long start-up then stops
   * gracefully once the loads are done, instead of killing the process. */
  if (status == 0 && start_handles(d) != 0) status = UVPD_EXIT_FAILURE;
  if (status == 0) uvpd_workers_start(d);
  if (status == 0) status = uvpd_load_all(d);
  int wstatus = uvpd_workers_wait_started(d);
  if (status == 0) status = wstatus;
  if (status == 0 && start_metrics(d) != 0) status = UVPD_EXIT_FAILURE;
  if (status == 0) {
    uvpd_notify_start(&d->loop);
    d->view.ready = 1;
    uvpd_notify("READY=1");
    status_line(d);
  } else {
    stop(d, 0);
  }
  if (drain_and_close(d) != 0 && status == 0) status = UVPD_EXIT_FAILURE;
  if (!d->host_closed && status == 0) {
    dlog(UVP_LOG_ERROR, "the host did not finish closing");
    status = UVPD_EXIT_FAILURE;
  }
  return status;
}

/* Worker 0 runs here; the others on their threads (workers.c). */
static int run(uvpd *d) {
  warn_unsafe(&d->cfg);
  int status = UVPD_EXIT_FAILURE;
  if (uvpd_workers_setup(d) != 0) {
    dlog(UVP_LOG_ERROR, "not starting: out of memory");
  } else {
    if (d->n_workers > 1) dlog_set_worker(0);
    status = run_loops(d);
  }
  if (uvpd_workers_join(d) != 0 && status == 0) status = UVPD_EXIT_FAILURE;
  return status;
}

int main(int argc, char **argv) {
  static uvpd d; /* static: signal paths and the metrics view point in */
  if (argc > 1 && strcmp(argv[1], "--check-one") == 0)
    return uvpd_check_one_main(argc, argv); /* check.c's child */
  int rc = uvpd_cli_parse(argc, argv, &d.cli);
  if (rc >= 0) return rc;
  dlog_open(UVPD_TARGET_STDERR,
            d.cli.log_level >= 0 ? d.cli.log_level : UVP_LOG_INFO);

  int errs = build_config(&d);
  int status;
  if (d.cli.check) {
    dlog_set_level(d.cfg.log_level);
    warn_unsafe(&d.cfg);
    errs += uvpd_check_all(&d.cfg);
    status = errs ? UVPD_EXIT_FAILURE : UVPD_EXIT_OK;
  } else if (errs != 0) {
    dlog(UVP_LOG_ERROR, "not starting: %d problem(s) in the configuration",
         errs);
    status = UVPD_EXIT_CONFIG;
  } else {
    dlog_open(d.cfg.log_target, d.cfg.log_level);
    status = run(&d);
  }
  uvpd_instances_free(&d);
  uvpd_config_free(&d.cfg);
  uvpd_cli_free(&d.cli);
  fflush(stdout);
  dlog_close();
  return status;
}
