/* The libnats-to-loop hand-off (inbox.h).
 * Thread: as each function says; the ring is guarded by mu.
 */
#include "inbox.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

int nb_inbox_init(nb_inbox *q, size_t cap, const uvp_api *api,
                  uvp_remote *remote, uvp_post_cb drain, void *drain_arg) {
  q->ring = calloc(cap, sizeof *q->ring);
  if (q->ring == NULL) return UVP_ENOMEM;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&q->cv, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&q->mu, NULL);
  q->cap = cap;
  q->api = api;
  q->remote = remote;
  q->drain = drain;
  q->drain_arg = drain_arg;
  return 0;
}

/* Called with mu held: a drain must be queued. Returns whether this caller
 * has to post it (after unlocking). */
static bool claim_wake(nb_inbox *q) {
  if (q->wake_pending || q->closing) return false;
  q->wake_pending = true;
  return true;
}

static void post_wake(nb_inbox *q) {
  /* NONBLOCK: only one drain is ever queued, so the remote's bound is not
   * reached; a refusal (closed) leaves the messages to nb_inbox_free. */
  if (q->api->remote_post(q->remote, q->drain, q->drain_arg, NULL,
                          UVP_POST_NONBLOCK) < 0) {
    pthread_mutex_lock(&q->mu);
    q->wake_pending = false;
    pthread_mutex_unlock(&q->mu);
  }
}

void nb_inbox_push(nb_inbox *q, natsMsg *msg) {
  pthread_mutex_lock(&q->mu);
  while (q->n == q->cap && !q->closing) pthread_cond_wait(&q->cv, &q->mu);
  if (q->closing) {
    pthread_mutex_unlock(&q->mu);
    natsMsg_Destroy(msg);
    return;
  }
  q->ring[(q->head + q->n++) % q->cap] = msg;
  bool wake = claim_wake(q);
  pthread_mutex_unlock(&q->mu);
  if (wake) post_wake(q);
}

void nb_inbox_event(nb_inbox *q, uint32_t *(*which)(nb_events *)) {
  pthread_mutex_lock(&q->mu);
  ++*which(&q->ev);
  bool wake = claim_wake(q);
  pthread_mutex_unlock(&q->mu);
  if (wake) post_wake(q);
}

void nb_inbox_sub_done(nb_inbox *q) {
  pthread_mutex_lock(&q->mu);
  q->subs_done++;
  pthread_cond_broadcast(&q->cv);
  pthread_mutex_unlock(&q->mu);
}

void nb_inbox_conn_closed(nb_inbox *q) {
  pthread_mutex_lock(&q->mu);
  q->conn_closed = true;
  pthread_cond_broadcast(&q->cv);
  pthread_mutex_unlock(&q->mu);
}

size_t nb_inbox_take(nb_inbox *q, natsMsg **out, size_t max, nb_events *ev,
                     bool *more) {
  pthread_mutex_lock(&q->mu);
  size_t k = q->n < max ? q->n : max;
  for (size_t i = 0; i < k; i++) out[i] = q->ring[(q->head + i) % q->cap];
  q->head = (q->head + k) % q->cap;
  q->n -= k;
  *ev = q->ev;
  q->ev = (nb_events){0};
  *more = q->n != 0 && !q->closing;
  if (!*more) q->wake_pending = false; /* the next push posts again */
  if (k != 0) pthread_cond_broadcast(&q->cv);
  pthread_mutex_unlock(&q->mu);
  return k;
}

void nb_inbox_repost(nb_inbox *q) { post_wake(q); }

void nb_inbox_close(nb_inbox *q) {
  pthread_mutex_lock(&q->mu);
  q->closing = true;
  pthread_cond_broadcast(&q->cv);
  pthread_mutex_unlock(&q->mu);
}

int nb_inbox_wait_quiet(nb_inbox *q, uint32_t n, bool conn, int timeout_ms) {
  struct timespec dl;
  clock_gettime(CLOCK_MONOTONIC, &dl);
  dl.tv_sec += timeout_ms / 1000;
  dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (dl.tv_nsec >= 1000000000L) dl.tv_sec++, dl.tv_nsec -= 1000000000L;
  int rc = 0;
  pthread_mutex_lock(&q->mu);
  while (rc != ETIMEDOUT && (q->subs_done < n || (conn && !q->conn_closed)))
    rc = pthread_cond_timedwait(&q->cv, &q->mu, &dl);
  bool quiet = q->subs_done >= n && (!conn || q->conn_closed);
  pthread_mutex_unlock(&q->mu);
  return quiet ? 0 : -1;
}

void nb_inbox_free(nb_inbox *q) {
  for (size_t i = 0; i < q->n; i++)
    natsMsg_Destroy(q->ring[(q->head + i) % q->cap]);
  free(q->ring);
  pthread_cond_destroy(&q->cv);
  pthread_mutex_destroy(&q->mu);
}
