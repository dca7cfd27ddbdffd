/* Shared internals of the uvplug library: the layouts behind the opaque
 * types, uvp__ prototypes and small inline helpers. Nothing here is ABI.
 *
 *   uvp_host ── registry (slots: subs, timers, fd watches; ids = slot+gen)
 *      │     ── topics (interned names → subscriber slot lists)
 *      │     ── queue (bounded ring of events) → drained by an idle handle
 *      │     ── timers (one heap → one uv_timer_t)
 *      └──── ctxs[] (index 0 = the embedder, then one per plugin instance)
 */
#ifndef UVP_INTERNAL_H
#define UVP_INTERNAL_H

#include <assert.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uvplug/uvplug.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define STATIC_ASSERT(expr) _Static_assert(expr, #expr)
#define container_of(ptr, type, member) \
  ((type *)((char *)(ptr)-offsetof(type, member)))

/* ---------------------------------------------------------------------- */
/* Allocator (alloc.c): the host's, or the inbox's copy of it             */
/* ---------------------------------------------------------------------- */

extern const uvp_allocator uvp__libc_allocator;

/* Always inlined, also at -O0: the allocator sees the caller's address as
 * its return address, so the failure-injection test tells the allocation
 * sites apart (integration.alloc_fail). */
#define UVP__ALLOC_INLINE static inline __attribute__((always_inline))
int uvp__allocator_copy(const uvp_allocator *in, uvp_allocator *out);
char *uvp__strdup(const uvp_allocator *a, const char *s);

UVP__ALLOC_INLINE void *uvp__malloc(const uvp_allocator *a, size_t size) {
  return a->malloc(a->data, size);
}
UVP__ALLOC_INLINE void *uvp__calloc(const uvp_allocator *a, size_t n,
                                    size_t size) {
  return a->calloc(a->data, n, size);
}
/* Never NULL in: a first allocation is a malloc (see uvp_allocator). */
UVP__ALLOC_INLINE void *uvp__realloc(const uvp_allocator *a, void *ptr,
                                     size_t size) {
  return ptr == NULL ? a->malloc(a->data, size)
                     : a->realloc(a->data, ptr, size);
}
UVP__ALLOC_INLINE void uvp__free(const uvp_allocator *a, void *ptr) {
  if (ptr != NULL) a->free(a->data, ptr);
}

/* Size of the ABI 1.0 descriptor: anything smaller is UVP_ESHORT (A5). */
#define UVP__DESC_V1_SIZE \
  (offsetof(uvp_plugin_desc, on_unload) + sizeof(void (*)(void *)))

/* ---------------------------------------------------------------------- */
/* Registry: one table of slots for everything plugins register.          */
/* ---------------------------------------------------------------------- */

enum uvp__kind { UVP__FREE = 0, UVP__SUB, UVP__TIMER, UVP__FD, UVP__WORK };

enum uvp__slot_flag {
  UVP__SLOT_CANCELLED = 1, /* retired while its callback runs */
  UVP__SLOT_HALT = 2,      /* the host began closing in its callback (S4) */
};

#define UVP__NONE UINT32_MAX /* "no index" for slots, heap positions */

typedef struct uvp__fdwatch uvp__fdwatch;
typedef struct uvp__work uvp__work;
typedef struct uvp__inbox uvp__inbox;
typedef struct uvp__bus_out uvp__bus_out;

/* A list of work items (work.c), linked through the items themselves. */
typedef struct uvp__work_list {
  uvp__work *head, *tail;
  uint32_t count;
} uvp__work_list;

/* 40 bytes: the benchmark budget is 48 bytes per idle subscription and 64
 * per timer (with its 16-byte heap entry), so the owner is an index, not a
 * pointer, and each kind gets 8 bytes of its own. */
typedef struct uvp__slot {
  union {
    uvp_event_cb event;
    uvp_timer_cb timer;
    uvp_fd_cb fd;
  } cb;
  void *user_data;
  uvp_destroy_fn destroy;
  uint32_t gen;   /* generation of the id this slot answers to */
  uint16_t owner; /* index into host->ctxs */
  uint8_t kind;   /* enum uvp__kind */
  uint8_t flags;  /* enum uvp__slot_flag */
  union {
    struct {
      uvp_topic topic;
      uint32_t pos; /* index in the topic's subscriber list */
    } sub;
    struct {
      uint32_t heap_pos; /* UVP__NONE while running or stopped */
      uint32_t repeat_ms;
    } timer;
    uvp__fdwatch *fd;
    uvp__work *work;
    uint32_t next_free; /* free-list link (UVP__NONE ends it) */
  } u;
} uvp__slot;

STATIC_ASSERT(sizeof(uvp__slot) == 40);

#define UVP__CHUNK_BITS 12
#define UVP__CHUNK_SLOTS (1u << UVP__CHUNK_BITS)

/* Slots live in fixed chunks so pointers to them stay valid while callbacks
 * register more (no realloc under a running dispatch). */
typedef struct uvp__registry {
  uvp__slot **chunks;
  uint32_t nchunks;
  uint32_t used;              /* slots ever handed out: [0, used) */
  uint32_t free_head;         /* first free slot, or UVP__NONE */
  uint32_t live;              /* allocated slots */
  uint32_t exhausted;         /* slots retired for good at UVP__GEN_LAST */
  const uvp_allocator *alloc; /* the host's; libc after init */
} uvp__registry;

/* The generation a slot is retired to when its ids must never come back. */
#define UVP__GEN_LAST UINT32_MAX

void uvp__registry_init(uvp__registry *reg);
void uvp__registry_free(uvp__registry *reg);
int uvp__registry_alloc(uvp__registry *reg, uint32_t *out_idx);
void uvp__registry_release(uvp__registry *reg, uint32_t idx);
int uvp__registry_lookup(uvp__registry *reg, uvp_id id, uint16_t owner,
                         uint32_t *out_idx);

static inline uvp__slot *uvp__registry_at(const uvp__registry *reg,
                                          uint32_t idx) {
  assert(idx < reg->used);
  return &reg->chunks[idx >> UVP__CHUNK_BITS][idx & (UVP__CHUNK_SLOTS - 1)];
}

static inline uvp_id uvp__id_make(uint32_t idx, uint32_t gen) {
  return ((uint64_t)gen << 32) | idx;
}
static inline uint32_t uvp__id_slot(uvp_id id) { return (uint32_t)id; }
static inline uint32_t uvp__id_gen(uvp_id id) { return (uint32_t)(id >> 32); }

/* ---------------------------------------------------------------------- */
/* Topics                                                                 */
/* ---------------------------------------------------------------------- */

typedef struct uvp__topic {
  char *name; /* NUL-terminated copy */
  uint32_t name_len;
  uint32_t hash;
  uint32_t *subs; /* slot indices in subscription order; UVP__NONE = gone */
  uint32_t nsubs, cap, ndead;
  uint32_t dispatching; /* >0 while a delivery walks subs: no compaction */
  /* O1: here, not in a table of their own, because the dispatcher has this
   * struct's cache line already. delivered is counted with the metrics. */
  uint64_t published, delivered;
  uint32_t shared; /* 1 + index in the host's bus's shared topics; 0: none */
} uvp__topic;

typedef struct uvp__topics {
  uvp__topic **items; /* items[id - 1]; stable pointers */
  uint32_t count, cap, max;
  uint32_t *index; /* open-addressing hash: topic ids, 0 = empty */
  uint32_t index_cap;
  const uvp_allocator *alloc; /* the host's; libc after init */
} uvp__topics;

void uvp__topics_init(uvp__topics *t, uint32_t max);
void uvp__topics_free(uvp__topics *t);
int uvp__topic_check(const char *name, size_t len);
int uvp__topic_intern(uvp__topics *t, const char *name, size_t len,
                      uvp_topic *out_topic);
int uvp__topic_add_sub(uvp__topics *t, uvp_topic topic, uint32_t slot,
                       uint32_t *out_pos);
void uvp__topic_remove_sub(uvp__topics *t, uvp_topic topic, uint32_t pos);
void uvp__topic_compact(uvp__topics *t, uvp__registry *reg, uvp_topic topic);

static inline uvp__topic *uvp__topic_get(const uvp__topics *t,
                                         uvp_topic topic) {
  return (topic == 0 || topic > t->count) ? NULL : t->items[topic - 1];
}

/* ---------------------------------------------------------------------- */
/* Event queue                                                            */
/* ---------------------------------------------------------------------- */

#define UVP__INLINE_MAX 40

enum uvp__payload { UVP__PAY_INLINE = 0, UVP__PAY_COPY, UVP__PAY_OWNED };

typedef struct uvp__qevent {
  uvp_topic topic;
  uint32_t len;
  uint8_t kind; /* enum uvp__payload */
  union {
    /* max_align_t: a subscriber may read any type from uvp_event.data, as
     * from a malloc'ed copy (D8) */
    _Alignas(max_align_t) unsigned char bytes[UVP__INLINE_MAX];
    struct {
      void *data;
      uvp_payload_free_fn free_fn; /* owned only */
      void *hint;                  /* owned only */
      uvp_ctx *publisher;          /* owned only: pins its free_fn code (A10) */
    } ext;
  } u;
} uvp__qevent;

STATIC_ASSERT(sizeof(uvp__qevent) == 64); /* one cache line per event */

typedef struct uvp__queue {
  uvp__qevent *ring;
  uint32_t cap; /* power of two; grows up to max */
  uint32_t max;
  uint32_t head, count;
  const uvp_allocator *alloc; /* the host's; libc after init */
} uvp__queue;

/* ---------------------------------------------------------------------- */
/* Timers                                                                 */
/* ---------------------------------------------------------------------- */

/* 16 bytes (with the 40-byte slot, 56 of a timer's 64-byte budget). The
 * heap orders by one 96-bit key hi:lo = due:seq, so neither part wraps:
 *   due  40 bits, ms after timers.epoch (34 years); all ones = never
 *   seq  56 bits, start order: FIFO among equal due times (D6) and "started
 *        during this round"; 2^56 starts last 2,000 years at 1 M/s
 *   hi = due << 24 | seq >> 32, lo = (uint32_t)seq. See timer.c. */
typedef struct uvp__heap_entry {
  uint64_t hi;
  uint32_t lo;
  uint32_t slot;
} uvp__heap_entry;

STATIC_ASSERT(sizeof(uvp__heap_entry) == 16);

typedef struct uvp__timers {
  uvp__heap_entry *heap;
  uint32_t count, cap;
  uint64_t next_seq;          /* seq of the next timer started */
  uint64_t epoch;             /* uv_now() dues count from; reset while empty */
  bool on_idle;               /* the earliest is due: the idle handle runs it */
  const uvp_allocator *alloc; /* the host's */
} uvp__timers;

/* ---------------------------------------------------------------------- */
/* Contexts (one per plugin instance, one for the embedder)               */
/* ---------------------------------------------------------------------- */

#define UVP__CTX_MAGIC 0x43505655u /* "UVPC" */

enum uvp__ctx_state {
  UVP__LOADING = UVP_PLUGIN_LOADING,
  UVP__RUNNING = UVP_PLUGIN_RUNNING,
  UVP__STOPPING = UVP_PLUGIN_STOPPING,
  UVP__QUARANTINED = UVP_PLUGIN_QUARANTINED,
  UVP__DRAINING = UVP_PLUGIN_DRAINING, /* stopped; waits for work, posts */
  UVP__DEAD, /* unloaded; kept while payloads or remote refs pin the code */
};

struct uvp_ctx {
  uint32_t magic;
  uint16_t index; /* in host->ctxs */
  uint8_t state;  /* enum uvp__ctx_state */
  bool unload_pending;
  bool quarantine_due; /* a fault reported through api->fault (F7) */
  bool retiring;       /* being replaced by a reload: its name is free */
  bool keep_mapped;    /* never dlclose: references outlived the plugin (U4) */
  int fault_policy;    /* resolved uvp_fault_policy */
  uint32_t remote_limit;
  uvp_remote *remote; /* created by the first remote_new */
  uint32_t work_pending;
  uint32_t depth; /* frames of this ctx's code on the stack (S3) */
  uvp_host *host;
  void *dl;               /* dlopen handle; NULL for the embedder */
  uvp_plugin_desc desc;   /* the fields both sides know, zero-filled */
  void *state_ptr;        /* from on_init */
  uint32_t pending_owned; /* owned payloads not yet freed */
  uint32_t registrations; /* live slots */
  uint64_t calls, events, published, errors, panics, posts;
  atomic_uint_fast64_t wrong_thread;
  atomic_bool wrong_thread_unlogged;
  char name[UVP_NAME_MAX + 1];
  /* work.c: bounds and the drain deadline (W4, W6) */
  uint32_t work_running;  /* of work_pending, handed to the pool */
  uint32_t work_limit;    /* load option; 0 = the host's work_concurrency */
  uint64_t work_deadline; /* loop ms when running work is abandoned; 0 */
  /* timing.c: callback timing and the slow-callback watchdog (O2) */
  char *path; /* as loaded; NULL for the embedder (or out of memory) */
  uint64_t cb_ns_total;
  uint64_t cb_hist[UVP_CB_HIST_BUCKETS];
  uint64_t slow_callbacks;
  uint64_t slow_logged_ns; /* uv_hrtime() of its last slow line; 0: none */
  uint64_t slow_unlogged;  /* slow spans since that line, not logged */
};

/* ---------------------------------------------------------------------- */
/* Host                                                                   */
/* ---------------------------------------------------------------------- */

/* What a span of callbacks was (timing.c), for the watchdog's line. */
enum uvp__cb_kind {
  UVP__CB_EVENT = 0,
  UVP__CB_TIMER,
  UVP__CB_FD,
  UVP__CB_POST,
  UVP__CB_WORK,
  UVP__CB_INIT,
  UVP__CB_START,
  UVP__CB_STOP,
};

/* Consecutive callbacks of one plugin and kind, timed together: see
 * timing.c for why. The ctx and the kind share one word (a ctx is 8-byte
 * aligned, a kind takes 3 bits), so that staying in the span is one
 * compare on the dispatch path. */
typedef struct uvp__span {
  uintptr_t key;   /* (uintptr_t)ctx | kind, charged at the end; 0: none */
  uint64_t start;  /* uv_hrtime() */
  uint64_t calls0; /* ctx->calls at the start: events and timers count */
  uint32_t posts;  /* posts in it (they are not in ctx->calls) */
} uvp__span;

#define UVP__SPAN_KIND_MASK ((uintptr_t)7)

static inline uvp_ctx *uvp__span_ctx(const uvp__span *sp) {
  return (uvp_ctx *)(sp->key & ~UVP__SPAN_KIND_MASK);
}

/* Bytes kept of a failed load's message, escaped, NUL included (A15). */
#define UVP__LOAD_ERROR_MAX 512

struct uvp_host {
  uv_loop_t *loop;
  uv_thread_t thread;
  uvp_host_options opts; /* normalized: every 0 replaced by its default */
  uvp__registry reg;
  uvp__topics topics;
  uvp__queue queue;
  uvp__timers timers;
  /* The last uvp_host_load/reload: its status and why it failed (A15). */
  int load_status;
  char load_error[UVP__LOAD_ERROR_MAX];
  uv_idle_t idle;   /* drains the queue; runs teardown when closing */
  uv_timer_t timer; /* the one timer all plugin timers share */
  uv_async_t async; /* wakes the loop from other threads */
  uvp_ctx **ctxs;   /* by index; NULL = free; [0] is the embedder's */
  uint32_t nctxs;
  uvp__inbox *inbox; /* cross-thread posts; created by the first remote */
  uvp_ctx **order;   /* plugins in load order, until they are DEAD */
  /* The slot whose callback runs, or UVP__NONE: cancel defers its destroy
   * (L2). Slot callbacks never nest (they all start from libuv callbacks and
   * uv_run is not re-entrant), so one index is enough. */
  uint32_t running_slot;
  uint32_t norder;
  bool metrics;     /* !opts.no_metrics, read on every dispatch */
  bool unloads_due; /* unloads wait for the next turn (F1, S3) */
  bool closing;
  bool torn_down;        /* close: plugins unloaded, queues dropped */
  bool finishing;        /* close: handles are being closed */
  uint32_t handles_open; /* ours, incl. fd watches; 0 = host can go */
  uvp_host_closed_fn on_closed;
  void *on_closed_data;
  /* work.c: items past the bounds wait in FIFO order (W4); cancelled
   * waiting ones finish on the next idle turn (W5); abandoned ones are
   * remembered until their work function returns (W6). */
  uvp__work_list work_waiting, work_cancelled, work_abandoned;
  uint32_t work_running; /* on the pool, abandoned ones included */
  bool work_timer_open;  /* work_timer initialized, in handles_open */
  uv_timer_t work_timer; /* work_drain_ms deadlines */
  /* O1, O2: last, so that the hot fields above keep their cache lines */
  uint32_t by_kind[UVP__WORK + 1]; /* live slots of each uvp__kind */
  uint32_t queue_high_water;       /* most events queued at once */
  uint64_t queue_refused;          /* publishes refused with UVP_EAGAIN */
  uvp__span span;
  uint64_t slow_ns; /* opts.slow_callback_ms in ns; 0: watchdog off */
  uint64_t slow_callbacks;
  uint64_t remote_dropped; /* remote publishes dropped at stop (R4) */
  /* bus.c: the bus this host joined (X rules), its index there, the plan
   * of the publish being sent, and the counters (O1). */
  uvp_bus *bus;
  uint32_t bus_index;
  uvp__bus_out *bus_out;
  uint64_t bus_sent, bus_received, bus_refused, bus_dropped;
  /* opts.allocator's copy (opts.allocator = &alloc); last, with the cold
   * fields: the tables above hold pointers to it for their growth. */
  uvp_allocator alloc;
};

/* On every API call: pthread directly (uv_thread_t is pthread_t on unix)
 * rather than two calls through libuv. */
static inline bool uvp__on_loop_thread(const uvp_host *h) {
  return pthread_equal(pthread_self(), h->thread);
}

static inline uvp_ctx *uvp__slot_ctx(const uvp_host *h, const uvp__slot *s) {
  return h->ctxs[s->owner];
}

/* sizes.c: F3, a size-prefixed struct's size ends between known fields */
bool uvp__host_options_size_ok(uint32_t size);
bool uvp__load_options_size_ok(uint32_t size);
bool uvp__plugin_stats_size_ok(uint32_t size);

bool uvp__host_stats_size_ok(uint32_t size);
bool uvp__topic_stats_size_ok(uint32_t size);
bool uvp__plugin_info_size_ok(uint32_t size);

/* timing.c: callback timing per span, slow-callback watchdog (O2) */
unsigned uvp__cb_bucket(uint64_t ns);
void uvp__span_switch(uvp_host *h, uvp_ctx *ctx, int kind);
void uvp__span_close(uvp_host *h);
uint64_t uvp__time_begin(const uvp_host *h);
void uvp__time_end(uvp_host *h, uvp_ctx *ctx, int kind, uint64_t t0);

/* Charges the callbacks from here on to ctx: one compare while the span
 * goes on. Only with h->metrics. */
static inline void uvp__span_enter(uvp_host *h, uvp_ctx *ctx, int kind) {
  if (h->span.key != ((uintptr_t)ctx | (uintptr_t)kind))
    uvp__span_switch(h, ctx, kind);
}

/* Ends the open span, if any: at the end of every libuv callback of ours
 * that opened one, so that no span ever covers the loop's waiting. */
static inline void uvp__span_end(uvp_host *h) {
  if (h->span.key != 0) uvp__span_close(h);
}

/* errno.c */
int uvp__status_from_uv(int uv_status);

/* log.c */
void uvp__log(uvp_host *h, const char *who, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void uvp__log_raw(uvp_host *h, const char *who, int level, const char *msg,
                  size_t len);
size_t uvp__log_escape(char *dst, size_t cap, const char *msg, size_t len);

/* registration.c: what every kind of registration shares */
int uvp__reg_begin(uvp_ctx *ctx, int kind, void *user_data,
                   uvp_destroy_fn destroy, uint32_t *out_idx);
void uvp__reg_abort(uvp_host *h, uint32_t idx);
void uvp__reg_cancel(uvp_host *h, uint32_t idx);
void uvp__reg_finish(uvp_host *h, uint32_t idx);
void uvp__reg_expire(uvp_host *h, uint32_t idx);
void uvp__reg_cancel_all(uvp_host *h, uvp_ctx *owner);
bool uvp__call_returned(uvp_host *h, uvp_ctx *ctx, uint32_t idx);
void uvp__call_after(uvp_ctx *ctx, int rc);

/* Marks ctx's code as being on the stack, so that unload waits for it
 * (S3). */
static inline void uvp__call_enter(uvp_ctx *ctx) { ctx->depth++; }

/* dispatch.c */
int uvp__deliver(uvp_host *h, uvp_topic topic, const void *data, size_t len);
void uvp__queue_init(uvp__queue *q, uint32_t max);
int uvp__publish(uvp_ctx *ctx, uvp_topic topic, const void *data, size_t len,
                 uvp_payload_free_fn free_fn, void *hint, bool owned);
void uvp__queue_drop_all(uvp_host *h);
void uvp__queue_release_owned(uvp_host *h, uvp_ctx *publisher);

/* timer.c */
int uvp__timer_start(uvp_ctx *ctx, uint64_t timeout_ms, uint64_t repeat_ms,
                     uvp_timer_cb cb, void *user_data, uvp_destroy_fn destroy,
                     uvp_id *out_id);
void uvp__timer_remove(uvp_host *h, uint32_t idx);
void uvp__timers_free(uvp__timers *t);
void uvp__timers_run(uvp_host *h);

/* fdwatch.c */
int uvp__fd_watch(uvp_ctx *ctx, int fd, int events, uvp_fd_cb cb,
                  void *user_data, uvp_destroy_fn destroy, uvp_id *out_id);
void uvp__fd_stop(uvp__fdwatch *w);

/* loader.c */
int uvp__loader_open(uvp_host *h, const char *path,
                     const uvp_load_options *opts, uvp_plugin_desc *out_desc,
                     void **out_dl);
int uvp__name_check(const char *name);
int uvp__desc_read(uvp_host *h, const char *path, const uvp_plugin_desc *d,
                   size_t sym_size, uvp_plugin_desc *out);
int uvp__load_done(uvp_host *h, const char *path, int status);
int uvp__load_fail(uvp_host *h, const char *path, int status, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));

/* plugfile.c, elfcheck.c, dlfd.c: the loader's steps before dlsym */
struct stat;
int uvp__plugfile_open(uvp_host *h, const char *path, int *out_fd,
                       struct stat *out_st);
int uvp__elf_check(uvp_host *h, const char *path, int fd);
int uvp__strict_check(uvp_host *h, const char *path, int fd,
                      const struct stat *st);
int uvp__pin_copy(uvp_host *h, const char *path, int fd, const uint8_t *want,
                  int *out_fd);
#define UVP__DLFD_NAME_MAX 256 /* extra slashes of /proc/self/fd//N names */
int uvp__dlopen_fd(uvp_host *h, const char *path, int fd, const struct stat *st,
                   char *name, size_t name_len, void **out_dl);

/* plugin.c */
int uvp__plugin_load(uvp_host *h, const char *path, const char *name,
                     const char *config, const uvp_load_options *options);
int uvp__plugin_unload(uvp_ctx *ctx);
void uvp__plugin_begin_unload(uvp_ctx *ctx);
void uvp__plugin_poll(uvp_ctx *ctx);
void uvp__plugin_fault(uvp_ctx *ctx, int rc);
void uvp__plugin_report_fault(uvp_ctx *ctx, int rc);
void uvp__plugin_quarantine_due(uvp_ctx *ctx);
void uvp__plugin_unload_due(uvp_host *h);
void uvp__plugin_unpin(uvp_ctx *ctx);
uvp_ctx *uvp__plugin_find(uvp_host *h, const char *name, bool live_only);

/* work.c */
int uvp__work_queue(uvp_ctx *ctx, uvp_work_fn work, uvp_work_done_cb done,
                    void *user_data, uvp_destroy_fn destroy, uvp_id *out_id);
void uvp__work_cancel(uvp__work *w);
void uvp__work_flush(uvp_host *h);
void uvp__work_drain_start(uvp_ctx *ctx);
void uvp__work_disown(uvp_host *h);

/* remote.c */
int uvp__remote_get(uvp_ctx *ctx, uint32_t limit, uvp_remote **out);
int uvp__remote_acquire(uvp_remote *r);
void uvp__remote_release(uvp_remote *r);
int uvp__remote_post(uvp_remote *r, uvp_post_cb cb, void *user_data,
                     uvp_destroy_fn destroy, int flags);
int uvp__remote_publish(uvp_remote *r, uvp_topic topic, const void *data,
                        size_t len, int flags);
void uvp__remote_close(uvp_remote *r);
uint32_t uvp__remote_queued(const uvp_remote *r);
void uvp__remote_stats(const uvp_remote *r, uvp_plugin_stats *st);
bool uvp__remote_disown(uvp_remote *r, bool wait);
void uvp__remote_on_async(uvp_host *h);
void uvp__remote_drain_all(uvp_host *h);
void uvp__remote_shutdown(uvp_host *h);
void uvp__remote_host_stats(const uvp_host *h, uvp_host_stats *st);

/* bus.c */
int uvp__bus_send(uvp_host *h, uint32_t shared, const void *data, size_t len);
void uvp__bus_forward(uvp_host *h, uint32_t shared, const void *data,
                      size_t len);
void uvp__bus_on_async(uvp_host *h);
void uvp__bus_leave(uvp_host *h);
void uvp__bus_host_stats(const uvp_host *h, uvp_host_stats *st);

/* api.c */
extern const uvp_api uvp__api;

/* host.c */
int uvp__ctx_new(uvp_host *h, const char *name, uvp_ctx **out_ctx);
void uvp__ctx_free(uvp_ctx *ctx);
void uvp__host_wake(uvp_host *h);
void uvp__host_teardown(uvp_host *h);
void uvp__host_handle_closed(uvp_host *h);
void uvp__host_close_continue(uvp_host *h);
void uvp__host_schedule(uvp_host *h);

#endif /* UVP_INTERNAL_H */
