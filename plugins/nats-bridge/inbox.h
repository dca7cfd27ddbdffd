/* The hand-off from libnats's threads to the loop thread.
 *
 * libnats delivers messages and connection events on its own threads; a
 * plugin may touch the host only from its loop thread (T1, T5). The
 * inbox is a bounded ring of natsMsg pointers under a mutex: a libnats
 * thread appends and, when no drain is queued yet, posts one (remote_post,
 * R1-R6); the drain takes up to `batch` messages per loop callback and
 * posts itself again while more wait. One post per batch, not per message.
 *
 * A full ring blocks the libnats delivery thread (backpressure into
 * libnats's pending bound, whose overflow the receiver sees as a sequence
 * gap and counts as dropped). Closing wakes every blocked thread; what it
 * then holds is destroyed, not delivered.
 */
#ifndef NB_INBOX_H
#define NB_INBOX_H

#include <nats/nats.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <uvplug/plugin.h>

/* Connection events since the last take. */
typedef struct nb_events {
  uint32_t connected, disconnected, reconnected;
} nb_events;

typedef struct nb_inbox {
  pthread_mutex_t mu;
  pthread_cond_t cv; /* space freed, a subscription completed, closed */
  natsMsg **ring;
  size_t cap, head, n;
  bool closing;      /* unload began: pushes destroy their message */
  bool wake_pending; /* a drain post is queued or running */
  nb_events ev;
  uint32_t subs_done; /* subscriptions whose handler finished for good */
  bool conn_closed;   /* libnats's closed callback ran */
  const uvp_api *api;
  uvp_remote *remote;
  uvp_post_cb drain;
  void *drain_arg;
} nb_inbox;

/* Loop thread. Returns 0 or UVP_ENOMEM. */
int nb_inbox_init(nb_inbox *q, size_t cap, const uvp_api *api,
                  uvp_remote *remote, uvp_post_cb drain, void *drain_arg);

/* libnats threads: hand over msg (always consumed). */
void nb_inbox_push(nb_inbox *q, natsMsg *msg);
/* libnats threads: count a connection event and wake the loop. */
void nb_inbox_event(nb_inbox *q, uint32_t *(*which)(nb_events *));
/* libnats threads: a subscription's handler will not run again / the
 * connection is closed. */
void nb_inbox_sub_done(nb_inbox *q);
void nb_inbox_conn_closed(nb_inbox *q);

/* Loop thread: takes up to max messages into out and the pending events
 * into ev. Returns the count; *more tells whether messages remain (the
 * caller then posts the drain again with nb_inbox_repost). */
size_t nb_inbox_take(nb_inbox *q, natsMsg **out, size_t max, nb_events *ev,
                     bool *more);
void nb_inbox_repost(nb_inbox *q);

/* Loop thread, at unload: refuse further pushes and wake blocked ones. */
void nb_inbox_close(nb_inbox *q);
/* Loop thread: wait until n subscriptions completed and, if conn, the
 * connection closed, at most timeout_ms. Returns 0 or -1 (timed out). */
int nb_inbox_wait_quiet(nb_inbox *q, uint32_t n, bool conn, int timeout_ms);
/* Loop thread, last: destroys what is left. */
void nb_inbox_free(nb_inbox *q);

#endif
