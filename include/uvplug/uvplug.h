/* uvplug embedding API: attach a plugin host to a libuv loop you already run.
 *
 *   uvp_host *host;
 *   uvp_host_options opts = UVP_HOST_OPTIONS_INIT;
 *   int rc = uvp_host_new(loop, &opts, &host);
 *   if (rc == 0) rc = uvp_host_load(host, "counter.so", "counter-a", "", NULL);
 *   if (rc < 0) fprintf(stderr, "uvplug: %s\n", uvp_strerror(rc));
 *   ... uv_run(loop, UV_RUN_DEFAULT) ...
 *   uvp_host_close(host, on_closed, daemon);
 *
 * A host binds to the thread that creates it, which must be the thread that
 * runs the loop; every function here is loop thread only unless it says
 * otherwise (T3). Hosts share no state: several hosts on several loops in
 * one process are independent (T4). Rules T1, L1, ... are in
 * docs/contract.md.
 */
#ifndef UVPLUG_UVPLUG_H
#define UVPLUG_UVPLUG_H

#include <uv.h>

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(UVP_BUILDING_LIBRARY) && defined(__GNUC__)
#define UVP_EXTERN __attribute__((visibility("default")))
#else
#define UVP_EXTERN /* nothing */
#endif

/* ===================================================================== */
/* Types                                                                  */
/* ===================================================================== */

typedef struct uvp_host uvp_host;

/* Receives every log line of the host and its plugins.
 *
 * @param log_data  the options' log_data, unchanged.
 * @param level     a uvp_log_level.
 * @param plugin    instance name, or "host"; NUL-terminated.
 * @param msg       the line, not NUL-terminated, without a newline.
 * @param len       bytes of msg.
 *
 * THREAD:    loop thread. OWNERSHIP: plugin and msg are borrowed for the
 * call. It may not call back into the host. */
typedef void (*uvp_log_fn)(void *log_data, int level, const char *plugin,
                           const char *msg, size_t len);

/* What the host does when a plugin callback returns UVP_EPANIC (F1). */
typedef enum uvp_fault_policy {
  UVP_FAULT_DEFAULT = 0,    /* host: quarantine; plugin: the host's policy */
  UVP_FAULT_QUARANTINE = 1, /* stop delivering now, unload next turn */
  UVP_FAULT_LOG = 2,        /* count, log and keep delivering */
  UVP_FAULT_ABORT = 3       /* log and abort() the process */
} uvp_fault_policy;

/* SINCE 0.2. The allocator of one host (uvp_host_options.allocator), in
 * the shape of uv_replace_allocator's four functions plus a data pointer.
 *
 * Per host, not process-wide: hosts share no state (T4), so two hosts in
 * one process may use two allocators, and a library linked twice never
 * fights over a global. Everything the library allocates for a host goes
 * through it: the host, its tables, queued payload copies, plugin contexts,
 * remotes and their inbox, work records, long log lines. What it does not
 * cover: libuv's own allocations (uv_replace_allocator), the dynamic
 * linker's (dlopen), a plugin's own, and nothing is allocated before a host
 * exists (uvp_host_new allocates the host itself through it).
 *
 * What outlives uvp_host_close's on_closed: a remote released after close
 * (R5) and a work record abandoned past work_drain_ms (W6) are freed later,
 * on whatever thread drops them. So the functions and `data` must stay
 * valid until the last remote reference of the host is released and every
 * abandoned work function has returned; the struct itself is copied by
 * uvp_host_new. All four are required; size must be at least
 * sizeof(uvp_allocator) of 0.2. The library never passes NULL to free or
 * realloc, nor a size of 0. A NULL return is reported as UVP_ENOMEM, or as
 * the documented outcome of the call that needed the memory. */
typedef struct uvp_allocator {
  uint32_t size; /* sizeof(uvp_allocator) as compiled */
  /**
   * malloc(3) for the host: size bytes aligned for any type, or NULL.
   * THREAD:    any thread: remote publishes copy payloads on the
   *            producer's thread; must be thread-safe.
   * OWNERSHIP: the block is the library's until it passes it to free.
   * LIFETIME:  called until the host's last remote and abandoned work are
   *            gone (see above).
   * SINCE:     0.2
   */
  void *(*malloc)(void *data, size_t size);
  /**
   * calloc(3): n * size zeroed bytes, or NULL (also when n * size
   * overflows).
   * THREAD:    any thread; must be thread-safe.
   * OWNERSHIP: as malloc.
   * LIFETIME:  as malloc.
   * SINCE:     0.2
   */
  void *(*calloc)(void *data, size_t n, size_t size);
  /**
   * realloc(3) of a block from these functions; never given NULL or 0.
   * On NULL the old block stays the library's, unchanged.
   * THREAD:    any thread; must be thread-safe.
   * OWNERSHIP: as malloc.
   * LIFETIME:  as malloc.
   * SINCE:     0.2
   */
  void *(*realloc)(void *data, void *ptr, size_t size);
  /**
   * free(3) of a block from these functions; never given NULL.
   * THREAD:    any thread: a remote released after close is freed on the
   *            releasing thread (R5); must be thread-safe.
   * OWNERSHIP: takes the block back.
   * LIFETIME:  as malloc.
   * SINCE:     0.2
   */
  void (*free)(void *data, void *ptr);
  void *data; /* passed to each, unchanged */
} uvp_allocator;

/* Host options, size-prefixed. Start from UVP_HOST_OPTIONS_INIT; a field
 * left 0 takes its default. */
typedef struct uvp_host_options {
  uint32_t size;            /* sizeof(uvp_host_options) as compiled */
  uvp_log_fn log;           /* NULL: lines go to stderr */
  void *log_data;           /* passed to log */
  int log_level;            /* highest level passed on; default UVP_LOG_INFO */
  uint32_t queue_capacity;  /* queued events before UVP_EAGAIN; 65536 */
  uint32_t max_payload;     /* largest payload in bytes; 1 MiB */
  uint32_t batch;           /* events dispatched per loop turn; 1024 */
  uint32_t max_topics;      /* distinct topics; 65536 */
  int fault_policy;         /* uvp_fault_policy; UVP_FAULT_QUARANTINE */
  uint32_t remote_capacity; /* posts queued from all threads; 65536 */
  int no_metrics;           /* nonzero: skip the per-call counters of the stats
                               (calls, events, posts); for measuring their cost */

  /* Work offload (W4, W6). work_concurrency: work items of all plugins
   * (and of the embedder's host ctx) on libuv's process-wide thread pool at
   * once; more wait in a FIFO. Default 2, half of libuv's default pool of
   * 4, so that the embedder's own fs and DNS requests always find threads;
   * with a larger UV_THREADPOOL_SIZE raise it. work_drain_ms: how long an
   * unload or close waits for running work before abandoning it; 30000. */
  uint32_t work_concurrency;
  uint32_t work_drain_ms;

  /* SINCE 0.3. Slow-callback watchdog, in ms; 0 (the default): off. A
   * plugin (or the embedder's ctx, logged as "host") holding the loop
   * thread longer than this in one span of callbacks (see
   * uvp_plugin_stats.cb_hist) is counted in its slow_callbacks and in the
   * host's, and logged at warn level, at most one line per plugin per
   * second (the rest are counted, and the next line says how many).
   * Needs the timing, so no_metrics turns it off too. */
  uint32_t slow_callback_ms;

  /* SINCE 0.2. NULL: malloc, calloc, realloc and free of the C library.
   * Else the host's allocator, copied (see uvp_allocator). */
  const uvp_allocator *allocator;
} uvp_host_options;

/* Designated, so that a field appended later is 0 (its default) without a
 * change here. */
#define UVP_HOST_OPTIONS_INIT \
  { .size = sizeof(uvp_host_options), .log_level = UVP_LOG_INFO }

/* Per-plugin options of uvp_host_load, size-prefixed; NULL or a field left
 * 0 takes the host's setting. */
typedef struct uvp_load_options {
  uint32_t size;         /* sizeof(uvp_load_options) as compiled */
  int fault_policy;      /* uvp_fault_policy for this plugin (F1) */
  uint32_t remote_limit; /* posts queued for this plugin; remote_capacity */

  /* This plugin's work items on the pool at once (W4); 0 or more than the
   * host's work_concurrency means work_concurrency. */
  uint32_t work_limit;

  /* ABI 1.1: safe loading. Nonzero: refuse a file writable by group or
   * others or owned by another user than root or the effective user, or
   * reached through a directory that is (StrictModes; a sticky directory
   * is fine for entries of root or the user) (A17). */
  int strict_modes;
  /* NULL, or the 32-byte SHA-256 the file must have; the bytes hashed are
   * copied into a sealed memfd and those are mapped (A18). Read during the
   * call only. */
  const uint8_t *sha256;
} uvp_load_options;

#define UVP_LOAD_OPTIONS_INIT \
  { .size = sizeof(uvp_load_options) }

/* Plugin states, as uvp_plugin_stats.state reports them. */
typedef enum uvp_plugin_state {
  UVP_PLUGIN_LOADING = 0,
  UVP_PLUGIN_RUNNING = 1,
  UVP_PLUGIN_STOPPING = 2,
  UVP_PLUGIN_QUARANTINED = 3,
  UVP_PLUGIN_DRAINING = 4 /* stopped; waits for work or remote references */
} uvp_plugin_state;

/* Buckets of uvp_plugin_stats.cb_hist, callback durations on a log2 scale
 * of microseconds:
 *   bucket 0        < 1 us
 *   bucket i        [2^(i-1), 2^i) us, for i = 1..14 (1 us .. 16.384 ms)
 *   bucket 15       >= 16.384 ms
 * so the upper bound ("le") of bucket i < 15 is 2^i us, and +Inf for 15. */
#define UVP_CB_HIST_BUCKETS 16

/* Per-plugin counters, size-prefixed (set size before the call). */
typedef struct uvp_plugin_stats {
  uint32_t size;            /* caller sets sizeof(uvp_plugin_stats) */
  int state;                /* uvp_plugin_state */
  uint64_t calls;           /* callbacks run: events, timers, fd */
  uint64_t events;          /* of those, topic events delivered */
  uint64_t published;       /* events the plugin published */
  uint64_t errors;          /* callbacks that returned a negative status */
  uint64_t panics;          /* callbacks that returned UVP_EPANIC */
  uint64_t wrong_thread;    /* calls refused with UVP_EWRONGTHREAD */
  uint32_t registrations;   /* live subscriptions, timers, fd watches, work */
  uint64_t posts;           /* posted callbacks and remote publishes run */
  uint32_t post_queued;     /* posts waiting in the queue now */
  uint32_t post_high_water; /* most posts ever waiting at once */
  uint32_t remote_refs;     /* references held on the plugin's remote */
  uint32_t work_pending;    /* work items queued or running */

  /* Of work_pending: on the thread pool, and waiting (for the bounds, or,
   * cancelled while waiting, for their done) (W4, W5). */
  uint32_t work_running;
  uint32_t work_queued;
  /* Host-wide, the same in every plugin's stats: work items abandoned at an
   * unload or close whose work function has not returned yet (W6). */
  uint32_t work_abandoned;

  /* SINCE 0.3: callback timing, unless the host has no_metrics (then 0).
   * Timed: subscriber, timer, fd, post and work-done callbacks, on_init,
   * on_start and on_stop. To stay cheap the host reads the clock per span,
   * not per callback: a span is a run of consecutive callbacks of this
   * plugin, of one kind, inside one libuv callback (a dispatch batch, a
   * timer round, ...); each of its callbacks is counted in the bucket of
   * the span's mean duration. A span of one callback (the usual case
   * outside a burst) is that callback's own time. */
  uint64_t cb_ns_total;                  /* ns spent in its callbacks */
  uint64_t cb_hist[UVP_CB_HIST_BUCKETS]; /* callbacks by duration */
  uint64_t slow_callbacks; /* spans over the host's slow_callback_ms */
} uvp_plugin_stats;

/* Host-wide counters, size-prefixed (set size before the call). Counts of
 * what lives now (topics .. work_items, depths) are exact at the call;
 * the rest only grow for the host's life. */
typedef struct uvp_host_stats {
  uint32_t size;    /* caller sets sizeof(uvp_host_stats) */
  uint32_t topics;  /* interned topics (they live as long as the host) */
  uint32_t plugins; /* instances uvp_host_plugin_name lists */
  uint32_t plugins_by_state[5]; /* of those, indexed by uvp_plugin_state */
  /* Live registrations of every plugin and the embedder's ctx. */
  uint32_t subscriptions;
  uint32_t timers;
  uint32_t fd_watches;
  uint32_t work_items;       /* queued, running, or cancelled awaiting done */
  uint64_t queue_depth;      /* events queued now */
  uint64_t queue_high_water; /* most events ever queued at once */
  uint64_t queue_refused; /* publishes refused with UVP_EAGAIN, all sources */
  /* Cross-thread inbox (posts and remote publishes of every remote). Depth
   * counts cells claimed and not yet taken by the loop; the high water is
   * the most the loop found when it drained. refused: posts and publishes
   * refused with UVP_EAGAIN (a blocking post that waited is not). */
  uint64_t remote_depth;
  uint64_t remote_high_water;
  uint64_t remote_refused;
  /* Sums over the topics (uvp_topic_stats): events accepted, subscriber
   * callbacks run (0 with no_metrics). */
  uint64_t published;
  uint64_t delivered;
  /* of every plugin, unloaded ones included, and of the embedder's ctx */
  uint64_t slow_callbacks;
  /* Remote publishes accepted but still queued when their plugin stopped
   * or the host closed: dropped undelivered (R4), counted here. */
  uint64_t remote_dropped;
  /* SINCE 0.3. The process bus (X rules), 0 when the host never joined
   * one. sent: copies of publishes on shared topics handed to other hosts'
   * inboxes; received: such copies this host took from its inbox;
   * refused: publishes refused with UVP_EAGAIN because a receiving host's
   * ring was full (nothing delivered anywhere: X3), plus, per receiving
   * host, remote publishes forwarded after their local delivery that found
   * its ring full (not copied to that host: X5). */
  uint64_t bus_sent;
  uint64_t bus_received;
  uint64_t bus_refused;
  /* SINCE 0.3. Copies queued to this host when it closed: freed
   * undelivered (X6). */
  uint64_t bus_dropped;
} uvp_host_stats;

/* Per-topic counters, size-prefixed (set size before the call). */
typedef struct uvp_topic_stats {
  uint32_t size;        /* caller sets sizeof(uvp_topic_stats) */
  uint32_t subscribers; /* live subscriptions now */
  /* Events accepted on the topic: by publish, publish_owned and
   * uvp_host_publish when queued, and remote publishes when the loop takes
   * them from the inbox. Events dropped at close were still published. */
  uint64_t published;
  uint64_t delivered; /* subscriber callbacks run; 0 with no_metrics */
} uvp_topic_stats;

/* What the host knows of a loaded instance, size-prefixed. */
typedef struct uvp_plugin_info {
  uint32_t size;    /* caller sets sizeof(uvp_plugin_info) */
  int state;        /* uvp_plugin_state */
  int unload_safe;  /* nonzero: UVP_PLUGIN_UNLOAD_SAFE, unmapped at unload */
  const char *name; /* instance name */
  const char *desc_name;    /* the descriptor's name */
  const char *desc_version; /* the descriptor's version, or "" */
  const char *path;         /* as given to the load or reload */
} uvp_plugin_info;

/* ===================================================================== */
/* Status codes                                                           */
/* ===================================================================== */

/**
 * Describe a status code.
 *
 * @param status  any int.
 * @return a static string; "unknown error" for codes it does not know,
 *         never NULL.
 *
 * THREAD:    any thread.
 * OWNERSHIP: the string is static; do not free it.
 * LIFETIME:  valid for the life of the process.
 * SINCE:     0.1
 */
UVP_EXTERN const char *uvp_strerror(int status);

/**
 * Name a status code ("UVP_EINVAL").
 *
 * @param status  any int.
 * @return a static string; "UVP_UNKNOWN" for unknown codes, never NULL.
 *
 * THREAD:    any thread.
 * OWNERSHIP: static; do not free.
 * LIFETIME:  valid for the life of the process.
 * SINCE:     0.1
 */
UVP_EXTERN const char *uvp_err_name(int status);

/**
 * The library version, UVP_VERSION_STRING of the build that is linked.
 *
 * @return a static string such as "0.1.0", never NULL.
 *
 * THREAD:    any thread.
 * OWNERSHIP: static; do not free.
 * LIFETIME:  valid for the life of the process.
 * SINCE:     0.1
 */
UVP_EXTERN const char *uvp_version_string(void);

/**
 * The library version as a number, like uv_version().
 *
 * @return (UVP_VERSION_MAJOR << 16) | (UVP_VERSION_MINOR << 8) |
 *         UVP_VERSION_PATCH of the build that is linked; compare it with
 *         UVP_VERSION_HEX of the header compiled against.
 *
 * THREAD:    any thread.
 * OWNERSHIP: n/a.
 * LIFETIME:  n/a.
 * SINCE:     0.2
 */
UVP_EXTERN unsigned int uvp_version(void);

/**
 * Name a log level: "error", "warn", "info", "debug".
 *
 * @param level  any int.
 * @return a static string; "unknown" for anything but a uvp_log_level,
 *         never NULL.
 *
 * THREAD:    any thread.
 * OWNERSHIP: static; do not free.
 * LIFETIME:  valid for the life of the process.
 * SINCE:     0.2
 */
UVP_EXTERN const char *uvp_log_level_name(int level);

/* ===================================================================== */
/* Host                                                                   */
/* ===================================================================== */

/**
 * Create a host on an existing loop. The host binds to the calling thread.
 *
 * @param loop      the loop; the caller keeps owning it and runs it.
 * @param options   NULL for defaults, or options with size set; copied.
 * @param out_host  receives the host; written only on success.
 * @return 0, UVP_EINVAL (NULL loop or out_host, options size smaller than
 *         uvp_host_options of 0.1 or ending inside a field, F3; an
 *         allocator with a size too small or a NULL function) or
 *         UVP_ENOMEM (nothing is left allocated then).
 *
 * THREAD:    the thread that runs loop (T3).
 * OWNERSHIP: the caller owns the host until it calls uvp_host_close.
 * LIFETIME:  loop must outlive the host; the host holds handles on it, so
 *            uv_run does not return until the host is closed.
 * SINCE:     0.1
 */
UVP_EXTERN int uvp_host_new(uv_loop_t *loop, const uvp_host_options *options,
                            uvp_host **out_host);

/* Called once when uvp_host_close has finished. */
typedef void (*uvp_host_closed_fn)(void *data);

/**
 * Close the host: unload every plugin (newest first; every destroy and
 * on_unload runs), drop queued events (owned payloads are freed), wait for
 * running work, the embedder's own (uvp_host_ctx) included: its done gets
 * UVP_ECANCELED, then destroy (W1), close the host's handles, then free
 * the host and call on_closed. Work still running after work_drain_ms is
 * abandoned (W6): on_closed runs anyway, and until those work functions
 * return libuv holds a request on the loop, so uv_run keeps running and
 * uv_loop_close returns UV_EBUSY. Called from inside a callback, nothing
 * but that teardown runs after it returns: not the rest of the event's
 * subscribers, nor queued events, posts or due timers (S4).
 *
 * @param host       the host.
 * @param on_closed  NULL, or called once on the loop thread when done.
 * @param data       passed to on_closed.
 * @return 0, UVP_EINVAL, UVP_EWRONGTHREAD, or UVP_ECLOSED if already closing.
 *
 * THREAD:    loop thread only (T3).
 * OWNERSHIP: the host is freed before on_closed runs.
 * LIFETIME:  host may not be used after this returns 0 (S2); the loop must
 *            run (uv_run) for on_closed to be called.
 * SINCE:     0.1
 */
UVP_EXTERN int uvp_host_close(uvp_host *host, uvp_host_closed_fn on_closed,
                              void *data);

/**
 * Load a plugin: open path once (no blocking on special files), refuse what
 * is not a regular file or not an ELF shared object for this machine, map
 * exactly the file opened (never the path again), validate its descriptor,
 * create its context, call on_init(config) then on_start (A1-A16).
 *
 * @param host    the host.
 * @param path    path of the shared object, non-empty; one without '/' is
 *                relative to the working directory, never searched on the
 *                system library path (A12); copied.
 * @param name    instance name, or NULL to use the descriptor's name;
 *                1..UVP_NAME_MAX bytes of [A-Za-z0-9_.-]; copied.
 * @param config  NUL-terminated config string, or NULL for ""; copied.
 * @param options NULL for the host's settings, or options with size set;
 *                copied.
 * @return 0, UVP_EINVAL, UVP_ENOTFOUND, UVP_EACCES, UVP_ENOTREG,
 *         UVP_ENOTELF, UVP_EMACHINE, UVP_ENOTDYN, UVP_EFILEMODE,
 *         UVP_EFILEOWNER, UVP_EDIRMODE, UVP_EHASH, UVP_ENOTSO, UVP_ENOSYM,
 *         UVP_EBADMAGIC, UVP_EABI, UVP_ESHORT, UVP_EBADDESC, UVP_EDUPNAME,
 *         UVP_EINIT, UVP_ENOMEM, UVP_EWRONGTHREAD or UVP_ECLOSED; every
 *         failure logs one line naming the file, and uvp_host_load_error
 *         returns the same text (A1-A16).
 *
 * THREAD:    loop thread only (T3); on_init and on_start run on it.
 * OWNERSHIP: the host owns the loaded plugin until unload or close.
 * LIFETIME:  on failure nothing of the plugin remains but, when the object
 *            was not unload-safe, its mapping (A9, A10); and if on_init or
 *            on_start queued work that still runs, an unlisted instance
 *            (its name is free at once) whose done, destroy and on_unload
 *            run later on the loop thread (A9).
 * SINCE:     0.1
 */
UVP_EXTERN int uvp_host_load(uvp_host *host, const char *path, const char *name,
                             const char *config,
                             const uvp_load_options *options);

/**
 * Unload a plugin instance (U1): on_stop, refuse new registrations, cancel
 * every registration and queued work, close its remote, run every destroy
 * (also of posts still queued), on_unload, and dlclose when the object is
 * unload-safe and nothing can run its code any more (A10, U4). Running
 * work makes the plugin DRAINING until it returns (U3), at most
 * work_drain_ms: then it is abandoned (W6: logged; its done and destroy
 * never run; the object stays mapped); remote references still held keep
 * an unload-safe object mapped until the last release.
 * When called from inside one of that plugin's callbacks, the unload
 * starts right after that callback returns (S3).
 *
 * @param host  the host.
 * @param name  instance name.
 * @return 0, UVP_EINVAL, UVP_ENOENT (no such instance), UVP_EWRONGTHREAD or
 *         UVP_ECLOSED (already unloading).
 *
 * THREAD:    loop thread only (T3).
 * OWNERSHIP: n/a.
 * LIFETIME:  after it returns 0 the name may be loaded again.
 * SINCE:     0.1
 */
UVP_EXTERN int uvp_host_unload(uvp_host *host, const char *name);

/**
 * Replace a plugin instance with a new load of path: load and start the
 * new one, then unload the old one, which keeps running if the new load
 * fails (U5). The new instance takes the old one's name.
 *
 * @param host     the host.
 * @param name     instance name of the running plugin.
 * @param path     path of the new shared object, as for uvp_host_load: the
 *                 file there now is mapped, even when it replaced (rename)
 *                 the file the old instance came from (A13).
 * @param config   NUL-terminated config for the new instance, or NULL.
 * @param options  as for uvp_host_load.
 * @return 0, UVP_ENOENT (no such instance), UVP_ECLOSED (it is unloading),
 *         or any error of uvp_host_load (then the old instance is intact).
 *
 * THREAD:    loop thread only (T3).
 * OWNERSHIP: as uvp_host_load.
 * LIFETIME:  the old instance unloads as uvp_host_unload describes.
 * SINCE:     0.1
 */
UVP_EXTERN int uvp_host_reload(uvp_host *host, const char *name,
                               const char *path, const char *config,
                               const uvp_load_options *options);

/**
 * Why the host's last uvp_host_load or uvp_host_reload failed, without a
 * log hook (A15).
 *
 * @param host        the host.
 * @param out_status  receives that call's status (0 after a success or
 *                    before any load); written only on success.
 * @param out_msg     receives "PATH: cause", escaped as log lines are
 *                    (A16), or "" after a success; written only on success.
 * @return 0, UVP_EINVAL or UVP_EWRONGTHREAD.
 *
 * THREAD:    loop thread only (T3).
 * OWNERSHIP: the string belongs to the host.
 * LIFETIME:  valid until the next load or reload call on the host, or
 *            uvp_host_close.
 * SINCE:     ABI 1.1
 */
UVP_EXTERN int uvp_host_load_error(uvp_host *host, int *out_status,
                                   const char **out_msg);

/**
 * Read a plugin instance's counters.
 *
 * @param host       the host.
 * @param name       instance name.
 * @param out_stats  caller-allocated, with size set; fields that fit are
 *                   written, only on success.
 * @return 0, UVP_EINVAL (NULL, or a size ending inside a field: F3),
 *         UVP_ENOENT or UVP_EWRONGTHREAD.
 *
 * THREAD:    loop thread only (T3).
 * OWNERSHIP: out_stats stays the caller's.
 * LIFETIME:  a snapshot; counters keep moving.
 * SINCE:     0.1
 */
UVP_EXTERN int uvp_host_plugin_stats(uvp_host *host, const char *name,
                                     uvp_plugin_stats *out_stats);

/**
 * Read the host-wide counters (O1).
 *
 * @param host  the host.
 * @param out   caller-allocated, with size set; the fields that fit are
 *              written, only on success.
 * @return 0, UVP_EINVAL (NULL, or a size shorter than topics or ending
 *         inside a field: F3), UVP_EWRONGTHREAD or UVP_ECLOSED.
 *
 * THREAD:    loop thread only (T3).
 * OWNERSHIP: out stays the caller's.
 * LIFETIME:  a snapshot; counters keep moving.
 * SINCE:     0.2
 */
UVP_EXTERN int uvp_host_get_stats(uvp_host *host, uvp_host_stats *out);

/**
 * Read one topic's counters, by index in interning order (O1).
 *
 * @param host      the host.
 * @param index     0 .. uvp_host_stats.topics - 1; the topic's id is
 *                  index + 1.
 * @param out_name  NULL, or receives the topic's name, NUL-terminated;
 *                  written only on success.
 * @param out       caller-allocated, with size set; fields that fit are
 *                  written, only on success.
 * @return 0, UVP_EINVAL (NULL out, or a size shorter than subscribers or
 *         ending inside a field), UVP_ENOENT (index past the end),
 *         UVP_EWRONGTHREAD or UVP_ECLOSED.
 *
 * THREAD:    loop thread only (T3).
 * OWNERSHIP: the name belongs to the host.
 * LIFETIME:  the name is valid for the host's life (topics are never
 *            dropped).
 * SINCE:     0.2
 */
UVP_EXTERN int uvp_host_topic_stats(uvp_host *host, uint32_t index,
                                    const char **out_name,
                                    uvp_topic_stats *out);

/**
 * Describe a loaded instance: state, descriptor name and version, path.
 *
 * @param host  the host.
 * @param name  instance name (as uvp_host_plugin_stats finds it).
 * @param out   caller-allocated, with size set; fields that fit are
 *              written, only on success.
 * @return 0, UVP_EINVAL (NULL, or a size shorter than state or ending
 *         inside a field), UVP_ENOENT (no such instance), UVP_EWRONGTHREAD
 *         or UVP_ECLOSED.
 *
 * THREAD:    loop thread only (T3).
 * OWNERSHIP: the strings belong to the host (desc_name, desc_version: to
 *            the plugin's object).
 * LIFETIME:  the strings are valid until that instance is unloaded or
 *            reloaded.
 * SINCE:     0.2
 */
UVP_EXTERN int uvp_host_plugin_info(uvp_host *host, const char *name,
                                    uvp_plugin_info *out);

/**
 * Change, at run time, the highest level passed to the log hook (or to
 * stderr): lines above it are dropped before they are formatted. Takes
 * effect from the next line (O3).
 *
 * @param host   the host.
 * @param level  UVP_LOG_ERROR .. UVP_LOG_DEBUG.
 * @return 0, UVP_EINVAL (NULL host or a level out of range),
 *         UVP_EWRONGTHREAD or UVP_ECLOSED.
 *
 * THREAD:    loop thread only (T3).
 * OWNERSHIP: n/a.
 * LIFETIME:  until the next call; it replaces the options' log_level.
 * SINCE:     0.2
 */
UVP_EXTERN int uvp_host_set_log_level(uvp_host *host, int level);

/**
 * Iterate over loaded instance names, in load order.
 *
 * @param host      the host.
 * @param index     0, 1, ... until UVP_ENOENT.
 * @param out_name  receives the instance name; written only on success.
 * @return 0, UVP_EINVAL, UVP_ENOENT (index past the end) or
 *         UVP_EWRONGTHREAD.
 *
 * THREAD:    loop thread only (T3).
 * OWNERSHIP: the name belongs to the host.
 * LIFETIME:  valid until that plugin is unloaded.
 * SINCE:     0.1
 */
UVP_EXTERN int uvp_host_plugin_name(uvp_host *host, uint32_t index,
                                    const char **out_name);

/**
 * The host's own context and the API table, so the embedder can use every
 * uvp_api function (subscribe, timers, publish...) exactly as a plugin
 * does. Registrations made this way are destroyed at uvp_host_close.
 *
 * @param host     the host.
 * @param out_ctx  receives the host context; written only on success.
 * @param out_api  receives the API table; written only on success.
 * @return 0, UVP_EINVAL or UVP_EWRONGTHREAD.
 *
 * THREAD:    loop thread only (T3); the API follows its own rules (T2).
 * OWNERSHIP: both belong to the host.
 * LIFETIME:  valid until uvp_host_close is called.
 * SINCE:     0.1
 */
UVP_EXTERN int uvp_host_ctx(uvp_host *host, uvp_ctx **out_ctx,
                            const uvp_api **out_api);

/**
 * Intern a topic name for the embedder, as uvp_api.topic does.
 *
 * @param host       the host.
 * @param name       NUL-terminated UTF-8, 1..UVP_TOPIC_MAX bytes; copied.
 * @param out_topic  receives the topic id; written only on success.
 * @return 0, UVP_EINVAL, UVP_ENOSPC, UVP_ENOMEM, UVP_EWRONGTHREAD or
 *         UVP_ECLOSED.
 *
 * THREAD:    loop thread only (T3).
 * OWNERSHIP: name stays the caller's.
 * LIFETIME:  the id is valid for the host's life.
 * SINCE:     0.1
 */
UVP_EXTERN int uvp_host_topic(uvp_host *host, const char *name,
                              uvp_topic *out_topic);

/**
 * Publish a copy of data on topic from the embedder, as uvp_api.publish
 * does; subscribers run on a later loop turn (D2).
 *
 * @param host   the host.
 * @param topic  id from uvp_host_topic.
 * @param data   payload; NULL only when len is 0; copied.
 * @param len    payload bytes, at most the host's max_payload.
 * @return 0, UVP_EINVAL, UVP_ENOENT, UVP_EMSGSIZE, UVP_EAGAIN, UVP_ENOMEM,
 *         UVP_EWRONGTHREAD or UVP_ECLOSED.
 *
 * THREAD:    loop thread only (T3).
 * OWNERSHIP: data is copied before return (L9).
 * LIFETIME:  n/a.
 * SINCE:     0.1
 */
UVP_EXTERN int uvp_host_publish(uvp_host *host, uvp_topic topic,
                                const void *data, size_t len);

/* ---- the process bus (SINCE 0.3): topics across loops (X rules) ------- */

/* Links hosts that run on different loops (threads) of one process: a
 * publish on a shared topic on one host is delivered to its own subscribers
 * and to the subscribers of every other joined host, through a bounded
 * single-producer ring per (sender, receiver) pair. */
typedef struct uvp_bus uvp_bus;

/* Bus options, size-prefixed; a field left 0 takes its default. */
typedef struct uvp_bus_options {
  uint32_t size;        /* sizeof(uvp_bus_options) as compiled */
  uint32_t max_hosts;   /* hosts that may join; 64 (at most 256) */
  uint32_t capacity;    /* cells per (sender, receiver) ring; 1024 */
  uint32_t max_payload; /* largest payload carried across; 1 MiB */
  /* NULL: the C library's. Payload copies for other loops are allocated on
   * the publisher's thread and freed on the receiver's with it. */
  const uvp_allocator *allocator;
} uvp_bus_options;

#define UVP_BUS_OPTIONS_INIT \
  { .size = sizeof(uvp_bus_options) }

/**
 * Create a bus. Topics are then declared shared (uvp_bus_share) and hosts
 * join (uvp_host_join_bus), in that order.
 *
 * @param options  NULL for the defaults, or size-prefixed options.
 * @param out_bus  receives the bus; written only on success.
 * @return 0, UVP_EINVAL (NULL out_bus, bad size, max_hosts over 256) or
 *         UVP_ENOMEM.
 *
 * THREAD:    any thread.
 * OWNERSHIP: the bus is the caller's, freed with uvp_bus_free; options
 *            are copied.
 * LIFETIME:  until uvp_bus_free, which comes after every joined host
 *            closed.
 * SINCE:     0.3
 */
UVP_EXTERN int uvp_bus_new(const uvp_bus_options *options, uvp_bus **out_bus);

/**
 * Declare a topic process-wide: its publishes cross to every joined host
 * (X1). Topics not declared stay on their loop.
 *
 * @param bus         the bus.
 * @param topic_name  NUL-terminated, as uvp_host_topic takes; copied.
 * @return 0 (also when already shared), UVP_EINVAL (NULL or a bad name),
 *         UVP_EBUSY (a host joined already: scope is fixed before hosts
 *         join), UVP_ENOSPC (more than 65536 shared topics) or UVP_ENOMEM.
 *
 * THREAD:    any thread, not concurrently with uvp_host_join_bus on the
 *            same bus.
 * OWNERSHIP: topic_name stays the caller's.
 * LIFETIME:  the topic stays shared for the bus's life.
 * SINCE:     0.3
 */
UVP_EXTERN int uvp_bus_share(uvp_bus *bus, const char *topic_name);

/**
 * Join host to bus: interns every shared topic in the host, and from then
 * on the host's publishes on them cross to the other joined hosts and
 * theirs arrive here (X2). The host leaves the bus when it closes (X6).
 *
 * @param host  the host (a host joins at most one bus, once).
 * @param bus   the bus.
 * @return 0, UVP_EINVAL (NULL), UVP_EBUSY (the host joined a bus already),
 *         UVP_ENOSPC (the bus has max_hosts members, or the host's topic
 *         table is full), UVP_ENOMEM, UVP_EWRONGTHREAD or UVP_ECLOSED.
 *
 * THREAD:    the host's loop thread (T3); joins of different hosts may run
 *            concurrently.
 * OWNERSHIP: the bus stays the caller's; the host holds a pointer to it.
 * LIFETIME:  the bus must outlive the host (uvp_bus_free after on_closed).
 * SINCE:     0.3
 */
UVP_EXTERN int uvp_host_join_bus(uvp_host *host, uvp_bus *bus);

/**
 * Free a bus and whatever is still queued in it (copies sent to hosts that
 * had closed already).
 *
 * @param bus  the bus, or NULL (nothing happens).
 *
 * THREAD:    any thread, once every joined host's uvp_host_close finished
 *            (its on_closed ran).
 * OWNERSHIP: frees the bus.
 * LIFETIME:  bus is invalid afterwards.
 * SINCE:     0.3
 */
UVP_EXTERN void uvp_bus_free(uvp_bus *bus);

#ifdef __cplusplus
}
#endif

#endif /* UVPLUG_UVPLUG_H */
