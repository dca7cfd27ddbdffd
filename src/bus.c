/* The process bus: topics shared across hosts on different loops (X1-X7).
 *
 *   host A (loop thread A) ─ publish on a shared topic ─► A's own queue
 *        │                                               (as always)
 *        └─► one SPSC ring per (sender, receiver) pair ──► host B's loop:
 *            a copy per receiver, wake-up only if B        on_async pops,
 *            may sleep (the channel's waker)               delivers to B's
 *                                                          subscribers only
 *
 * A sender is one loop thread, so each ring has one producer and one
 * consumer: a push is plain stores and one release, no lock and no CAS. A
 * sender checks room in every receiving ring before it delivers anything,
 * and room only grows until it pushes, so a publish is refused whole
 * (UVP_EAGAIN) or delivered everywhere (X3). Receivers never forward what
 * they got (X2), so no event goes round in circles.
 *
 * The bus owns every ring and member record, so a host that closes only
 * leaves (X6): it stops receiving, frees what is queued to it, and senders
 * skip it from then on; what a sender pushed in the meantime is freed by
 * uvp_bus_free. The member lock keeps a receiver's async handle alive while
 * a sender wakes it.
 * Thread: uvp_bus_new, _share, _free on any thread (see uvplug.h); the
 * uvp__bus_* functions on the calling host's loop thread.
 */
#include <string.h>

#include "channel.h"
#include "uvp-internal.h"

#define BUS_MAX_HOSTS 256
#define BUS_DEFAULT_HOSTS 64
#define BUS_DEFAULT_CAPACITY 1024
#define BUS_DEFAULT_PAYLOAD (1u << 20)
#define BUS_MAX_TOPICS 65536

typedef struct bus_member {
  uvp__waker wake;               /* the receiver's: may its loop sleep? */
  _Alignas(64) atomic_bool open; /* false once the host left */
  uv_mutex_t lock;               /* guards async */
  uv_async_t *async;             /* the host's; NULL once it left */
  uvp_topic *topics;             /* shared index -> the host's topic id */
} bus_member;

/* Per sender, per receiver: the plan of one publish (see plan). */
struct uvp__bus_out {
  void *copy; /* the receiver's payload copy, until pushed */
  bool to;    /* the receiver gets this publish */
};

struct uvp_bus {
  uvp_allocator alloc;
  uint32_t max_hosts, capacity, max_payload;
  uv_mutex_t lock; /* joins and shares */
  char **names;    /* shared topic names, in declaration order */
  uint32_t nnames, names_cap;
  bool joined;          /* lock: a host joined; scope is fixed */
  atomic_uint nmembers; /* published after a member is ready */
  bus_member *members;  /* [max_hosts] */
  uvp__spsc **rings;    /* [sender * max_hosts + receiver] */
};

static uvp__spsc *ring_of(const uvp_bus *bus, uint32_t from, uint32_t to) {
  return bus->rings[(size_t)from * bus->max_hosts + to];
}

/* ---- the bus itself (any thread) -------------------------------------- */

static int bus_options(const uvp_bus_options *o, uvp_bus *bus) {
  uvp_bus_options d = UVP_BUS_OPTIONS_INIT;
  if (o == NULL) o = &d;
  if (o->size < offsetof(uvp_bus_options, allocator) ||
      (o->size > offsetof(uvp_bus_options, allocator) &&
       o->size < offsetof(uvp_bus_options, allocator) + sizeof(void *)))
    return UVP_EINVAL; /* F3 */
  if (o->max_hosts > BUS_MAX_HOSTS) return UVP_EINVAL;
  const uvp_allocator *a = NULL;
  if (o->size >= offsetof(uvp_bus_options, allocator) + sizeof(void *))
    a = o->allocator;
  if (uvp__allocator_copy(a, &bus->alloc) < 0) return UVP_EINVAL;
  bus->max_hosts = o->max_hosts ? o->max_hosts : BUS_DEFAULT_HOSTS;
  bus->capacity = o->capacity ? o->capacity : BUS_DEFAULT_CAPACITY;
  bus->max_payload = o->max_payload ? o->max_payload : BUS_DEFAULT_PAYLOAD;
  return 0;
}

int uvp_bus_new(const uvp_bus_options *options, uvp_bus **out_bus) {
  uvp_bus tmp;
  memset(&tmp, 0, sizeof tmp);
  if (out_bus == NULL) return UVP_EINVAL;
  int rc = bus_options(options, &tmp);
  if (rc < 0) return rc;
  const uvp_allocator *a = &tmp.alloc;
  uvp_bus *bus = uvp__calloc(a, 1, sizeof *bus);
  if (bus == NULL) return UVP_ENOMEM;
  *bus = tmp;
  size_t n = bus->max_hosts;
  bus->members = uvp__calloc(a, n, sizeof *bus->members);
  bus->rings = uvp__calloc(a, n * n, sizeof *bus->rings);
  if (bus->members == NULL || bus->rings == NULL ||
      uv_mutex_init(&bus->lock) != 0) {
    uvp__free(a, bus->rings);
    uvp__free(a, bus->members);
    uvp__free(a, bus);
    return UVP_ENOMEM;
  }
  atomic_init(&bus->nmembers, 0);
  *out_bus = bus;
  return 0;
}

static bool shared_already(const uvp_bus *bus, const char *name) {
  for (uint32_t i = 0; i < bus->nnames; i++)
    if (strcmp(bus->names[i], name) == 0) return true;
  return false;
}

static int add_name(uvp_bus *bus, const char *name) {
  if (shared_already(bus, name)) return 0;
  if (bus->nnames == BUS_MAX_TOPICS) return UVP_ENOSPC;
  if (bus->nnames == bus->names_cap) {
    uint32_t cap = bus->names_cap ? bus->names_cap * 2 : 8;
    char **names =
        uvp__realloc(&bus->alloc, bus->names, cap * sizeof *bus->names);
    if (names == NULL) return UVP_ENOMEM;
    bus->names = names;
    bus->names_cap = cap;
  }
  char *copy = uvp__strdup(&bus->alloc, name);
  if (copy == NULL) return UVP_ENOMEM;
  bus->names[bus->nnames++] = copy;
  return 0;
}

int uvp_bus_share(uvp_bus *bus, const char *topic_name) {
  if (bus == NULL || topic_name == NULL) return UVP_EINVAL;
  int rc = uvp__topic_check(topic_name, strlen(topic_name));
  if (rc < 0) return rc;
  uv_mutex_lock(&bus->lock);
  rc = bus->joined ? UVP_EBUSY : add_name(bus, topic_name); /* X1 */
  uv_mutex_unlock(&bus->lock);
  return rc;
}

/* Frees the cells still queued in a ring (their payload copies). Returns
 * how many there were. */
static uint64_t ring_discard(uvp_bus *bus, uvp__spsc *q) {
  uvp__cell c;
  uint64_t n = 0;
  while (uvp__spsc_pop(q, &c)) {
    if (c.kind == UVP__CELL_PUB_COPY) uvp__free(&bus->alloc, c.u.data);
    n++;
  }
  return n;
}

void uvp_bus_free(uvp_bus *bus) {
  if (bus == NULL) return;
  uvp_allocator a = bus->alloc; /* bus is one of its blocks */
  uint32_t n = atomic_load(&bus->nmembers);
  for (uint32_t i = 0; i < n; i++) {
    for (uint32_t k = 0; k < n; k++) {
      uvp__spsc *q = ring_of(bus, i, k);
      if (q == NULL) continue;
      ring_discard(bus, q); /* X6: sent to a host that had left */
      uvp__spsc_free(q, &a);
      uvp__free(&a, q);
    }
    uv_mutex_destroy(&bus->members[i].lock);
    uvp__free(&a, bus->members[i].topics);
  }
  for (uint32_t i = 0; i < bus->nnames; i++) uvp__free(&a, bus->names[i]);
  uvp__free(&a, bus->names);
  uv_mutex_destroy(&bus->lock);
  uvp__free(&a, bus->rings);
  uvp__free(&a, bus->members);
  uvp__free(&a, bus);
}

/* ---- joining (the host's loop thread, under the bus lock) ------------- */

/* Rings between the new member `me` and each earlier one, both ways. */
static int add_rings(uvp_bus *bus, uint32_t me) {
  for (uint32_t i = 0; i < me; i++) {
    for (int dir = 0; dir < 2; dir++) {
      uvp__spsc **slot = &bus->rings[dir ? (size_t)me * bus->max_hosts + i
                                         : (size_t)i * bus->max_hosts + me];
      uvp__spsc *q = uvp__calloc(&bus->alloc, 1, sizeof *q);
      if (q == NULL || uvp__spsc_init(q, &bus->alloc, bus->capacity) < 0) {
        uvp__free(&bus->alloc, q);
        return UVP_ENOMEM;
      }
      *slot = q;
    }
  }
  return 0;
}

static void drop_rings(uvp_bus *bus, uint32_t me) {
  for (uint32_t i = 0; i < me; i++) {
    uvp__spsc **pair[2] = {&bus->rings[(size_t)i * bus->max_hosts + me],
                           &bus->rings[(size_t)me * bus->max_hosts + i]};
    for (int dir = 0; dir < 2; dir++) {
      if (*pair[dir] == NULL) continue;
      uvp__spsc_free(*pair[dir], &bus->alloc);
      uvp__free(&bus->alloc, *pair[dir]);
      *pair[dir] = NULL;
    }
  }
}

/* Interns every shared name in h: the member's index -> topic id table. */
static int intern_shared(uvp_bus *bus, uvp_host *h, uvp_topic **out) {
  uvp_topic *ids = uvp__calloc(&bus->alloc, bus->nnames + 1, sizeof *ids);
  if (ids == NULL) return UVP_ENOMEM;
  for (uint32_t i = 0; i < bus->nnames; i++) {
    const char *name = bus->names[i];
    int rc = uvp__topic_intern(&h->topics, name, strlen(name), &ids[i]);
    if (rc < 0) {
      uvp__free(&bus->alloc, ids);
      return rc;
    }
  }
  *out = ids;
  return 0;
}

static int join_locked(uvp_host *h, uvp_bus *bus) {
  uint32_t me = atomic_load_explicit(&bus->nmembers, memory_order_relaxed);
  if (me == bus->max_hosts) return UVP_ENOSPC;
  uvp__bus_out *out = uvp__calloc(&h->alloc, bus->max_hosts, sizeof *out);
  if (out == NULL) return UVP_ENOMEM;
  uvp_topic *ids;
  int rc = intern_shared(bus, h, &ids);
  if (rc == 0 && (rc = add_rings(bus, me)) < 0) uvp__free(&bus->alloc, ids);
  bus_member *m = &bus->members[me];
  if (rc == 0 && uv_mutex_init(&m->lock) != 0) {
    uvp__free(&bus->alloc, ids);
    rc = UVP_ENOMEM;
  }
  if (rc < 0) {
    drop_rings(bus, me);
    uvp__free(&h->alloc, out);
    return rc;
  }
  uvp__waker_init(&m->wake);
  atomic_init(&m->open, true);
  m->async = &h->async;
  m->topics = ids;
  for (uint32_t i = 0; i < bus->nnames; i++)
    uvp__topic_get(&h->topics, ids[i])->shared = i + 1;
  bus->joined = true;
  h->bus = bus;
  h->bus_index = me;
  h->bus_out = out;
  /* Senders and receivers read the member and its rings after this. */
  atomic_store_explicit(&bus->nmembers, me + 1, memory_order_release);
  return 0;
}

int uvp_host_join_bus(uvp_host *host, uvp_bus *bus) {
  if (host == NULL || bus == NULL) return UVP_EINVAL;
  if (!uvp__on_loop_thread(host)) return UVP_EWRONGTHREAD; /* T3 */
  if (host->closing) return UVP_ECLOSED;
  if (host->bus != NULL) return UVP_EBUSY;
  uv_mutex_lock(&bus->lock);
  int rc = join_locked(host, bus);
  uv_mutex_unlock(&bus->lock);
  return rc;
}

/* ---- sending (the sender's loop thread) ------------------------------- */

static bool member_open(const uvp_bus *bus, uint32_t k) {
  return atomic_load_explicit(&bus->members[k].open, memory_order_relaxed);
}

static void wake_member(bus_member *m) {
  if (!uvp__waker_should_wake(&m->wake)) return;
  uv_mutex_lock(&m->lock);
  if (m->async != NULL) uv_async_send(m->async);
  uv_mutex_unlock(&m->lock);
}

/* Makes the cell receivers get: the payload inline, or (set per receiver)
 * its copy. */
static uvp__cell make_cell(uint32_t shared, const void *data, size_t len) {
  uvp__cell c = {
      .len = (uint32_t)len, .topic = shared, .kind = UVP__CELL_PUB_INLINE};
  if (len <= sizeof c.u.bytes) {
    if (len != 0) memcpy(c.u.bytes, data, len);
  } else {
    c.kind = UVP__CELL_PUB_COPY;
  }
  return c;
}

static void free_copies(uvp_host *h, uint32_t n) {
  for (uint32_t k = 0; k < n; k++) {
    uvp__free(&h->bus->alloc, h->bus_out[k].copy);
    h->bus_out[k].copy = NULL;
  }
}

/* Which receivers get this publish (bus_out[k].to): open members other
 * than h; with `forward`, only those with room (the others are counted),
 * else all or none. Makes their payload copies. Returns 0, UVP_EAGAIN or
 * UVP_ENOMEM (nothing kept). */
static int plan(uvp_host *h, uint32_t n, bool forward, size_t len) {
  uvp_bus *bus = h->bus;
  uvp__bus_out *out = h->bus_out;
  for (uint32_t k = 0; k < n; k++) {
    out[k].to = false;
    out[k].copy = NULL;
    if (k == h->bus_index || !member_open(bus, k)) continue;
    if (!uvp__spsc_has_room(ring_of(bus, h->bus_index, k))) {
      h->bus_refused++; /* O1: X3, or X5 for a forward */
      if (forward) continue;
      free_copies(h, k);
      return UVP_EAGAIN;
    }
    if (len > UVP__CELL_INLINE &&
        (out[k].copy = uvp__malloc(&bus->alloc, len)) == NULL) {
      free_copies(h, k);
      return UVP_ENOMEM;
    }
    out[k].to = true;
  }
  return 0;
}

/* Pushes to the planned receivers (one that left meanwhile included: its
 * cells are freed by uvp_bus_free), then wakes them. */
static int bus_post(uvp_host *h, uint32_t shared, const void *data, size_t len,
                    bool forward) {
  uvp_bus *bus = h->bus;
  uint32_t n = atomic_load_explicit(&bus->nmembers, memory_order_acquire);
  if (len > bus->max_payload) return UVP_EMSGSIZE;
  int rc = plan(h, n, forward, len);
  if (rc < 0) return rc;
  uvp__cell c = make_cell(shared - 1, data, len);
  uvp__bus_out *out = h->bus_out;
  uint32_t me = h->bus_index;
  for (uint32_t k = 0; k < n; k++) {
    if (!out[k].to) continue;
    if (c.kind == UVP__CELL_PUB_COPY) {
      memcpy(out[k].copy, data, len);
      c.u.data = out[k].copy;
      out[k].copy = NULL;
    }
    uvp__spsc_push(ring_of(bus, me, k), &c); /* X4: FIFO per pair */
    h->bus_sent++;
  }
  for (uint32_t k = 0; k < n; k++)
    if (out[k].to) wake_member(&bus->members[k]);
  return 0;
}

/* A publish on a shared topic (publish, publish_owned, uvp_host_publish):
 * a copy to every other member, or UVP_EAGAIN / UVP_ENOMEM / UVP_EMSGSIZE
 * and nothing sent (X3). */
int uvp__bus_send(uvp_host *h, uint32_t shared, const void *data, size_t len) {
  return bus_post(h, shared, data, len, false);
}

/* A remote publish the loop delivered: already accepted, so a receiver
 * whose ring is full is skipped and counted in bus_refused (X5). */
void uvp__bus_forward(uvp_host *h, uint32_t shared, const void *data,
                      size_t len) {
  if (bus_post(h, shared, data, len, true) < 0) h->bus_refused++;
}

/* ---- receiving (the receiver's loop thread) ---------------------------- */

static void deliver(uvp_host *h, bus_member *m, uvp__cell *c) {
  uvp_topic topic = m->topics[c->topic];
  const void *data =
      c->kind == UVP__CELL_PUB_COPY ? c->u.data : (const void *)c->u.bytes;
  h->bus_received++;
  /* O1: accepted on the topic when the loop takes it, as remote
   * publishes; delivered to this host's subscribers only (X2). */
  uvp__topic_get(&h->topics, topic)->published++;
  uvp__deliver(h, topic, data, c->len);
  if (c->kind == UVP__CELL_PUB_COPY) uvp__free(&h->bus->alloc, c->u.data);
}

/* Takes at most `budget` cells from the other members' rings, a fair share
 * from each. Returns whether cells may remain. */
static bool drain(uvp_host *h, uint32_t n, uint32_t budget) {
  uvp_bus *bus = h->bus;
  uint32_t me = h->bus_index;
  bus_member *m = &bus->members[me];
  uint32_t share = n > 1 ? budget / (n - 1) : budget;
  if (share == 0) share = 1;
  bool more = false;
  uvp__cell c; /* max_align_t-aligned, as its inline payload is delivered */
  for (uint32_t k = 0; k < n && !h->closing; k++) {
    if (k == me) continue;
    uvp__spsc *q = ring_of(bus, k, me);
    uint32_t taken = 0;
    while (taken < share && !h->closing && uvp__spsc_pop(q, &c)) {
      deliver(h, m, &c);
      taken++;
    }
    if (taken == share) more = true;
  }
  uvp__span_end(h); /* O2 */
  return more;
}

static bool any_ready(uvp_host *h, uint32_t n) {
  for (uint32_t k = 0; k < n; k++)
    if (k != h->bus_index && uvp__spsc_ready(ring_of(h->bus, k, h->bus_index)))
      return true;
  return false;
}

void uvp__bus_on_async(uvp_host *h) {
  if (h->bus == NULL || h->closing) return;
  uvp_bus *bus = h->bus;
  bus_member *m = &bus->members[h->bus_index];
  uint32_t n = atomic_load_explicit(&bus->nmembers, memory_order_acquire);
  uvp__waker_awake(&m->wake);
  if (drain(h, n, h->opts.batch)) { /* D5: the rest on the next turn */
    uv_async_send(&h->async);
    return;
  }
  uvp__waker_may_sleep(&m->wake);
  if (any_ready(h, n)) uv_async_send(&h->async);
}

/* Host close: leaves the bus (X6). Senders skip it from now on; what is
 * queued to it is freed undelivered and counted in bus_dropped. */
void uvp__bus_leave(uvp_host *h) {
  uvp_bus *bus = h->bus;
  if (bus == NULL) return;
  bus_member *m = &bus->members[h->bus_index];
  atomic_store(&m->open, false);
  uv_mutex_lock(&m->lock);
  m->async = NULL;
  uv_mutex_unlock(&m->lock);
  uint32_t n = atomic_load_explicit(&bus->nmembers, memory_order_acquire);
  for (uint32_t k = 0; k < n; k++)
    if (k != h->bus_index)
      h->bus_dropped += ring_discard(bus, ring_of(bus, k, h->bus_index));
  uvp__free(&h->alloc, h->bus_out);
  h->bus_out = NULL;
  h->bus = NULL; /* the counters stay */
}

void uvp__bus_host_stats(const uvp_host *h, uvp_host_stats *st) {
  st->bus_sent = h->bus_sent;
  st->bus_received = h->bus_received;
  st->bus_refused = h->bus_refused;
  st->bus_dropped = h->bus_dropped;
}
