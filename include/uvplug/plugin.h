/* uvplug plugin ABI: the only header a plugin needs.
 *
 * A plugin is a shared object exporting one data symbol,
 * `uvp_plugin_descriptor` (a uvp_plugin_desc). The host validates it before
 * running any plugin code, then calls on_init with a uvp_ctx (the plugin's
 * identity) and a uvp_api (the host's function table). Everything the plugin
 * registers is a (callback, user_data, destroy) triple and is named by a
 * 64-bit uvp_id. The rules referred to as T1, L1, ... are in docs/contract.md.
 *
 * This header includes only standard headers (plus errno.h and version.h of
 * its own directory), because bindgen and other-language SDKs consume it.
 */
#ifndef UVPLUG_PLUGIN_H
#define UVPLUG_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "errno.h"
#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ===================================================================== */
/* Types                                                                  */
/* ===================================================================== */

/* "UVP1" read as a little-endian integer; first field of the descriptor. */
#define UVP_PLUGIN_MAGIC 0x31505655u

/* Name of the data symbol every plugin exports. */
#define UVP_PLUGIN_SYMBOL uvp_plugin_descriptor
#define UVP_PLUGIN_SYMBOL_NAME "uvp_plugin_descriptor"

/* Longest plugin or instance name, in bytes, without the NUL. */
#define UVP_NAME_MAX 63
/* Longest topic name, in bytes, without the NUL. */
#define UVP_TOPIC_MAX 255
/* Most named counters one instance may create (uvp_api.counter). */
#define UVP_COUNTERS_MAX 32

/* True when the struct at p (whose first field is uint32_t size, or whose
 * `size` field precedes f) is large enough to hold field f. Readers use it
 * before touching a field appended in a later ABI minor. */
#define UVP_HAS_FIELD(p, T, f) \
  ((p)->size >= offsetof(T, f) + sizeof(((T *)0)->f))

/* A plugin's identity and context. Opaque; owned by the host; valid from
 * on_init until on_unload returns. Loop thread only (T1). */
typedef struct uvp_ctx uvp_ctx;

/* Handle of a registration (subscription, timer, fd watch): slot index in
 * the low 32 bits, generation in the high 32 bits. Never a pointer; 0 is
 * never a valid id. Stale ids get UVP_ESTALE, others' ids UVP_ENOENT (L4). */
typedef uint64_t uvp_id;

/* A topic name interned to an integer by uvp_api.topic. Valid for the life
 * of the host that issued it; 0 is never a valid topic. */
typedef uint32_t uvp_topic;

/* Log levels for uvp_api.log and the embedder's log hook. */
typedef enum uvp_log_level {
  UVP_LOG_ERROR = 0,
  UVP_LOG_WARN = 1,
  UVP_LOG_INFO = 2,
  UVP_LOG_DEBUG = 3
} uvp_log_level;

/* fd readiness bits for uvp_api.fd_watch. */
typedef enum uvp_fd_events {
  UVP_FD_READABLE = 1,
  UVP_FD_WRITABLE = 2
} uvp_fd_events;

/* Descriptor flags. */
typedef enum uvp_plugin_flags {
  /* The object may be unmapped (dlclose) after unload. Only set this if no
   * code of the plugin can run after on_unload returns: its threads joined
   * (also one that released the last remote reference, which is still
   * returning through plugin code), no thread-local destructors (Rust
   * cdylibs usually cannot promise this, see A10). */
  UVP_PLUGIN_UNLOAD_SAFE = 1u << 0
} uvp_plugin_flags;

/* An event as a subscriber sees it. Borrowed: valid only for the duration
 * of the callback it is passed to (L7). */
typedef struct uvp_event {
  uint32_t size;          /* sizeof(uvp_event) as the host built it */
  uvp_topic topic;        /* interned topic id */
  const char *topic_name; /* NUL-terminated; valid while the host lives */
  size_t topic_name_len;  /* bytes, without the NUL */
  const void *data;       /* payload; NULL only when len == 0; aligned to
                             _Alignof(max_align_t) unless it is an owned
                             payload, which arrives as published (D8) */
  size_t len;             /* payload bytes */
} uvp_event;

/* Called exactly once with user_data when a registration ends, on the loop
 * thread, after the last call of its callback (L1). May be NULL. The slot is
 * already free when it runs, so it may cancel other registrations and log
 * (e.g. drop guards it owns); during unload new registrations get
 * UVP_ECLOSED. */
typedef void (*uvp_destroy_fn)(void *user_data);

/* Subscription callback. Return 0, or a negative status: errors are counted
 * (F2), UVP_EPANIC applies the fault policy (F1). May call any uvp_api
 * function, including cancel on its own id (L2). */
typedef int (*uvp_event_cb)(uvp_ctx *ctx, const uvp_event *ev, void *user_data);

/* Timer callback; return value as for uvp_event_cb. */
typedef int (*uvp_timer_cb)(uvp_ctx *ctx, void *user_data);

/* fd readiness callback. status is 0 or a negative errno from the poller
 * (then events is 0); events is a mask of uvp_fd_events. Return value as
 * for uvp_event_cb. */
typedef int (*uvp_fd_cb)(uvp_ctx *ctx, int fd, int status, int events,
                         void *user_data);

/* A thread-safe sender bound to one plugin (or the embedder): refcounted,
 * usable from any thread, closed when its plugin stops (R1-R6). Opaque. */
typedef struct uvp_remote uvp_remote;

/* Flags of remote_post and remote_publish. */
typedef enum uvp_post_flags {
  UVP_POST_NONBLOCK = 0, /* queue full: fail at once with UVP_EAGAIN */
  UVP_POST_BLOCK = 1     /* queue full: wait for room (never on the loop) */
} uvp_post_flags;

/* Posted callback: runs on the loop thread with the remote owner's ctx.
 * Return value as for uvp_event_cb. */
typedef int (*uvp_post_cb)(uvp_ctx *ctx, void *user_data);

/* Work function: runs on a libuv pool thread. It gets no ctx and may call
 * only the thread-safe remote functions (T5). */
typedef void (*uvp_work_fn)(void *user_data);

/* Work completion: runs once on the loop thread after the work function
 * returned (status 0) or was cancelled (status UVP_ECANCELED; the work
 * function may or may not have run, W2). Return value as for uvp_event_cb. */
typedef int (*uvp_work_done_cb)(uvp_ctx *ctx, int status, void *user_data);

/* Frees an owned payload (publish_owned). Called exactly once, on the loop
 * thread, after every subscriber saw the event or when the event is dropped
 * (L8). Never called when publish_owned fails. */
typedef void (*uvp_payload_free_fn)(void *data, size_t len, void *hint);

/* ---- services (ABI 1.3): typed function tables between plugins -------- */

/* One function of a service: `instance` is the provider's, `args` points
 * to the function's own #[repr(C)] argument struct (inputs and outputs),
 * defined by the service's header. Returns 0 or a negative status; the
 * caller gets it unchanged, and UVP_EPANIC also counts as a fault of the
 * provider (V4). Runs on the loop thread, inside service_call. */
typedef int (*uvp_service_fn)(void *instance, void *args);

/* What a provider exports (service_export). Size-prefixed; read once and
 * copied, except `fns`, which the host keeps pointing at. */
typedef struct uvp_service_export {
  uint32_t size;             /* sizeof(uvp_service_export) */
  uint16_t major;            /* incompatible change: a new major */
  uint16_t minor;            /* functions appended: a new minor */
  const char *name;          /* NUL-terminated, 1..UVP_TOPIC_MAX bytes, */
                             /* [A-Za-z0-9_.-]; copied */
  const uvp_service_fn *fns; /* fns[0..count): the table; the provider's */
                             /* (static) memory, never NULL entries */
  uint32_t count;            /* functions in the table */
  void *instance;            /* first argument of every function */
  uvp_destroy_fn destroy;    /* for instance, once the export ended and */
                             /* the last reference went (V6); may be NULL */
} uvp_service_export;

/* Told to an importer, once, when the service behind `ref` is withdrawn
 * (reason UVP_ECLOSED: the provider unloads or cancelled the export;
 * UVP_EPANIC: it was quarantined; UVP_ESTALE: it is being reloaded, and the
 * new version can be imported once it runs). From then on calls through
 * ref return UVP_ESTALE; the importer must drop ref with cancel(ctx, ref),
 * here or later (V5). Loop thread. */
typedef void (*uvp_service_revoke_cb)(uvp_ctx *ctx, uvp_id ref, int reason,
                                      void *user_data);

/* What an importer asks for (service_import). Size-prefixed. */
typedef struct uvp_service_import {
  uint32_t size;                /* sizeof(uvp_service_import) */
  uint16_t major;               /* required major (exact) */
  uint16_t min_minor;           /* oldest acceptable minor */
  const char *name;             /* NUL-terminated; copied */
  uvp_service_revoke_cb revoke; /* required */
  void *user_data;              /* for revoke and destroy */
  uvp_destroy_fn destroy;       /* when ref is dropped (L1); may be NULL */
} uvp_service_import;

/* What service_info tells about a reference. */
typedef struct uvp_service_info {
  uint32_t size;        /* set by the caller: sizeof(uvp_service_info) */
  uint16_t major;       /* the provider's */
  uint16_t minor;       /* the provider's: >= the importer's min_minor */
  uint32_t count;       /* functions in the provider's table */
  int revoked;          /* 1 once revoke ran (or was due), else 0 */
  const char *provider; /* instance name of the provider; NUL-terminated; */
                        /* valid until the callback returns */
} uvp_service_info;

/* ===================================================================== */
/* Host API (what the host offers; all loop thread only)                  */
/* ===================================================================== */

/* The host's function table, given to on_init. It is static in the host
 * library, so it stays valid as long as the library is loaded: the
 * thread-safe remote entries may be reached through it even after the
 * plugin unloaded or the host closed (R5). Appended to only (see
 * version.h); check `size` with UVP_HAS_FIELD before calling an entry newer
 * than ABI 1.0. */
typedef struct uvp_api {
  uint32_t size;      /* sizeof(uvp_api) as the host built it */
  uint16_t abi_major; /* UVP_ABI_MAJOR of the host */
  uint16_t abi_minor; /* UVP_ABI_MINOR of the host */

  /**
   * Intern a topic name, creating the topic if it is new.
   *
   * @param ctx        calling plugin's context.
   * @param name       UTF-8 bytes, 1..UVP_TOPIC_MAX, no NUL inside; not
   *                   necessarily NUL-terminated; copied, caller keeps it.
   * @param len        length of name in bytes.
   * @param out_topic  receives the topic id; written only on success.
   * @return 0, UVP_EINVAL (NULL, empty, too long, bad UTF-8, NUL inside),
   *         UVP_ENOSPC (host's topic limit), UVP_ENOMEM or UVP_EWRONGTHREAD.
   *
   * THREAD:    loop thread only; any other thread gets UVP_EWRONGTHREAD (T2).
   * OWNERSHIP: nothing is kept from the caller.
   * LIFETIME:  the id stays valid for the host's life, the same for every
   *            plugin of that host.
   * SINCE:     ABI 1.0
   */
  int (*topic)(uvp_ctx *ctx, const char *name, size_t len,
               uvp_topic *out_topic);

  /**
   * Subscribe cb to events published on topic.
   *
   * @param ctx        calling plugin's context.
   * @param topic      id from topic().
   * @param cb         called once per matching event; not NULL.
   * @param user_data  passed unchanged to cb and destroy; never read.
   * @param destroy    NULL, or called exactly once with user_data (L1).
   * @param out_id     receives the subscription id; written only on success.
   * @return 0, UVP_EINVAL, UVP_ENOENT (unknown topic), UVP_ENOMEM,
   *         UVP_ENOSPC, UVP_EWRONGTHREAD or UVP_ECLOSED.
   *
   * THREAD:    loop thread only (T2); cb and destroy run on it (T1).
   * OWNERSHIP: on success the host holds user_data until destroy runs; on
   *            failure nothing is kept and destroy is not called (L6).
   * LIFETIME:  the event given to cb is borrowed for that call (L7). A
   *            subscription made during a dispatch sees the next event (D3).
   * SINCE:     ABI 1.0
   */
  int (*subscribe)(uvp_ctx *ctx, uvp_topic topic, uvp_event_cb cb,
                   void *user_data, uvp_destroy_fn destroy, uvp_id *out_id);

  /**
   * Publish a copy of data on topic. Delivery is queued: subscribers run on
   * a later loop turn, never inside this call (D2).
   *
   * @param ctx    calling plugin's context.
   * @param topic  id from topic().
   * @param data   payload; may be NULL only when len is 0; copied.
   * @param len    payload bytes, at most the host's max_payload.
   * @return 0, UVP_EINVAL, UVP_ENOENT, UVP_EMSGSIZE, UVP_EAGAIN (queue
   *         full, D4), UVP_ENOMEM, UVP_EWRONGTHREAD or UVP_ECLOSED.
   *
   * THREAD:    loop thread only (T2).
   * OWNERSHIP: data is copied before return (small payloads inline, no
   *            malloc); the caller keeps its buffer (L9).
   * LIFETIME:  n/a.
   * SINCE:     ABI 1.0
   */
  int (*publish)(uvp_ctx *ctx, uvp_topic topic, const void *data, size_t len);

  /**
   * Publish data without copying; the host owns it until free_fn runs.
   *
   * @param ctx      calling plugin's context.
   * @param topic    id from topic().
   * @param data     payload; may be NULL only when len is 0.
   * @param len      payload bytes, at most the host's max_payload.
   * @param free_fn  not NULL; called as free_fn(data, len, hint).
   * @param hint     passed unchanged to free_fn.
   * @return as publish().
   *
   * THREAD:    loop thread only (T2); free_fn runs on the loop thread.
   * OWNERSHIP: on success the host owns data and calls free_fn exactly once,
   *            after every subscriber saw the event, and always before the
   *            publisher's on_unload: a publisher unloading first has its
   *            queued payloads copied by the host (dropped at close) and
   *            freed (L8); on failure the caller still owns data and free_fn
   *            is not called.
   * LIFETIME:  data must stay valid and unchanged until free_fn runs. The
   *            publishing plugin's object stays mapped until then (A10).
   * SINCE:     ABI 1.0
   */
  int (*publish_owned)(uvp_ctx *ctx, uvp_topic topic, void *data, size_t len,
                       uvp_payload_free_fn free_fn, void *hint);

  /**
   * Start a timer: cb runs after timeout_ms, then every repeat_ms if that is
   * not 0. All of a host's timers share one uv_timer_t.
   *
   * @param ctx         calling plugin's context.
   * @param timeout_ms  delay from the loop's current time (uv_now).
   * @param repeat_ms   0 for a one-shot timer, else the period;
   *                    at most UINT32_MAX.
   * @param cb          not NULL.
   * @param user_data   passed unchanged to cb and destroy.
   * @param destroy     NULL, or called exactly once (L1); for a one-shot
   *                    timer right after its only call (L10).
   * @param out_id      receives the timer id; written only on success.
   * @return 0, UVP_EINVAL, UVP_ENOMEM, UVP_ENOSPC, UVP_EWRONGTHREAD or
   *         UVP_ECLOSED.
   *
   * THREAD:    loop thread only (T2); cb and destroy run on it (T1).
   * OWNERSHIP: as subscribe (L6).
   * LIFETIME:  timers due at the same time run in the order started (D6).
   * SINCE:     ABI 1.0
   */
  int (*timer_start)(uvp_ctx *ctx, uint64_t timeout_ms, uint64_t repeat_ms,
                     uvp_timer_cb cb, void *user_data, uvp_destroy_fn destroy,
                     uvp_id *out_id);

  /**
   * Watch fd for readiness (a uv_poll_t underneath).
   *
   * @param ctx        calling plugin's context.
   * @param fd         an open descriptor libuv can poll (socket, pipe, ...).
   * @param events     UVP_FD_READABLE and/or UVP_FD_WRITABLE; not 0.
   * @param cb         not NULL; called on every readiness until cancelled.
   * @param user_data  passed unchanged to cb and destroy.
   * @param destroy    NULL, or called exactly once (L1).
   * @param out_id     receives the watch id; written only on success.
   * @return 0, UVP_EINVAL (also an fd that is closed or cannot be polled,
   *         e.g. a regular file), UVP_EBUSY (this host already watches fd),
   *         UVP_ENOMEM, UVP_EWRONGTHREAD or UVP_ECLOSED.
   *
   * THREAD:    loop thread only (T2); cb and destroy run on it (T1).
   * OWNERSHIP: fd stays the caller's: the host never closes it. user_data
   *            as subscribe (L6).
   * LIFETIME:  fd must stay open until the watch is cancelled. libuv makes
   *            it non-blocking while watched; when the watch ends the host
   *            makes it blocking again if it was (D7).
   * SINCE:     ABI 1.0
   */
  int (*fd_watch)(uvp_ctx *ctx, int fd, int events, uvp_fd_cb cb,
                  void *user_data, uvp_destroy_fn destroy, uvp_id *out_id);

  /**
   * End a registration (subscription, timer or fd watch).
   *
   * @param ctx  calling plugin's context (must own id).
   * @param id   from subscribe, timer_start or fd_watch.
   * @return 0, UVP_ESTALE (already ended), UVP_ENOENT (not this plugin's,
   *         or never issued), UVP_EINVAL or UVP_EWRONGTHREAD.
   *
   * THREAD:    loop thread only (T2).
   * OWNERSHIP: destroy(user_data) runs before cancel returns, or, when
   *            called from inside that registration's own callback, right
   *            after the callback returns (L1, L2).
   * LIFETIME:  after cancel returns the callback is never called again,
   *            also not for an event already queued (L3).
   * SINCE:     ABI 1.0
   */
  int (*cancel)(uvp_ctx *ctx, uvp_id id);

  /**
   * Write a log line through the embedder's log hook, tagged with the
   * plugin's instance name.
   *
   * @param ctx    calling plugin's context.
   * @param level  a uvp_log_level.
   * @param msg    UTF-8 text, not necessarily NUL-terminated; copied.
   * @param len    bytes of msg.
   * @return 0, UVP_EINVAL or UVP_EWRONGTHREAD.
   *
   * THREAD:    loop thread only (T2).
   * OWNERSHIP: msg stays the caller's.
   * LIFETIME:  n/a.
   * SINCE:     ABI 1.0
   */
  int (*log)(uvp_ctx *ctx, int level, const char *msg, size_t len);

  /**
   * Read the loop's cached time in milliseconds (uv_now), the clock timers
   * use.
   *
   * @param ctx     calling plugin's context.
   * @param out_ms  receives the time; written only on success.
   * @return 0, UVP_EINVAL or UVP_EWRONGTHREAD.
   *
   * THREAD:    loop thread only (T2).
   * OWNERSHIP: n/a.
   * LIFETIME:  n/a.
   * SINCE:     ABI 1.0
   */
  int (*now_ms)(uvp_ctx *ctx, uint64_t *out_ms);

  /**
   * Ask the host to unload this plugin: the unload starts right after the
   * current callback returns (S3) and runs the whole state machine (U1).
   * Called from a destroy or a payload's free_fn, which return into no
   * callback, it starts on the next loop turn.
   *
   * @param ctx  calling plugin's context.
   * @return 0, UVP_EINVAL, UVP_EWRONGTHREAD or UVP_ECLOSED (already
   *         unloading, or the embedder's own ctx).
   *
   * THREAD:    loop thread only (T2).
   * OWNERSHIP: n/a.
   * LIFETIME:  ctx stays valid until the calling callback returns.
   * SINCE:     ABI 1.0
   */
  int (*unload_self)(uvp_ctx *ctx);

  /**
   * Run work(user_data) on the libuv thread pool, then done(ctx, status,
   * user_data) on the loop thread.
   *
   * @param ctx        calling plugin's context.
   * @param work       not NULL; runs on a pool thread, no ctx (T5).
   * @param done       not NULL; runs exactly once on the loop thread (W1).
   * @param user_data  passed to work, done and destroy.
   * @param destroy    NULL, or called once after done (L1).
   * @param out_id     receives the work id; cancel(id) cancels it (W2).
   * @return 0, UVP_EINVAL, UVP_ENOMEM, UVP_EWRONGTHREAD or UVP_ECLOSED.
   *
   * THREAD:    loop thread only (T2).
   * OWNERSHIP: on success the host holds user_data until destroy runs; on
   *            failure nothing is kept (L6). work may use user_data until
   *            it returns; done and destroy run after that.
   * LIFETIME:  unload and close wait for a running work function to return,
   *            at most work_drain_ms; an abandoned item's done and destroy
   *            never run (U3, W6). At most work_concurrency items of the
   *            host run at once, the rest wait (W4); a cancelled waiting
   *            item never runs (W5).
   * SINCE:     ABI 1.0
   */
  int (*work_queue)(uvp_ctx *ctx, uvp_work_fn work, uvp_work_done_cb done,
                    void *user_data, uvp_destroy_fn destroy, uvp_id *out_id);

  /**
   * Get a remote bound to this plugin, holding one reference.
   *
   * @param ctx         calling plugin's context.
   * @param out_remote  receives the remote; written only on success.
   * @return 0, UVP_EINVAL, UVP_ENOMEM, UVP_EWRONGTHREAD or UVP_ECLOSED.
   *
   * THREAD:    loop thread only (T2); the remote is then usable anywhere.
   * OWNERSHIP: the caller owns one reference and gives it back with
   *            remote_release (from any thread).
   * LIFETIME:  the remote stays valid while a reference is held, also after
   *            the plugin stopped or the host closed (posts then fail with
   *            UVP_ECLOSED, R3). An unload-safe plugin is not unmapped
   *            while references are held (U4).
   * SINCE:     ABI 1.0
   */
  int (*remote_new)(uvp_ctx *ctx, uvp_remote **out_remote);

  /* ------------------------------------------------------------------- */
  /* Thread-safe API: the only functions any thread may call (T5).       */
  /* ------------------------------------------------------------------- */

  /**
   * Take one more reference on a remote (e.g. for another thread).
   *
   * @param remote  a remote the caller holds a reference on.
   * @return 0 or UVP_EINVAL.
   *
   * THREAD:    any thread.
   * OWNERSHIP: the caller owns the new reference.
   * LIFETIME:  works after close too; only posting is refused then.
   * SINCE:     ABI 1.0
   */
  int (*remote_acquire)(uvp_remote *remote);

  /**
   * Give back one reference; the last one frees the remote.
   *
   * @param remote  a remote the caller holds a reference on; NULL is a
   *                no-op.
   *
   * THREAD:    any thread, also after the host closed (R5).
   * OWNERSHIP: the caller's reference is gone; do not use remote after.
   * LIFETIME:  n/a.
   * SINCE:     ABI 1.0
   */
  void (*remote_release)(uvp_remote *remote);

  /**
   * Post cb(ctx, user_data) to run on the loop thread with the remote
   * owner's ctx.
   *
   * @param remote     a remote the caller holds a reference on.
   * @param cb         not NULL.
   * @param user_data  passed to cb and destroy.
   * @param destroy    NULL, or called once on the loop thread after cb, or
   *                   instead of it when the owner stops first (R4).
   * @param flags      UVP_POST_NONBLOCK or UVP_POST_BLOCK (D4, R2).
   * @return 0, UVP_EINVAL, UVP_EAGAIN (full, non-blocking) or UVP_ECLOSED
   *         (owner stopped or host closed).
   *
   * THREAD:    any thread; cb and destroy run on the loop thread (T1).
   *            UVP_POST_BLOCK from the loop thread gets UVP_EINVAL: it
   *            could wait forever.
   * OWNERSHIP: on success the host holds user_data until destroy runs; on
   *            failure the caller keeps it and nothing is called (R3).
   * LIFETIME:  posts from one thread run in the order posted (R1).
   * SINCE:     ABI 1.0
   */
  int (*remote_post)(uvp_remote *remote, uvp_post_cb cb, void *user_data,
                     uvp_destroy_fn destroy, int flags);

  /**
   * Publish a copy of data on topic from any thread, as the remote's owner.
   *
   * @param remote  a remote the caller holds a reference on.
   * @param topic   id from topic() of the same host.
   * @param data    payload; NULL only when len is 0; copied before return.
   * @param len     payload bytes, at most the host's max_payload.
   * @param flags   UVP_POST_NONBLOCK or UVP_POST_BLOCK.
   * @return 0, UVP_EINVAL, UVP_EMSGSIZE, UVP_ENOMEM, UVP_EAGAIN or
   *         UVP_ECLOSED. An unknown topic is found out on the loop thread:
   *         the event is then dropped and counted in errors.
   *
   * THREAD:    any thread; subscribers run on the loop thread (T1).
   * OWNERSHIP: data is copied; the caller keeps its buffer (L9).
   * LIFETIME:  events from one thread are delivered in order (R1).
   * SINCE:     ABI 1.0
   */
  int (*remote_publish)(uvp_remote *remote, uvp_topic topic, const void *data,
                        size_t len, int flags);

  /* ---- ABI 1.2: check UVP_HAS_FIELD(api, uvp_api, fault) first ---- */

  /**
   * Report a fault the plugin caught where no status can be returned
   * (on_stop, a destroy, a payload's free_fn, a posted callback's destroy):
   * it is logged and counted exactly as a callback returning status would
   * be, and the plugin's fault policy applies (F7).
   *
   * @param ctx     calling plugin's context.
   * @param status  a negative status; UVP_EPANIC for a caught panic.
   * @param msg     UTF-8 text for the log (NULL only when len is 0); copied.
   * @param len     bytes of msg.
   * @return 0, UVP_EINVAL or UVP_EWRONGTHREAD.
   *
   * THREAD:    loop thread only (T2); allowed inside destroy and free_fn.
   * OWNERSHIP: msg stays the caller's.
   * LIFETIME:  under UVP_FAULT_QUARANTINE a running plugin is quarantined
   *            once the current callback returns (next loop turn when
   *            called from a destroy or free_fn); a stopping one is only
   *            counted.
   * SINCE:     ABI 1.2
   */
  int (*fault)(uvp_ctx *ctx, int status, const char *msg, size_t len);

  /**
   * Read this instance's name (the one given at load, or the descriptor's).
   *
   * @param ctx       calling plugin's context.
   * @param out_name  receives the name, NUL-terminated.
   * @param out_len   receives its length in bytes; may be NULL.
   * @return 0, UVP_EINVAL or UVP_EWRONGTHREAD.
   *
   * THREAD:    loop thread only (T2).
   * OWNERSHIP: the host's; do not free.
   * LIFETIME:  valid until on_unload returns.
   * SINCE:     ABI 1.2
   */
  int (*instance_name)(uvp_ctx *ctx, const char **out_name, size_t *out_len);

  /**
   * Export a service: a named, versioned table of functions other plugins
   * and the embedder can call through service_call (V1-V7).
   *
   * @param ctx     calling plugin's context (the provider).
   * @param desc    the service; copied, except desc->fns.
   * @param out_id  receives the export's id; cancel(ctx, id) withdraws it
   *                (importers are revoked, V5).
   * @return 0, UVP_EINVAL (bad desc, name, size or NULL entries),
   *         UVP_ESVCDUP (the name is exported in this host, V1),
   *         UVP_ECLOSED (not loading or running), UVP_ENOSPC, UVP_ENOMEM
   *         or UVP_EWRONGTHREAD.
   *
   * THREAD:    loop thread only (T2).
   * OWNERSHIP: desc->fns stays the provider's and must stay valid until
   *            desc->destroy ran (or on_unload when destroy is NULL);
   *            instance is given back to destroy exactly once.
   * LIFETIME:  until cancelled or the provider stops; the provider's unload
   *            completes only after the last reference was dropped (V6).
   * SINCE:     ABI 1.3
   */
  int (*service_export)(uvp_ctx *ctx, const uvp_service_export *desc,
                        uvp_id *out_id);

  /**
   * Import a service by name: a reference through which service_call
   * reaches the provider's functions (V2).
   *
   * @param ctx      calling plugin's context, or the embedder's.
   * @param req      name, version wanted, revoke callback.
   * @param out_ref  receives the reference's id.
   * @return 0, UVP_EINVAL, UVP_ENOENT (no such service exported),
   *         UVP_ESVCMAJOR (exported with another major),
   *         UVP_ESVCMINOR (exported minor older than req->min_minor),
   *         UVP_ECLOSED, UVP_ENOSPC, UVP_ENOMEM or UVP_EWRONGTHREAD.
   *
   * THREAD:    loop thread only (T2).
   * OWNERSHIP: req is copied; user_data is given back to destroy exactly
   *            once (L1).
   * LIFETIME:  until cancel(ctx, ref) or the importer unloads; revoke may
   *            run before, after which calls return UVP_ESTALE (V5).
   * SINCE:     ABI 1.3
   */
  int (*service_import)(uvp_ctx *ctx, const uvp_service_import *req,
                        uvp_id *out_ref);

  /**
   * Call function `fn` of the service behind ref, synchronously, with
   * args passed to it unchanged (V3).
   *
   * @param ctx   the importer's context (the one that imported ref).
   * @param ref   from service_import.
   * @param fn    index in the provider's table, < its count.
   * @param args  the function's argument struct; the service defines it.
   * @return the function's status, or, without calling it: UVP_ESTALE
   *         (ref revoked, dropped or unknown), UVP_EBUSY (the provider is
   *         running a callback or a call: no re-entry), UVP_EINVAL
   *         (fn out of range) or UVP_EWRONGTHREAD.
   *
   * THREAD:    loop thread only (T2).
   * OWNERSHIP: args stays the caller's; what its fields point to is as
   *            the service documents.
   * LIFETIME:  the provider's function runs and returns within the call.
   * SINCE:     ABI 1.3
   */
  int (*service_call)(uvp_ctx *ctx, uvp_id ref, uint32_t fn, void *args);

  /**
   * Describe the service behind ref (version, size, provider, revoked).
   *
   * @param ctx  the importer's context.
   * @param ref  from service_import.
   * @param out  out->size set by the caller; filled up to that size.
   * @return 0, UVP_ESTALE (dropped or unknown), UVP_EINVAL or
   *         UVP_EWRONGTHREAD.
   *
   * THREAD:    loop thread only (T2).
   * OWNERSHIP: out->provider is the host's.
   * LIFETIME:  out->provider valid until the current callback returns.
   * SINCE:     ABI 1.3
   */
  int (*service_info)(uvp_ctx *ctx, uvp_id ref, uvp_service_info *out);

  /**
   * A named counter of this instance that the embedder can read (and
   * uvplugd exports as a metric): returns a pointer the plugin increments.
   *
   * @param ctx          calling plugin's context.
   * @param name         1..UVP_NAME_MAX bytes of [a-z0-9_]; copied.
   * @param len          bytes of name.
   * @param out_counter  receives the counter, 0 when new; the same name
   *                     gives the same counter.
   * @return 0, UVP_EINVAL, UVP_ENOSPC (UVP_COUNTERS_MAX per instance),
   *         UVP_ENOMEM or UVP_EWRONGTHREAD.
   *
   * THREAD:    loop thread only (T2); the counter too is written and read
   *            on the loop thread only (plain, not atomic).
   * OWNERSHIP: the host's memory.
   * LIFETIME:  valid until on_unload returns.
   * SINCE:     ABI 1.3
   */
  int (*counter)(uvp_ctx *ctx, const char *name, size_t len,
                 uint64_t **out_counter);
} uvp_api;

/* ===================================================================== */
/* Plugin hooks (what the plugin implements)                              */
/* ===================================================================== */

/* The descriptor a plugin exports as `uvp_plugin_descriptor`. The host reads
 * it before running any plugin code (A8) and only the fields both sides
 * know (A5). Fields are appended only; see version.h. */
typedef struct uvp_plugin_desc {
  uint32_t magic;      /* UVP_PLUGIN_MAGIC, else UVP_EBADMAGIC (A3) */
  uint16_t abi_major;  /* UVP_ABI_MAJOR the plugin was built with (A4) */
  uint16_t abi_minor;  /* UVP_ABI_MINOR the plugin was built with */
  uint32_t size;       /* sizeof(uvp_plugin_desc) as built (A5) */
  uint32_t flags;      /* uvp_plugin_flags */
  const char *name;    /* static, NUL-terminated, 1..UVP_NAME_MAX bytes of
                          [A-Za-z0-9_.-] */
  const char *version; /* static, NUL-terminated; may be NULL */

  /**
   * Create the plugin's state from its config.
   *
   * @param ctx        this instance's context; keep it for later calls.
   * @param api        the host's function table.
   * @param config     config string given at load; NUL-terminated too.
   * @param len        bytes of config.
   * @param out_state  set to the plugin's state (may be NULL).
   * @return 0, or a negative status: the load fails with UVP_EINIT, every
   *         registration made so far is destroyed, and on_unload is NOT
   *         called (A9).
   *
   * THREAD:    loop thread.
   * OWNERSHIP: ctx, api and config are the host's; config is valid for
   *            this call only, ctx and api until on_unload returns.
   * LIFETIME:  n/a.
   * SINCE:     ABI 1.0; required.
   */
  int (*on_init)(uvp_ctx *ctx, const uvp_api *api, const char *config,
                 size_t len, void **out_state);

  /**
   * Start: the host is ready to deliver events. May be NULL.
   *
   * @return 0, or a negative status: the load fails with UVP_EINIT and the
   *         plugin is unloaded (on_stop is not called, on_unload is).
   *
   * THREAD:    loop thread.
   * OWNERSHIP: n/a.
   * LIFETIME:  n/a.
   * SINCE:     ABI 1.0
   */
  int (*on_start)(uvp_ctx *ctx, void *state);

  /**
   * Stop: called once when unload begins. From now on registrations fail
   * with UVP_ECLOSED; cancel and publish still work. May be NULL.
   *
   * THREAD:    loop thread.
   * OWNERSHIP: n/a.
   * LIFETIME:  after it returns, every registration is cancelled and its
   *            destroy runs, and the remote is closed (U1). Posts are still
   *            accepted while on_stop runs, so join threads that post in
   *            on_unload, not here: a blocked poster only sees UVP_ECLOSED
   *            once on_stop has returned.
   * SINCE:     ABI 1.0
   */
  void (*on_stop)(uvp_ctx *ctx, void *state);

  /**
   * Free the state. Called last, after every destroy of the plugin ran;
   * ctx is no longer valid. May be NULL.
   *
   * THREAD:    loop thread.
   * OWNERSHIP: the plugin frees state with its own allocator.
   * LIFETIME:  no plugin callback runs after this (A10).
   * SINCE:     ABI 1.0
   */
  void (*on_unload)(void *state);
} uvp_plugin_desc;

#ifdef __cplusplus
}
#endif

#endif /* UVPLUG_PLUGIN_H */
