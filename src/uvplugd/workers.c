/* Worker loops: [host] workers = N runs N loops, each with its own host
 * and its own instances (placement.c says which). Worker 0 is the main
 * thread; workers 1..N-1 run on threads of their own.
 *
 *   main thread (worker 0)             worker k thread
 *   signals, metrics, notify           loop k, host k, watch timer k
 *     │ uvpd_worker_call(k, fn) ──async──► fn(k) on loop k
 *     │ ◄──────────────cond (done)──────── │
 *     │ ◄──ended async── thread exits when loop k is empty
 *
 * The main thread asks a worker anything (reload, stats, metrics, stop)
 * through one call slot: it posts fn with uv_async_send and waits on a
 * condition until fn ran on the worker's loop. Workers never wait for the
 * main thread, so a call cannot deadlock; a call waits while the worker
 * runs a long callback. Hosts share nothing, so a fault (quarantine,
 * restart on-fault) stays on its worker.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "metrics_text.h"

struct uvpd_worker {
  uv_thread_t thread;
  uv_async_t call; /* on the worker's loop */
  uv_mutex_t mu;   /* guards everything below */
  uv_cond_t cv;    /* a call finished, or start-up did */
  void (*fn)(uvpd *, void *);
  void *arg;
  int busy;                  /* a call is posted and has not finished */
  int started, start_status; /* the start-up report */
  int closed;                /* the call slot is gone: no more calls */
  int stop_posted;           /* the main thread asked it to stop */
  int stop_stats;            /* ... with the stats lines first */
  int ended;                 /* the thread is done with its loop */
  int thread_started;        /* main thread only: join it */
  int exit_status;
  uvpd *main; /* worker 0, whose ended async we send */
};

/* The process bus of shared_topics, before any host exists (scope is
 * fixed before hosts join). 0 or -1 (logged). */
static int make_bus(uvpd *d, const uvpd_config *c) {
  if (c->n_shared_topics == 0) return 0;
  uvp_bus_options o = UVP_BUS_OPTIONS_INIT;
  o.max_hosts = d->n_workers;
  o.max_payload = c->max_payload; /* 0: the bus's default, as the host's */
  int rc = uvp_bus_new(&o, &d->bus);
  for (size_t i = 0; rc == 0 && i < c->n_shared_topics; i++)
    if ((rc = uvp_bus_share(d->bus, c->shared_topics[i])) < 0)
      dlog(UVP_LOG_ERROR, "shared_topics: %s: %s", c->shared_topics[i],
           uvp_strerror(rc));
  if (rc < 0) dlog(UVP_LOG_ERROR, "process bus: %s", uvp_strerror(rc));
  return rc < 0 ? -1 : 0;
}

int uvpd_workers_setup(uvpd *d) {
  uint32_t n = d->cfg.workers ? d->cfg.workers : 1;
  d->n_workers = n;
  d->all = calloc(n, sizeof *d->all);
  if (d->all == NULL) return -1;
  d->all[0] = d;
  uvpd_config whole = d->cfg;
  int rc = make_bus(d, &whole);
  if (rc == 0) rc = uvpd_config_for_worker(&whole, 0, &d->cfg);
  for (uint32_t k = 1; rc == 0 && k < n; k++) {
    uvpd *w = calloc(1, sizeof *w);
    uvpd_worker *wk = calloc(1, sizeof *wk);
    d->all[k] = w;
    if (w == NULL || wk == NULL) {
      free(wk);
      return -1;
    }
    w->wk = wk;
    w->worker = k;
    w->n_workers = n;
    w->cli = d->cli; /* shared, read only; freed by worker 0 */
    w->bus = d->bus;
    wk->main = d;
    uv_mutex_init(&wk->mu);
    uv_cond_init(&wk->cv);
    wk->closed = wk->ended = wk->started = 1; /* until its thread runs */
    rc = uvpd_config_for_worker(&whole, k, &w->cfg);
  }
  uvpd_config_free(&whole);
  return rc;
}

/* ---- the call slot ---- */

static void worker_stop(uvpd *w, void *arg);

/* The worker's side of the slot: a waited-for call, then a posted stop. */
static void on_call(uv_async_t *a) {
  uvpd *w = a->data;
  uvpd_worker *wk = w->wk;
  uv_mutex_lock(&wk->mu);
  void (*fn)(uvpd *, void *) = wk->fn;
  void *arg = wk->arg;
  int stop = wk->stop_posted, stats = wk->stop_stats;
  uv_mutex_unlock(&wk->mu);
  if (fn != NULL) {
    fn(w, arg);
    uv_mutex_lock(&wk->mu);
    wk->fn = NULL;
    wk->busy = 0;
    uv_cond_broadcast(&wk->cv);
    uv_mutex_unlock(&wk->mu);
  }
  if (stop) worker_stop(w, &stats);
}

void uvpd_worker_call(uvpd *w, void (*fn)(uvpd *, void *), void *arg) {
  uvpd_worker *wk = w->wk;
  if (wk == NULL) { /* worker 0: we are on its thread */
    fn(w, arg);
    return;
  }
  uv_mutex_lock(&wk->mu);
  if (wk->closed || wk->stop_posted) {
    uv_mutex_unlock(&wk->mu);
    return;
  }
  wk->fn = fn;
  wk->arg = arg;
  wk->busy = 1;
  uv_async_send(&wk->call);
  while (wk->busy) uv_cond_wait(&wk->cv, &wk->mu);
  uv_mutex_unlock(&wk->mu);
}

/* ---- a worker thread ---- */

static void report_start(uvpd *w, int status, int closed) {
  uv_mutex_lock(&w->wk->mu);
  w->wk->started = 1;
  w->wk->start_status = status;
  w->wk->closed = closed;
  uv_cond_broadcast(&w->wk->cv);
  uv_mutex_unlock(&w->wk->mu);
}

/* Host, instances and the watch timer; 0 or an exit code. */
static int worker_load(uvpd *w) {
  if (uvpd_new_host(w) != 0) return UVPD_EXIT_FAILURE;
  if (uvpd_instances_from_config(w) != 0) return UVPD_EXIT_FAILURE;
  if (uvpd_watch_start(w) != 0) return UVPD_EXIT_FAILURE;
  if (w->cfg.metrics_listen != NULL && w->cfg.metrics_listen[0] != '\0')
    (void)uv_loop_configure(&w->loop, UV_METRICS_IDLE_TIME);
  return uvpd_load_all(w);
}

static void worker_thread(void *arg) {
  uvpd *w = arg;
  uvpd_worker *wk = w->wk;
  dlog_set_worker((int)w->worker);
  if (uv_loop_init(&w->loop) != 0) {
    report_start(w, UVPD_EXIT_FAILURE, 1);
  } else if (uv_async_init(&w->loop, &wk->call, on_call) != 0) {
    uv_loop_close(&w->loop);
    report_start(w, UVPD_EXIT_FAILURE, 1);
  } else {
    wk->call.data = w;
    /* the loop runs even after a failed load: the stop call closes it */
    report_start(w, worker_load(w), 0);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    wk->exit_status = uv_loop_close(&w->loop) != 0 || !w->host_closed;
    if (wk->exit_status)
      dlog(UVP_LOG_ERROR, "worker %u: its loop did not close cleanly",
           w->worker);
  }
  /* Sent under the lock: once the main thread sees ended, the send is
   * done, so it may close its handle. */
  uv_mutex_lock(&wk->mu);
  wk->ended = 1;
  uv_async_send(&wk->main->ended);
  uv_mutex_unlock(&wk->mu);
}

int uvpd_workers_start(uvpd *d) {
  for (uint32_t k = 1; k < d->n_workers; k++) {
    uvpd *w = d->all[k];
    w->wk->closed = w->wk->ended = w->wk->started = 0;
    int rc = uv_thread_create(&w->wk->thread, worker_thread, w);
    w->wk->thread_started = rc == 0;
    if (rc != 0) {
      dlog(UVP_LOG_ERROR, "worker %u: thread: %s", k, uv_strerror(rc));
      report_start(w, UVPD_EXIT_FAILURE, 1);
      w->wk->ended = 1;
    }
  }
  return 0;
}

int uvpd_workers_wait_started(uvpd *d) {
  int status = 0;
  for (uint32_t k = 1; k < d->n_workers; k++) {
    uvpd_worker *wk = d->all[k]->wk;
    uv_mutex_lock(&wk->mu);
    while (!wk->started) uv_cond_wait(&wk->cv, &wk->mu);
    if (status == 0) status = wk->start_status;
    uv_mutex_unlock(&wk->mu);
  }
  return status;
}

/* ---- stop ---- */

static void on_worker_host_closed(void *data) {
  uvpd *w = data;
  w->host = NULL;
  w->host_closed = 1;
  dlog(UVP_LOG_INFO, "worker %u stopped", w->worker);
  uv_close((uv_handle_t *)&w->wk->call, NULL);
}

/* On the worker: close the watch timer and the host; the call slot closes
 * once the host did, and the loop then ends. Runs once. */
static void worker_stop(uvpd *w, void *arg) {
  if (w->stopping) return;
  w->stopping = 1;
  if (!uv_is_closing((uv_handle_t *)&w->watch_timer) &&
      w->watch_timer.loop != NULL)
    uv_close((uv_handle_t *)&w->watch_timer, NULL);
  uv_mutex_lock(&w->wk->mu);
  w->wk->closed = 1; /* this call is the last */
  uv_mutex_unlock(&w->wk->mu);
  if (w->host != NULL && *(int *)arg) uvpd_stats_log(w);
  int rc = w->host ? uvp_host_close(w->host, on_worker_host_closed, w) : -1;
  if (rc < 0) {
    if (w->host != NULL)
      dlog(UVP_LOG_ERROR, "uvp_host_close: %s", uvp_strerror(rc));
    w->host = NULL;
    w->host_closed = 1;
    uv_close((uv_handle_t *)&w->wk->call, NULL);
  }
}

/* Posted, not waited for: the workers stop at once, in parallel, and the
 * main loop keeps serving a second SIGTERM while they do. */
void uvpd_workers_stop(uvpd *d, int want_stats) {
  for (uint32_t k = 1; k < d->n_workers; k++) {
    uvpd_worker *wk = d->all[k]->wk;
    uv_mutex_lock(&wk->mu);
    int post = !wk->closed && !wk->stop_posted;
    wk->stop_posted = 1;
    wk->stop_stats = want_stats;
    uv_mutex_unlock(&wk->mu);
    if (post) uv_async_send(&wk->call);
  }
}

int uvpd_workers_ended(const uvpd *d) {
  int all = 1;
  for (uint32_t k = 1; d->all != NULL && k < d->n_workers; k++) {
    uvpd_worker *wk = d->all[k]->wk;
    uv_mutex_lock(&wk->mu);
    all &= wk->ended;
    uv_mutex_unlock(&wk->mu);
  }
  return all;
}

int uvpd_workers_join(uvpd *d) {
  int status = 0;
  for (uint32_t k = 1; d->all != NULL && k < d->n_workers; k++) {
    uvpd *w = d->all[k];
    if (w == NULL || w->wk == NULL) {
      free(w);
      continue;
    }
    if (w->wk->thread_started) uv_thread_join(&w->wk->thread);
    if (w->wk->exit_status != 0) status = UVPD_EXIT_FAILURE;
    uv_cond_destroy(&w->wk->cv);
    uv_mutex_destroy(&w->wk->mu);
    uvpd_instances_free(w);
    uvpd_config_free(&w->cfg);
    free(w->wk);
    free(w);
  }
  free(d->all);
  d->all = NULL;
  /* every host left the bus at its close; one that did not close (an
   * error was logged) may still point at it: then it is not freed */
  if (d->host == NULL && status == 0) uvp_bus_free(d->bus);
  d->bus = NULL;
  return status;
}

/* ---- reload, stats, counts ---- */

typedef struct reload_call {
  const uvpd_config *whole;
  int rc;
} reload_call;

static void worker_reload(uvpd *w, void *arg) {
  reload_call *rc = arg;
  uvpd_config mine;
  if (uvpd_config_for_worker(rc->whole, w->worker, &mine) != 0) {
    uvpd_config_free(&mine);
    dlog(UVP_LOG_ERROR, "reload rejected: out of memory");
    rc->rc = -1;
    return;
  }
  rc->rc = uvpd_reload_apply(w, &mine);
}

int uvpd_reload_all(uvpd *d) {
  if (d->cfg.file == NULL) {
    dlog(UVP_LOG_WARN, "SIGHUP: no config file (-c); nothing to reload");
    return 0;
  }
  uvpd_config whole;
  if (uvpd_reload_parse(d, &whole) != 0) {
    d->view.reloads_failed++;
    return -1;
  }
  if (whole.workers != d->n_workers)
    dlog(UVP_LOG_WARN,
         "reload: workers = %u takes effect at the next start; placements "
         "on workers from %u on are ignored until then",
         whole.workers, d->n_workers);
  int bad = 0;
  for (uint32_t k = 0; k < d->n_workers; k++) {
    reload_call rc = {.whole = &whole, .rc = -1};
    uvpd_worker_call(d->all[k], worker_reload, &rc);
    bad += rc.rc != 0;
  }
  uvpd_config_free(&whole);
  if (bad)
    d->view.reloads_failed++;
  else
    d->view.reloads_ok++;
  return bad ? -1 : 0;
}

static void worker_stats(uvpd *w, void *arg) {
  (void)arg;
  if (w->host != NULL && !w->stopping) uvpd_stats_log(w);
}

void uvpd_stats_all(uvpd *d) {
  for (uint32_t k = 0; k < d->n_workers; k++)
    uvpd_worker_call(d->all[k], worker_stats, NULL);
}

typedef struct count_call {
  size_t running, total;
} count_call;

static void worker_count(uvpd *w, void *arg) {
  count_call *c = arg;
  for (size_t i = 0; i < w->n_inst; i++) c->running += w->inst[i].loaded;
  c->total += w->n_inst;
}

void uvpd_workers_count(uvpd *d, size_t *running, size_t *total) {
  count_call c = {0, 0};
  if (d->all == NULL) {
    worker_count(d, &c);
  } else {
    for (uint32_t k = 0; k < d->n_workers; k++)
      uvpd_worker_call(d->all[k], worker_count, &c);
  }
  *running = c.running;
  *total = c.total;
}

/* ---- metrics ---- */

typedef struct render_call {
  char *buf;
  size_t len;
  int rc;
} render_call;

static void worker_render(uvpd *w, void *arg) {
  render_call *r = arg;
  r->rc = w->host == NULL ? UVP_ECLOSED
                          : uvpd_metrics_render(w->host, &w->loop, &w->view,
                                                &r->buf, &r->len);
}

int uvpd_workers_render(void *data, char **out_buf, size_t *out_len) {
  uvpd *d = data;
  uint32_t n = d->n_workers;
  char **text = calloc(n, sizeof *text);
  size_t *len = calloc(n, sizeof *len);
  int rc = text && len ? 0 : UVP_ENOMEM;
  for (uint32_t k = 0; rc == 0 && k < n; k++) {
    render_call r = {NULL, 0, UVP_ECLOSED};
    uvpd_worker_call(d->all[k], worker_render, &r);
    if (r.rc == 0) {
      text[k] = r.buf;
      len[k] = r.len;
    } else if (k == 0) {
      rc = r.rc; /* a stopped worker k > 0 shows no series */
    }
  }
  if (rc == 0) rc = uvpd_metrics_merge(text, len, n, out_buf, out_len);
  for (uint32_t k = 0; text != NULL && k < n; k++) free(text[k]);
  free(text);
  free(len);
  return rc;
}
