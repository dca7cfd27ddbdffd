/* uvplugd's shared types: the parsed config, the running instances and the
 * daemon state, and the functions each file of src/uvplugd/ offers the
 * others. One concept per file:
 *
 *   cli.c      command line          config.c   INI file (libinih)
 *   dlog.c     the daemon's log      check.c    --check, in child processes
 *   instance.c load/unload one       reload.c   SIGHUP: apply a new config
 *   restart.c  restart on-fault      stats.c    SIGUSR1 stats lines
 *   main.c     start-up, signals, shutdown
 *   placement.c  worker keys, which instances a worker runs
 *   workers.c    worker threads, the call slot, reload/stats/stop/metrics
 *                across workers
 *   metrics_workers.c  merge of the workers' expositions
 *
 * Thread rule: each worker's state (its uvpd: loop, host, instances) is
 * used on that worker's thread only, which owns its host (T3); worker 0
 * is the main thread. The main thread reaches another worker only through
 * uvpd_worker_call (contract M5).
 */
#ifndef UVPLUGD_DAEMON_H
#define UVPLUGD_DAEMON_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include <uvplug/uvplug.h>

#include "metrics.h"

/* Exit codes (docs/uvplugd.md "Exit codes"). */
enum {
  UVPD_EXIT_OK = 0,      /* clean stop; --check found no problem */
  UVPD_EXIT_FAILURE = 1, /* --check found problems; a runtime failure */
  UVPD_EXIT_USAGE = 2,   /* bad command line */
  UVPD_EXIT_CONFIG = 3,  /* the config file cannot be read or is invalid */
  UVPD_EXIT_LOAD = 4,    /* a plugin failed to load at start-up (refuse) */
  UVPD_EXIT_FORCED = 5   /* a second SIGTERM/SIGINT cut the shutdown short */
};

enum { UVPD_TARGET_STDERR = 0, UVPD_TARGET_SYSLOG = 1 };
enum { UVPD_ON_FAIL_REFUSE = 0, UVPD_ON_FAIL_SKIP = 1 };
enum { UVPD_RESTART_NEVER = 0, UVPD_RESTART_ON_FAULT = 1 };

/* One [plugin NAME] section (or --plugin argument). Strings are owned. */
typedef struct uvpd_plugin_conf {
  char *name;       /* instance name; NULL: the descriptor's (CLI only) */
  char *path;       /* as written */
  char *resolved;   /* path the loader opens: relative ones joined to
                       plugin_dir */
  char *config;     /* never NULL */
  int fault_policy; /* uvp_fault_policy; UVP_FAULT_DEFAULT: the host's */
  int enabled;
  int has_sha256;
  uint8_t sha256[32];
  uint32_t remote_limit;
  int from_cli;     /* relative paths with a '/' stay relative to the cwd */
  unsigned line;    /* line of its section header; 0 from the command line */
  uint32_t worker;  /* placement: the worker it runs on (0-based) */
  int replicas_all; /* replicas = all: one instance on every worker */
  unsigned worker_line; /* line of its worker key, 0 if none */
} uvpd_plugin_conf;

/* The whole config: [host] keys, then the plugins in file order. */
typedef struct uvpd_config {
  char *file;                                  /* NULL: no -c */
  uint32_t queue_capacity, max_payload, batch; /* 0: library default */
  int fault_policy;
  char *plugin_dir;
  int log_level;
  int log_target;
  char *metrics_listen; /* "" : off */
  int metrics_public;
  int on_load_failure;
  int restart;
  uint32_t restart_max_per_min;
  int unsafe_loading;
  uint32_t slow_callback_ms;
  uint32_t workers;     /* worker loops (threads); >= 1 */
  char **shared_topics; /* process-scope topics (placement.c) */
  size_t n_shared_topics;
  uvpd_plugin_conf *plugins;
  size_t n_plugins;
} uvpd_config;

/* The command line (cli.c). */
typedef struct uvpd_cli {
  const char *config_file;
  const char *plugin_dir; /* --plugin-dir, overrides the file's */
  int log_level;          /* -1: not given */
  int check;
  uint64_t run_ms; /* --run-ms; 0: until a signal */
  char **plugins;  /* --plugin and positional SPECs, in order */
  int n_plugins;
} uvpd_cli;

/* Per instance restart bookkeeping (restart.c). */
typedef struct uvpd_restart {
  uint64_t due_ms;     /* loop time of the next attempt; 0: none due */
  uint64_t backoff_ms; /* next delay */
  uint64_t recent[16]; /* loop times of the last restarts, for the rate */
  unsigned n_recent;
  int gave_up;
} uvpd_restart;

/* One configured instance and what the daemon knows of it. */
typedef struct uvpd_instance {
  uvpd_plugin_conf conf;
  uint8_t file_hash[32]; /* SHA-256 of the file when it was loaded */
  int loaded;            /* in the host as far as we know */
  const char *status;    /* "running", "failed", "disabled", "quarantined" */
  uint64_t restarts;
  uvpd_restart rs;
} uvpd_instance;

/* A worker's thread, call slot and start report (workers.c). */
typedef struct uvpd_worker uvpd_worker;

/* One worker loop: its loop, host and instances. Worker 0 is the main
 * thread, which also owns the signals, the metrics endpoint and the
 * notify socket; workers 1..N-1 run on threads of their own. */
typedef struct uvpd {
  uv_loop_t loop;
  uvp_host *host;
  uvpd_cli cli;
  uvpd_config cfg;
  uvpd_instance *inst;
  size_t n_inst;
  uvpd_instance_status *status; /* parallel to inst, for the metrics view */
  uvpd_daemon_view view;
  uvpd_metrics *metrics;
  uv_signal_t sigint, sigterm, sighup, sigusr1;
  uv_timer_t run_timer;
  uv_timer_t watch_timer; /* quarantine watch and restarts */
  int stopping;
  int host_closed;
  uint32_t worker;    /* this loop's number; 0: the main thread */
  uint32_t n_workers; /* on every worker: how many there are */
  uvpd_worker *wk;    /* worker > 0: its thread and call slot */
  struct uvpd **all;  /* worker 0 only: every worker, all[0] = itself */
  uv_async_t ended;   /* worker 0 only: a worker thread finished */
  uvp_bus *bus;       /* shared_topics: every worker's host joins it;
                         owned by worker 0, freed after every host closed */
} uvpd;

/* ---- dlog.c ---- */
/* A message longer than UVPD_LOG_MAX bytes after escaping keeps its first
 * UVPD_LOG_HEAD and last UVPD_LOG_TAIL bytes around a marker. */
#define UVPD_LOG_MAX 1024
#define UVPD_LOG_HEAD 640
#define UVPD_LOG_TAIL 320
#define UVPD_LOG_IN_MAX 16384 /* input bytes considered at all */
void dlog_open(int target, int level);
void dlog_set_level(int level);
/* Tag this thread's lines with worker k ("uvplugd@w1"); -1: no tag. */
void dlog_set_worker(int k);
int dlog_level(void);
void dlog_close(void);
/* A line from the daemon itself. */
void dlog(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A line on behalf of an instance (the host's log hook). */
void dlog_plugin(int level, const char *plugin, const char *msg, size_t len);
/* The uvp_log_fn the host calls. */
void dlog_hook(void *data, int level, const char *plugin, const char *msg,
               size_t len);
/* Parse "error|warn|info|debug"; -1 if none. */
int dlog_parse_level(const char *s);
const char *dlog_level_str(int level);

/* ---- cli.c ---- */
/* Returns -1 to go on, or an exit code (after --help/--version/errors). */
int uvpd_cli_parse(int argc, char **argv, uvpd_cli *out);
void uvpd_cli_free(uvpd_cli *cli);

/* ---- config.c ---- */
void uvpd_config_defaults(uvpd_config *cfg);
/* Parse path into cfg (defaults first). Every problem is logged as
 * "FILE:LINE: what was expected"; returns the number of problems (0: ok). */
int uvpd_config_load(const char *path, uvpd_config *cfg);
/* Parse a PATH[:NAME[:CONFIG]] argument and append it. 0 or -1 (logged). */
int uvpd_config_add_spec(uvpd_config *cfg, const char *spec);
/* Fill every plugin's resolved path from plugin_dir. */
int uvpd_config_resolve(uvpd_config *cfg);
void uvpd_config_free(uvpd_config *cfg);
void uvpd_plugin_conf_free(uvpd_plugin_conf *pc);
int uvpd_plugin_conf_copy(uvpd_plugin_conf *dst, const uvpd_plugin_conf *src);
/* Same file, path, config and options (not the file's content). */
int uvpd_plugin_conf_same(const uvpd_plugin_conf *a, const uvpd_plugin_conf *b);
/* SHA-256 of a file's content; 0 or -errno. */
int uvpd_hash_file(const char *path, uint8_t out[32]);
/* Load options of one plugin under cfg. */
uvp_load_options uvpd_load_options(const uvpd_config *cfg,
                                   const uvpd_plugin_conf *pc);

/* 64 hexadecimal digits into 32 bytes; 0, or -1 for anything else. */
int uvpd_parse_sha256(const char *v, uint8_t out[32]);

/* ---- placement.c ---- */
#define UVPD_WORKERS_MAX 64
/* Value parsers of the worker keys: NULL, or what was expected. */
const char *uvpd_parse_workers(const char *v, uint32_t *out);
const char *uvpd_parse_worker(const char *v, uint32_t *out);
const char *uvpd_parse_replicas(const char *v, int *out);
const char *uvpd_parse_shared_topics(const char *v, uvpd_config *c);
/* Placements against [host] workers; returns the problems (logged). */
int uvpd_placement_check(const uvpd_config *c);
void uvpd_placement_free(uvpd_config *c);
int uvpd_placement_copy_topics(uvpd_config *dst, const uvpd_config *src);
/* Nonzero when a and b share the same topics, in the same order. */
int uvpd_topics_same(const uvpd_config *a, const uvpd_config *b);
/* Nonzero when an instance of pc runs on worker. */
int uvpd_placed_on(const uvpd_plugin_conf *pc, uint32_t worker);
/* Worker k's share of all: [host] keys copied, its plugins copied. */
int uvpd_config_for_worker(const uvpd_config *all, uint32_t k,
                           uvpd_config *out);

/* ---- check.c ---- */
/* Open, verify and load pc in a new process (uvplugd itself, spawned with
 * --check-one) with its own host. Returns 0, or -1 with a reason in why. */
int uvpd_check_plugin(const uvpd_config *cfg, const uvpd_plugin_conf *pc,
                      char *why, size_t whylen);
/* The spawned side: `uvplugd --check-one ARGS`; returns the exit code. */
int uvpd_check_one_main(int argc, char **argv);
/* --check: every plugin of cfg; prints each problem; returns an exit code. */
int uvpd_check_all(const uvpd_config *cfg);

/* ---- instance.c ---- */
/* Load (or reload when reload is nonzero) one instance; logs why not. */
int uvpd_instance_load(uvpd *d, uvpd_instance *in, int reload);
int uvpd_instance_unload(uvpd *d, uvpd_instance *in);
/* Rebuild the metrics view after inst changed. */
int uvpd_view_sync(uvpd *d);
/* Take over cfg->plugins as instances (start-up). */
int uvpd_instances_from_config(uvpd *d);
void uvpd_instances_free(uvpd *d);
/* STATUS= to systemd: "WHAT: N of M instances running". */
void uvpd_status_notify(uvpd *d, const char *what);

/* ---- reload.c ---- */
/* Read the config file again into nc (with the command-line overrides):
 * 0, or -1 when it has errors (logged; nc freed). Main thread. */
int uvpd_reload_parse(uvpd *d, uvpd_config *nc);
/* Apply nc (this worker's share) on d's thread; takes nc. 0 when applied,
 * -1 when rejected (the running set stays). */
int uvpd_reload_apply(uvpd *d, uvpd_config *nc);

/* ---- main.c ---- */
int uvpd_new_host(uvpd *d);
/* Load every enabled instance; returns 0 or UVPD_EXIT_LOAD. */
int uvpd_load_all(uvpd *d);

/* ---- workers.c ---- */
/* Split d->cfg (the whole config) into one config per worker and make the
 * worker states; d becomes worker 0. 0 or -1. Main thread, before run. */
int uvpd_workers_setup(uvpd *d);
/* Start workers 1..N-1; each loads its instances on its thread. */
int uvpd_workers_start(uvpd *d);
/* Wait for every worker's start-up: 0, or its exit code. */
int uvpd_workers_wait_started(uvpd *d);
/* Run fn(w, arg) on worker w's thread and wait for it. */
void uvpd_worker_call(uvpd *w, void (*fn)(uvpd *, void *), void *arg);
/* SIGHUP on every worker: 0 when all applied it, -1 otherwise. */
int uvpd_reload_all(uvpd *d);
/* SIGUSR1: stats lines of every worker. */
void uvpd_stats_all(uvpd *d);
/* Begin the stop of workers 1..N-1 (their hosts close on their loops). */
void uvpd_workers_stop(uvpd *d, int want_stats);
/* Nonzero when every worker thread has finished its loop. */
int uvpd_workers_ended(const uvpd *d);
/* Join the threads, free the worker states: 0 or UVPD_EXIT_FAILURE. */
int uvpd_workers_join(uvpd *d);
/* Instances running and configured, summed over the workers. */
void uvpd_workers_count(uvpd *d, size_t *running, size_t *total);
/* The /metrics body of every worker, labelled and merged. */
int uvpd_workers_render(void *data, char **out_buf, size_t *out_len);

/* ---- metrics_workers.c ---- */
/* Merge the expositions text[0..n) of n workers: every sample gets a
 * worker="k" label, except the process-wide families, taken from text[0]
 * as they are; each family appears once, in text[0]'s order. */
int uvpd_metrics_merge(char *const *text, const size_t *len, size_t n,
                       char **out_buf, size_t *out_len);

/* ---- restart.c ---- */
int uvpd_watch_start(uvpd *d);
void uvpd_watch_tick(uvpd *d);

/* ---- stats.c ---- */
void uvpd_stats_log(uvpd *d);

#endif /* UVPLUGD_DAEMON_H */
