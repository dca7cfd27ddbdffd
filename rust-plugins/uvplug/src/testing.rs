//! An in-process fake host for unit-testing plugins with `cargo test`.
//!
//! [`TestHost`] implements the `uvp_api` function table in Rust (no C host,
//! no libuv) and drives plugins through their real `extern "C"` hooks and
//! the SDK's real trampolines, with the same queued, non-re-entrant
//! semantics as the real host:
//!
//! - publishing only queues; subscribers run when the test calls
//!   [`run_until_idle`](TestHost::run_until_idle) (or `advance`, `fd_ready`,
//!   `poll_io`), FIFO, in subscription order, never re-entrantly (D1-D3);
//! - time is virtual: [`advance`](TestHost::advance) moves the clock and
//!   fires due timers in due order, ties in start order (D6); a repeating
//!   timer is re-queued after each call, as the host does;
//! - fd readiness is injected ([`fd_ready`](TestHost::fd_ready)) or taken
//!   from real `poll(2)` ([`poll_io`](TestHost::poll_io)); a watch needs a
//!   real fd the host could poll (a socket, a pipe: not a regular file),
//!   which is non-blocking while watched, as in the host (D7);
//! - cancel, destroy and payload frees follow L1-L10; loop-only calls from
//!   another thread get `UVP_EWRONGTHREAD` (T2); a callback returning
//!   `UVP_EPANIC` quarantines its plugin by default (F1);
//! - remotes are real and thread-safe: any thread may clone, drop, post and
//!   publish; posts are queued (bounded:
//!   [`set_remote_limit`](TestHost::set_remote_limit)) and run on the "loop" by
//!   `run_until_idle`, in order per thread (R1-R5); after a plugin stops
//!   its queued posts are destroyed unrun (R4) and new ones get
//!   `UVP_ECLOSED`;
//! - work functions run on helper threads beside the fake loop (at most
//!   [`set_work_concurrency`](TestHost::set_work_concurrency) at once, W4),
//!   which keeps running posts meanwhile, so a work function may post and
//!   wait for the loop; `run_until_idle` returns once no work is queued or
//!   running, and runs the dones oldest first (W1);
//!   [`start_work`](TestHost::start_work) starts them without waiting, so
//!   that a test can cancel work while it runs (W2);
//! - [`unload`](TestHost::unload) runs a whole unload before it returns
//!   (stop, destroys, queued posts destroyed, running work waited for,
//!   U3, at most [`set_work_drain`](TestHost::set_work_drain), W6); an
//!   unload the plugin asks for (`unload_self`) or a quarantine's starts
//!   when its callback returns and drains as the loop turns, other plugins
//!   running meanwhile (U2), as in the host;
//! - each step of `run_until_idle` ([`run_once`](TestHost::run_once) runs
//!   one) is one turn of the real host's loop on libuv: the idle phase
//!   (cancelled work's done, W5; unloads of quarantined plugins, F1; a
//!   round of timers that were due already when armed, e.g. 0 ms, D6; the
//!   event queue, at most [`set_batch`](TestHost::set_batch), D5), the
//!   poll phase (finished work's done, then posts and remote publishes,
//!   R1, R6), then the timers phase (timers that came due meanwhile: what
//!   they publish is delivered on the next turn). The scenario suite
//!   (rust-plugins/examples/scenarios, tests/scenarios) checks that its
//!   traces match the C host's line by line.
//!
//! ```
//! use uvplug::prelude::*;
//! use uvplug::testing::TestHost;
//!
//! struct Echo { _sub: Subscription }
//! impl Plugin for Echo {
//!     fn init(ctx: &mut Ctx<Self>, _cfg: &str) -> Result<Self> {
//!         let (input, out) = (ctx.topic("in")?, ctx.topic("out")?);
//!         let _sub = ctx.subscribe(&input, move |_me: &mut Self, ctx, ev: &Event| {
//!             ctx.publish(&out, ev.data())
//!         })?;
//!         Ok(Echo { _sub })
//!     }
//! }
//!
//! let mut h = TestHost::new();
//! let p = h.load::<Echo>("").unwrap();
//! h.publish("in", b"hello").unwrap();
//! h.run_until_idle();
//! assert_eq!(h.published("out"), vec![b"hello".to_vec()]);
//! h.unload(p.id()).unwrap();
//! assert_eq!(h.live_registrations(), 0);
//! assert_eq!(h.destroy_calls(), 1);
//! ```

use std::any::TypeId;
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::ffi::CString;
use std::marker::PhantomData;
use std::os::raw::{c_char, c_int, c_short, c_ulong, c_void};
use std::os::unix::io::RawFd;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use crate::ctx::{Core, Ctx, Level};
use crate::{panic as tramp, sys, Descriptor, Error, Plugin, Result};

mod services;
use services::{RevokeCb, Service};

/// What the fake host does when a callback returns `UVP_EPANIC` (F1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultPolicy {
    /// Unload the plugin (every destroy runs); the default, as in the host.
    Quarantine,
    /// Count and log, keep delivering.
    Log,
}

/// A log line a plugin (or the fake host) wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// Instance name of the plugin, or `"host"`.
    pub plugin: String,
    /// Level.
    pub level: Level,
    /// The text.
    pub msg: String,
}

/// Per-plugin counters, as the real host keeps them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Callbacks that returned a negative status, `UVP_EPANIC` included
    /// (F2), as the host's `uvp_plugin_stats.errors` counts them.
    pub errors: u64,
    /// Callbacks that returned `UVP_EPANIC` (F1).
    pub panics: u64,
    /// Loop-only calls made from another thread (T2).
    pub wrong_thread: u64,
    /// The last negative status a callback returned (0 if none).
    pub last_error: i32,
    /// Live registrations: subscriptions, timers, fd watches and work
    /// items whose done has not run (`uvp_plugin_stats.registrations`).
    pub registrations: u32,
    /// Work items queued or running (`work_pending`).
    pub work_pending: u32,
    /// Of those, on a helper thread (`work_running`, W4).
    pub work_running: u32,
    /// Of those, waiting for the bounds or, cancelled while waiting, for
    /// their done (`work_queued`, W4, W5).
    pub work_queued: u32,
}

/// Names a loaded plugin instance of any type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PluginId(usize);

/// A plugin instance of type `P` loaded by [`TestHost::load`]; gives typed
/// access to its state.
#[derive(Debug)]
pub struct Loaded<P> {
    index: usize,
    /// The host that loaded it (a `Loaded` of another host is refused).
    host: *const (),
    _p: PhantomData<fn() -> P>,
}

impl<P> Clone for Loaded<P> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P> Copy for Loaded<P> {}

impl<P> Loaded<P> {
    /// The untyped id.
    pub fn id(&self) -> PluginId {
        PluginId(self.index)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Init,
    Running,
    /// Panicked (F1): every registration ended, unloaded on the next turn
    /// without on_stop.
    Quarantined,
    Stopping,
    /// Stopped; waits for its work and queued posts (U3, R4).
    Draining,
    /// on_unload waits for the delivery of one of its payloads (L8).
    Finishing,
    Gone,
}

/// What the host hands out as `uvp_ctx *`. Immutable but for the atomic,
/// so that a call from another thread can be refused without touching the
/// host's state.
struct FakeCtx {
    inner: *const Inner,
    plugin: usize,
    loop_thread: ThreadId,
    wrong_thread: AtomicU64,
}

type InitFn = unsafe extern "C" fn(
    *mut sys::uvp_ctx,
    *const sys::uvp_api,
    *const c_char,
    usize,
    *mut *mut c_void,
) -> c_int;
type StartFn = unsafe extern "C" fn(*mut sys::uvp_ctx, *mut c_void) -> c_int;
type StopFn = unsafe extern "C" fn(*mut sys::uvp_ctx, *mut c_void);
type UnloadFn = unsafe extern "C" fn(*mut c_void);
type EventCb = unsafe extern "C" fn(*mut sys::uvp_ctx, *const sys::uvp_event, *mut c_void) -> c_int;
type TimerCb = unsafe extern "C" fn(*mut sys::uvp_ctx, *mut c_void) -> c_int;
type FdCb = unsafe extern "C" fn(*mut sys::uvp_ctx, c_int, c_int, c_int, *mut c_void) -> c_int;
type FreeFn = unsafe extern "C" fn(*mut c_void, usize, *mut c_void);
type WorkFn = unsafe extern "C" fn(*mut c_void);
type DoneCb = unsafe extern "C" fn(*mut sys::uvp_ctx, c_int, *mut c_void) -> c_int;
type PostCb = unsafe extern "C" fn(*mut sys::uvp_ctx, *mut c_void) -> c_int;
type DestroyFn = unsafe extern "C" fn(*mut c_void);

/// A user_data pointer that crosses threads. The fake only moves it: the
/// plugin, which made it, answers for what it points to (T5).
struct SendPtr(*mut c_void);
// SAFETY: never dereferenced by the fake; handed back to the plugin's own
// callbacks, on the thread the contract names for each.
unsafe impl Send for SendPtr {}

/// What a remote queues for the loop.
enum Item {
    Post {
        cb: PostCb,
        ud: SendPtr,
        destroy: Option<DestroyFn>,
    },
    Publish {
        topic: u32,
        data: Vec<u8>,
    },
}

struct Posted {
    plugin: usize,
    item: Item,
}

/// The cross-thread queue of one fake host, shared with its remotes (which
/// may outlive it).
struct Inbox {
    loop_thread: ThreadId,
    q: Mutex<VecDeque<Posted>>,
    room: Condvar,
    /// Wakes the loop waiting for running work: a post arrived or a work
    /// function returned (notified under `q`'s lock).
    wake: Condvar,
    /// Posts one plugin may have queued (R2).
    limit: AtomicUsize,
    max_payload: AtomicUsize,
}

impl Inbox {
    fn lock(&self) -> MutexGuard<'_, VecDeque<Posted>> {
        // A poisoned lock only means a test thread panicked while holding
        // it; the queue itself is always consistent.
        self.q.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What the fake hands out as `uvp_remote *`: an `Arc` turned into a raw
/// pointer, so acquire/release are the Arc's counts and a remote outlives
/// its plugin and the host (R5).
struct FakeRemote {
    inbox: Arc<Inbox>,
    plugin: usize,
    /// Set (under the inbox lock) when the plugin stops or the host drops.
    closed: AtomicBool,
    queued: AtomicUsize,
}

#[derive(Clone, Copy)]
struct Hooks {
    on_init: InitFn,
    on_start: Option<StartFn>,
    on_stop: Option<StopFn>,
    on_unload: Option<UnloadFn>,
}

struct PluginSlot {
    name: String,
    /// `name` NUL-terminated, for `instance_name` (valid as long as the host).
    name_c: CString,
    /// The state's type, for `load_as::<P>` instances.
    type_id: Option<TypeId>,
    ctx: Box<FakeCtx>,
    hooks: Hooks,
    state: *mut c_void,
    phase: Phase,
    stats: Stats,
    wrong_thread_logged: bool,
    /// The host's reference on the plugin's remote, once it asked for one.
    remote: Option<Arc<FakeRemote>>,
    /// When it began to drain (W6: its running work is abandoned after
    /// `work_drain`).
    drain_since: Option<Instant>,
    /// Its counters (`api->counter`), boxed so that the pointers handed
    /// out stay put.
    counters: Vec<(String, Box<u64>)>,
    /// Service calls into it on the stack (V3: busy).
    in_call: u32,
    /// A reload replaces it: its name and its exports' names are free
    /// for the new instance (A6, V7).
    replacing: bool,
}

#[derive(Clone, Copy)]
enum Kind {
    Sub {
        topic: u32,
        cb: EventCb,
        order: u64,
    },
    Timer {
        due: u64,
        repeat: u64,
        seq: u64,
        cb: TimerCb,
    },
    Fd {
        fd: c_int,
        events: c_int,
        cb: FdCb,
        /// The fd was blocking: the watch made it non-blocking and clears
        /// `O_NONBLOCK` again when it ends (D7).
        restore: bool,
    },
    /// A work item; `ended` marks it cancelled (it still ends through done).
    Work {
        work: WorkFn,
        done: DoneCb,
        seq: u64,
    },
    /// An export of `State::services[svc]` (V1).
    Export {
        svc: usize,
    },
    /// A reference to `State::services[svc]` (V2); `revoked` once its
    /// revoke ran (V5).
    Import {
        svc: usize,
        revoke: RevokeCb,
        revoked: bool,
    },
}

struct Registration {
    plugin: usize,
    kind: Kind,
    user_data: *mut c_void,
    destroy: Option<unsafe extern "C" fn(*mut c_void)>,
    /// Its callback is on the stack.
    running: bool,
    /// Cancelled (or a fired one-shot): stale for everyone, destroyed when
    /// the running callback returns (L2, L10).
    ended: bool,
}

struct Slot {
    gen: u32,
    reg: Option<Registration>,
}

enum Payload {
    Copied(Vec<u8>),
    Owned {
        data: *mut c_void,
        len: usize,
        free: FreeFn,
        hint: *mut c_void,
        /// The publishing plugin (None: the host): its free runs before
        /// its on_unload (L8).
        publisher: Option<usize>,
    },
}

impl Payload {
    fn bytes(&self) -> &[u8] {
        match self {
            Payload::Copied(v) => v,
            Payload::Owned { len: 0, .. } => &[],
            // SAFETY: publish_owned's caller keeps (data, len) valid and
            // unchanged until free runs (L8), which happens after this use.
            Payload::Owned { data, len, .. } => unsafe {
                std::slice::from_raw_parts(data.cast::<u8>(), *len)
            },
        }
    }
}

struct Queued {
    topic: u32,
    payload: Payload,
}

struct State {
    now: u64,
    topics: Vec<CString>,
    /// Topic name to id.
    topic_ids: HashMap<Vec<u8>, u32>,
    slots: Vec<Slot>,
    free_slots: Vec<usize>,
    queue: VecDeque<Queued>,
    next_seq: u64,
    plugins: Vec<PluginSlot>,
    logs: Vec<LogLine>,
    published: Vec<(u32, Vec<u8>)>,
    destroy_calls: u64,
    payload_frees: u64,
    policy: FaultPolicy,
    /// Plugins that called unload_self; unloaded once no callback of theirs
    /// runs (S3).
    unload_requests: Vec<usize>,
    queue_capacity: usize,
    max_payload: usize,
    /// Work functions started on a helper thread and not joined yet.
    work_threads: Vec<Started>,
    /// Work items on helper threads at once (W4; the host's default 2).
    work_concurrency: usize,
    /// Plugins that reported a panic through `fault` (F7): quarantined once
    /// no callback of theirs runs.
    quarantine_due: Vec<usize>,
    /// Quarantined plugins, unloaded on the next loop turn (F1).
    unloads_due: Vec<usize>,
    /// Publisher of the owned payload being delivered right now: its
    /// on_unload waits for the end of that delivery (L8).
    in_flight: Option<usize>,
    /// Plugins whose on_unload waits for `in_flight`.
    unload_waiting: Vec<usize>,
    /// How long unload waits for running work before abandoning it (W6).
    work_drain: Duration,
    /// Abandoned work still running (W6): counted against the concurrency.
    work_abandoned: Vec<Started>,
    /// Work items abandoned so far.
    abandoned_total: u64,
    /// Events, and posts, run per loop turn at most (D5, R6).
    batch: usize,
    /// The host's `timers.on_idle`: the earliest timer was due already
    /// when the host last armed its timer, so the next round runs in the
    /// idle phase, before the event queue (D6, src/timer.c).
    timers_on_idle: bool,
    /// Real time waited for work not yet on the virtual clock (under 1 ms).
    slack: Duration,
    /// Set when the host drops: queued events of an unloading publisher
    /// are dropped, not copied (L8, S2).
    closing: bool,
    /// Every export made, by index (V1-V7).
    services: Vec<Service>,
    /// V6: how long after a revoke held references are warned about (ms).
    service_grace: u64,
}

impl Inner {
    /// The end of an unload once nothing drains any more: owned payloads
    /// freed (L8), then on_unload, unless a payload of the plugin is being
    /// delivered right now (then when its delivery ends).
    fn finish_unload(&self, plugin: usize) {
        self.release_owned(plugin);
        {
            let mut st = self.st.borrow_mut();
            st.plugins[plugin].phase = Phase::Finishing;
            if st.in_flight == Some(plugin) {
                st.unload_waiting.push(plugin);
                return;
            }
        }
        self.run_on_unload(plugin);
    }

    /// A draining plugin whose work ended and whose queued posts were
    /// destroyed finishes its unload (the host's try_finish).
    fn try_finish(&self, plugin: usize) {
        if self.st.borrow().plugins[plugin].phase != Phase::Draining
            || !self.work_items(Some(plugin)).is_empty()
            || self.service_refs(plugin) > 0
            || self.inbox.lock().iter().any(|p| p.plugin == plugin)
        {
            return;
        }
        self.finish_unload(plugin);
    }

    fn run_on_unload(&self, plugin: usize) {
        let (hooks, state) = {
            let mut st = self.st.borrow_mut();
            let p = &mut st.plugins[plugin];
            p.phase = Phase::Gone;
            (
                p.hooks,
                std::mem::replace(&mut p.state, std::ptr::null_mut()),
            )
        };
        if let Some(on_unload) = hooks.on_unload {
            // SAFETY: last call into the plugin, after every destroy (S1).
            unsafe { on_unload(state) };
        }
    }
}

/// A work function running (or run) on its helper thread.
struct Started {
    index: usize,
    handle: thread::JoinHandle<()>,
    /// Set, under the inbox lock, when the work function returned.
    finished: Arc<AtomicBool>,
}

struct Inner {
    st: RefCell<State>,
    inbox: Arc<Inbox>,
}

/// The fake's function table: one `static`, because remotes outlive hosts
/// and reach `remote_release` through it (R5), as they do the C host's
/// `static const` table.
static FAKE_API: sys::uvp_api = sys::uvp_api {
    size: std::mem::size_of::<sys::uvp_api>() as u32,
    abi_major: sys::UVP_ABI_MAJOR as u16,
    abi_minor: sys::UVP_ABI_MINOR as u16,
    topic: Some(api_topic),
    subscribe: Some(api_subscribe),
    publish: Some(api_publish),
    publish_owned: Some(api_publish_owned),
    timer_start: Some(api_timer_start),
    fd_watch: Some(api_fd_watch),
    cancel: Some(api_cancel),
    log: Some(api_log),
    now_ms: Some(api_now_ms),
    unload_self: Some(api_unload_self),
    work_queue: Some(api_work_queue),
    remote_new: Some(api_remote_new),
    remote_acquire: Some(api_remote_acquire),
    remote_release: Some(api_remote_release),
    remote_post: Some(api_remote_post),
    remote_publish: Some(api_remote_publish),
    fault: Some(api_fault),
    instance_name: Some(api_instance_name),
    service_export: Some(services::api_service_export),
    service_import: Some(services::api_service_import),
    service_call: Some(services::api_service_call),
    service_info: Some(services::api_service_info),
    counter: Some(services::api_counter),
};

/// The fake host. Not `Send`: like the real one it belongs to the thread
/// that created it (its "loop thread"). Dropping it unloads every plugin
/// (newest first, every destroy run) and frees queued payloads (S2).
pub struct TestHost {
    inner: Box<Inner>,
}

const MS_MAX: u64 = u32::MAX as u64;
/// The host's default `max_topics`.
const MAX_TOPICS: usize = 65_536;

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn make_id(index: usize, gen: u32) -> sys::uvp_id {
    (u64::from(gen) << 32) | (index as u64 + 1)
}

/// Borrows the fake ctx behind a `uvp_ctx *`.
///
/// # Safety
///
/// `ctx` is NULL or a pointer this host handed out (FakeCtx boxes live as
/// long as the host).
unsafe fn fake<'a>(ctx: *mut sys::uvp_ctx) -> Option<&'a FakeCtx> {
    // SAFETY: per this function's contract.
    unsafe { ctx.cast::<FakeCtx>().as_ref() }
}

/// Runs an api entry for `ctx`: refuses NULL and wrong-thread calls, and
/// keeps a panic of the fake itself from unwinding into plugin code.
fn entry(ctx: *mut sys::uvp_ctx, f: impl FnOnce(&Inner, usize) -> c_int) -> c_int {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: plugins only get ctx pointers from this host (on_init).
        let Some(fc) = (unsafe { fake(ctx) }) else {
            return sys::UVP_EINVAL;
        };
        if thread::current().id() != fc.loop_thread {
            // T2: count, change nothing, never touch the host's state.
            fc.wrong_thread.fetch_add(1, Ordering::Relaxed);
            return sys::UVP_EWRONGTHREAD;
        }
        // SAFETY: on the loop thread; the Inner box outlives every ctx.
        let inner = unsafe { &*fc.inner };
        f(inner, fc.plugin)
    }))
    .unwrap_or(sys::UVP_EPANIC)
}

extern "C" fn api_topic(
    ctx: *mut sys::uvp_ctx,
    name: *const c_char,
    len: usize,
    out: *mut sys::uvp_topic,
) -> c_int {
    entry(ctx, |inner, _| {
        if name.is_null() || out.is_null() || len == 0 || len > sys::UVP_TOPIC_MAX as usize {
            return sys::UVP_EINVAL;
        }
        // SAFETY: the caller gives len bytes at name for this call.
        let bytes = unsafe { std::slice::from_raw_parts(name.cast::<u8>(), len) };
        match inner.intern(bytes) {
            Ok(t) => {
                // SAFETY: out checked non-null; written only on success.
                unsafe { *out = t };
                0
            }
            Err(e) => e.code(),
        }
    })
}

extern "C" fn api_subscribe(
    ctx: *mut sys::uvp_ctx,
    topic: sys::uvp_topic,
    cb: sys::uvp_event_cb,
    ud: *mut c_void,
    destroy: sys::uvp_destroy_fn,
    out: *mut sys::uvp_id,
) -> c_int {
    entry(ctx, |inner, plugin| {
        let Some(cb) = cb else { return sys::UVP_EINVAL };
        if out.is_null() {
            return sys::UVP_EINVAL;
        }
        if !inner.topic_known(topic) {
            return sys::UVP_ENOENT;
        }
        let order = inner.seq();
        inner.register(plugin, Kind::Sub { topic, cb, order }, ud, destroy, out)
    })
}

extern "C" fn api_publish(
    ctx: *mut sys::uvp_ctx,
    topic: sys::uvp_topic,
    data: *const c_void,
    len: usize,
) -> c_int {
    entry(ctx, |inner, plugin| {
        if data.is_null() && len != 0 {
            return sys::UVP_EINVAL;
        }
        let bytes = if len == 0 {
            Vec::new()
        } else {
            // SAFETY: the caller gives len bytes at data; copied now (L9).
            unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) }.to_vec()
        };
        inner.enqueue(Some(plugin), topic, Payload::Copied(bytes))
    })
}

extern "C" fn api_publish_owned(
    ctx: *mut sys::uvp_ctx,
    topic: sys::uvp_topic,
    data: *mut c_void,
    len: usize,
    free: sys::uvp_payload_free_fn,
    hint: *mut c_void,
) -> c_int {
    entry(ctx, |inner, plugin| {
        let Some(free) = free else {
            return sys::UVP_EINVAL;
        };
        if data.is_null() && len != 0 {
            return sys::UVP_EINVAL;
        }
        inner.enqueue(
            Some(plugin),
            topic,
            Payload::Owned {
                data,
                len,
                free,
                hint,
                publisher: Some(plugin),
            },
        )
    })
}

extern "C" fn api_timer_start(
    ctx: *mut sys::uvp_ctx,
    timeout: u64,
    repeat: u64,
    cb: sys::uvp_timer_cb,
    ud: *mut c_void,
    destroy: sys::uvp_destroy_fn,
    out: *mut sys::uvp_id,
) -> c_int {
    entry(ctx, |inner, plugin| {
        let Some(cb) = cb else { return sys::UVP_EINVAL };
        if out.is_null() || repeat > MS_MAX {
            return sys::UVP_EINVAL;
        }
        let seq = inner.seq();
        let due = inner.st.borrow().now.saturating_add(timeout);
        let rc = inner.register(
            plugin,
            Kind::Timer {
                due,
                repeat,
                seq,
                cb,
            },
            ud,
            destroy,
            out,
        );
        if rc == 0 {
            inner.rearm_if_earliest(seq);
        }
        rc
    })
}

extern "C" fn api_fd_watch(
    ctx: *mut sys::uvp_ctx,
    fd: c_int,
    events: c_int,
    cb: sys::uvp_fd_cb,
    ud: *mut c_void,
    destroy: sys::uvp_destroy_fn,
    out: *mut sys::uvp_id,
) -> c_int {
    entry(ctx, |inner, plugin| {
        let Some(cb) = cb else { return sys::UVP_EINVAL };
        let all = (sys::UVP_FD_READABLE | sys::UVP_FD_WRITABLE) as c_int;
        if out.is_null() || fd < 0 || events == 0 || events & !all != 0 {
            return sys::UVP_EINVAL;
        }
        // D7, as the host's uvp__fd_watch: an fd that is not open or that
        // cannot be polled (a regular file, a directory) is invalid; one
        // this host watches already is busy; the watch makes it
        // non-blocking while it lasts.
        let Some(flags) = fd_flags(fd) else {
            return sys::UVP_EINVAL;
        };
        if !pollable(fd) {
            return sys::UVP_EINVAL;
        }
        if inner.watches(fd) {
            return sys::UVP_EBUSY;
        }
        let restore = flags & O_NONBLOCK == 0;
        let kind = Kind::Fd {
            fd,
            events,
            cb,
            restore,
        };
        let rc = inner.register(plugin, kind, ud, destroy, out);
        if rc == 0 && restore {
            // SAFETY: fcntl on an fd the caller keeps open (D7).
            unsafe { fcntl(fd, F_SETFL, flags | O_NONBLOCK) };
        }
        rc
    })
}

extern "C" fn api_cancel(ctx: *mut sys::uvp_ctx, id: sys::uvp_id) -> c_int {
    entry(ctx, |inner, plugin| inner.cancel(plugin, id))
}

extern "C" fn api_log(
    ctx: *mut sys::uvp_ctx,
    level: c_int,
    msg: *const c_char,
    len: usize,
) -> c_int {
    entry(ctx, |inner, plugin| {
        if (msg.is_null() && len != 0) || !(0..=3).contains(&level) {
            return sys::UVP_EINVAL;
        }
        let bytes = if len == 0 {
            &[][..]
        } else {
            // SAFETY: the caller gives len bytes at msg for this call.
            unsafe { std::slice::from_raw_parts(msg.cast::<u8>(), len) }
        };
        let mut st = inner.st.borrow_mut();
        let name = st.plugins[plugin].name.clone();
        st.logs.push(LogLine {
            plugin: name,
            level: Level::from_raw(level),
            msg: String::from_utf8_lossy(bytes).into_owned(),
        });
        0
    })
}

extern "C" fn api_unload_self(ctx: *mut sys::uvp_ctx) -> c_int {
    entry(ctx, |inner, plugin| {
        let mut st = inner.st.borrow_mut();
        // U6: also during on_init and on_start (the host's LOADING state):
        // the unload starts once loading returned, after on_start (S3).
        let may = matches!(
            st.plugins[plugin].phase,
            Phase::Init | Phase::Running | Phase::Quarantined
        );
        if !may || st.unload_requests.contains(&plugin) || st.quarantine_due.contains(&plugin) {
            return sys::UVP_ECLOSED;
        }
        st.unload_requests.push(plugin);
        0
    })
}

extern "C" fn api_fault(
    ctx: *mut sys::uvp_ctx,
    status: c_int,
    msg: *const c_char,
    len: usize,
) -> c_int {
    entry(ctx, |inner, plugin| {
        if status >= 0 || (msg.is_null() && len != 0) {
            return sys::UVP_EINVAL;
        }
        let mut st = inner.st.borrow_mut();
        if len != 0 {
            // SAFETY: the caller gives len bytes at msg for this call.
            let bytes = unsafe { std::slice::from_raw_parts(msg.cast::<u8>(), len) };
            let name = st.plugins[plugin].name.clone();
            st.logs.push(LogLine {
                plugin: name,
                level: Level::Error,
                msg: String::from_utf8_lossy(bytes).into_owned(),
            });
        }
        // F7: counted as a callback's status; a panic under quarantine waits
        // until no callback of the plugin runs (or the next turn).
        let quarantines = status == sys::UVP_EPANIC
            && st.plugins[plugin].phase == Phase::Running
            && st.policy == FaultPolicy::Quarantine;
        if !quarantines {
            Inner::count_status(&mut st, plugin, status);
            return 0;
        }
        let p = &mut st.plugins[plugin];
        p.stats.errors += 1;
        p.stats.panics += 1;
        p.stats.last_error = status;
        let line = format!(
            "plugin {}: plugin reported a panic; quarantined and unloading",
            p.name
        );
        st.logs.push(LogLine {
            plugin: "host".into(),
            level: Level::Error,
            msg: line,
        });
        if !st.quarantine_due.contains(&plugin) {
            st.quarantine_due.push(plugin);
        }
        0
    })
}

extern "C" fn api_instance_name(
    ctx: *mut sys::uvp_ctx,
    out: *mut *const c_char,
    out_len: *mut usize,
) -> c_int {
    entry(ctx, |inner, plugin| {
        if out.is_null() {
            return sys::UVP_EINVAL;
        }
        let st = inner.st.borrow();
        let name = &st.plugins[plugin].name_c;
        // SAFETY: out checked non-null, out_len may be NULL; the CString
        // lives as long as the host (longer than on_unload).
        unsafe {
            *out = name.as_ptr();
            if !out_len.is_null() {
                *out_len = name.as_bytes().len();
            }
        }
        0
    })
}

extern "C" fn api_now_ms(ctx: *mut sys::uvp_ctx, out: *mut u64) -> c_int {
    entry(ctx, |inner, _| {
        if out.is_null() {
            return sys::UVP_EINVAL;
        }
        // SAFETY: out checked non-null.
        unsafe { *out = inner.st.borrow().now };
        0
    })
}

extern "C" fn api_work_queue(
    ctx: *mut sys::uvp_ctx,
    work: sys::uvp_work_fn,
    done: sys::uvp_work_done_cb,
    ud: *mut c_void,
    destroy: sys::uvp_destroy_fn,
    out: *mut sys::uvp_id,
) -> c_int {
    entry(ctx, |inner, plugin| {
        let (Some(work), Some(done)) = (work, done) else {
            return sys::UVP_EINVAL;
        };
        if out.is_null() {
            return sys::UVP_EINVAL;
        }
        let seq = inner.seq();
        inner.register(plugin, Kind::Work { work, done, seq }, ud, destroy, out)
    })
}

extern "C" fn api_remote_new(ctx: *mut sys::uvp_ctx, out: *mut *mut sys::uvp_remote) -> c_int {
    entry(ctx, |inner, plugin| {
        if out.is_null() {
            return sys::UVP_EINVAL;
        }
        let mut st = inner.st.borrow_mut();
        let slot = &mut st.plugins[plugin];
        if !matches!(slot.phase, Phase::Init | Phase::Running) {
            return sys::UVP_ECLOSED;
        }
        let remote = slot.remote.get_or_insert_with(|| {
            Arc::new(FakeRemote {
                inbox: inner.inbox.clone(),
                plugin,
                closed: AtomicBool::new(false),
                queued: AtomicUsize::new(0),
            })
        });
        let raw = Arc::into_raw(remote.clone());
        // SAFETY: out checked non-null; written on success only.
        unsafe { *out = raw as *mut sys::uvp_remote };
        0
    })
}

/// Runs a thread-safe entry: refuses NULL, keeps a panic of the fake from
/// unwinding into plugin code.
fn remote_entry(remote: *mut sys::uvp_remote, f: impl FnOnce(&FakeRemote) -> c_int) -> c_int {
    catch_unwind(AssertUnwindSafe(|| {
        let r = remote as *const FakeRemote;
        if r.is_null() {
            return sys::UVP_EINVAL;
        }
        // SAFETY: the caller holds a reference (an Arc count) on the remote,
        // so it is alive for this call (R5).
        f(unsafe { &*r })
    }))
    .unwrap_or(sys::UVP_EPANIC)
}

extern "C" fn api_remote_acquire(remote: *mut sys::uvp_remote) -> c_int {
    remote_entry(remote, |_| {
        // SAFETY: a pointer of Arc::into_raw (remote_new) whose count the
        // caller holds at least one of.
        unsafe { Arc::increment_strong_count(remote as *const FakeRemote) };
        0
    })
}

extern "C" fn api_remote_release(remote: *mut sys::uvp_remote) {
    if remote.is_null() {
        return;
    }
    // SAFETY: as in acquire; the caller gives its count up (R5: any thread,
    // also after the host dropped; the last one frees the remote).
    unsafe { Arc::decrement_strong_count(remote as *const FakeRemote) };
}

extern "C" fn api_remote_post(
    remote: *mut sys::uvp_remote,
    cb: sys::uvp_post_cb,
    ud: *mut c_void,
    destroy: sys::uvp_destroy_fn,
    flags: c_int,
) -> c_int {
    remote_entry(remote, |r| {
        let Some(cb) = cb else {
            return sys::UVP_EINVAL;
        };
        r.push(
            Item::Post {
                cb,
                ud: SendPtr(ud),
                destroy,
            },
            flags,
        )
    })
}

extern "C" fn api_remote_publish(
    remote: *mut sys::uvp_remote,
    topic: sys::uvp_topic,
    data: *const c_void,
    len: usize,
    flags: c_int,
) -> c_int {
    remote_entry(remote, |r| {
        if (data.is_null() && len != 0) || topic == 0 {
            return sys::UVP_EINVAL;
        }
        if len > r.inbox.max_payload.load(Ordering::Relaxed) {
            return sys::UVP_EMSGSIZE;
        }
        let data = if len == 0 {
            Vec::new()
        } else {
            // SAFETY: the caller gives len bytes at data; copied now (L9).
            unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) }.to_vec()
        };
        r.push(Item::Publish { topic, data }, flags)
    })
}

impl Inner {
    /// Ends a dequeued event's payload: an owned one goes back to its
    /// publisher's free function, exactly once (L8).
    fn release_payload(&self, payload: Payload) {
        if let Payload::Owned {
            data,
            len,
            free,
            hint,
            ..
        } = payload
        {
            // SAFETY: the payload was taken off the queue, so nobody reads
            // it any more and this is its only release (L8).
            unsafe { free(data, len, hint) };
            self.st.borrow_mut().payload_frees += 1;
        }
    }
}

impl FakeRemote {
    /// Queues an item: 0, `UVP_EINVAL`, `UVP_EAGAIN` or `UVP_ECLOSED`
    /// (R2, R3: on failure the item, and so user_data, stays the caller's).
    fn push(&self, item: Item, flags: c_int) -> c_int {
        let block = match flags as u32 {
            sys::UVP_POST_NONBLOCK => false,
            sys::UVP_POST_BLOCK => true,
            _ => return sys::UVP_EINVAL,
        };
        if block && thread::current().id() == self.inbox.loop_thread {
            return sys::UVP_EINVAL; // it could wait forever
        }
        let mut q = self.inbox.lock();
        loop {
            if self.closed.load(Ordering::Acquire) {
                return sys::UVP_ECLOSED;
            }
            if self.queued.load(Ordering::Relaxed) < self.inbox.limit.load(Ordering::Relaxed) {
                break;
            }
            if !block {
                return sys::UVP_EAGAIN;
            }
            q = match self.inbox.room.wait_timeout(q, Duration::from_millis(10)) {
                Ok((q, _)) => q,
                Err(e) => e.into_inner().0,
            };
        }
        self.queued.fetch_add(1, Ordering::Relaxed);
        q.push_back(Posted {
            plugin: self.plugin,
            item,
        });
        // a loop waiting for running work runs it now
        self.inbox.wake.notify_all();
        0
    }
}

impl Inner {
    fn seq(&self) -> u64 {
        let mut st = self.st.borrow_mut();
        st.next_seq += 1;
        st.next_seq
    }

    fn topic_known(&self, topic: u32) -> bool {
        topic != 0 && (topic as usize) <= self.st.borrow().topics.len()
    }

    fn intern(&self, name: &[u8]) -> Result<u32> {
        if name.is_empty()
            || name.len() > sys::UVP_TOPIC_MAX as usize
            || name.contains(&0)
            || std::str::from_utf8(name).is_err()
        {
            return Err(Error::Invalid);
        }
        let mut st = self.st.borrow_mut();
        if let Some(&id) = st.topic_ids.get(name) {
            return Ok(id);
        }
        if st.topics.len() >= MAX_TOPICS {
            return Err(Error::NoSpace); // the host's max_topics
        }
        st.topics
            .push(CString::new(name).map_err(|_| Error::Invalid)?);
        let id = st.topics.len() as u32;
        st.topic_ids.insert(name.to_vec(), id);
        Ok(id)
    }

    fn register(
        &self,
        plugin: usize,
        kind: Kind,
        user_data: *mut c_void,
        destroy: sys::uvp_destroy_fn,
        out: *mut sys::uvp_id,
    ) -> c_int {
        let mut st = self.st.borrow_mut();
        match st.plugins[plugin].phase {
            Phase::Init | Phase::Running => {}
            Phase::Quarantined
            | Phase::Stopping
            | Phase::Draining
            | Phase::Finishing
            | Phase::Gone => return sys::UVP_ECLOSED,
        }
        let reg = Registration {
            plugin,
            kind,
            user_data,
            destroy,
            running: false,
            ended: false,
        };
        let index = match st.free_slots.pop() {
            Some(i) => {
                st.slots[i].reg = Some(reg);
                i
            }
            None => {
                st.slots.push(Slot {
                    gen: 1,
                    reg: Some(reg),
                });
                st.slots.len() - 1
            }
        };
        let id = make_id(index, st.slots[index].gen);
        // SAFETY: out was checked non-null by the entry; written on success only.
        unsafe { *out = id };
        0
    }

    /// Index of a live registration, or the status `cancel` gives (L4, L5).
    fn lookup(
        st: &State,
        plugin: Option<usize>,
        id: sys::uvp_id,
    ) -> std::result::Result<usize, c_int> {
        let low = (id & 0xffff_ffff) as usize;
        let gen = (id >> 32) as u32;
        if low == 0 || gen == 0 || low > st.slots.len() {
            return Err(sys::UVP_ENOENT);
        }
        let slot = &st.slots[low - 1];
        if gen > slot.gen {
            return Err(sys::UVP_ENOENT);
        }
        match &slot.reg {
            Some(r) if gen == slot.gen => {
                if plugin.is_some_and(|p| p != r.plugin) {
                    Err(sys::UVP_ENOENT)
                } else if r.ended {
                    Err(sys::UVP_ESTALE)
                } else {
                    Ok(low - 1)
                }
            }
            // The free slot's generation was never issued (L5), as in the
            // host's registry.c.
            None if gen == slot.gen => Err(sys::UVP_ENOENT),
            _ => {
                // An older generation of this slot: ours if the slot was
                // issued to this plugin at the time; we don't track that, so
                // stale covers every id this host once issued.
                Err(sys::UVP_ESTALE)
            }
        }
    }

    /// Frees the slot and returns its destroy to run (outside any borrow).
    fn release(
        st: &mut State,
        index: usize,
    ) -> Option<(unsafe extern "C" fn(*mut c_void), *mut c_void)> {
        let mut reg = st.slots[index].reg.take()?;
        Inner::retire(st, index);
        end_watch(&mut reg);
        Inner::released(st, reg.kind);
        st.destroy_calls += 1;
        reg.destroy.map(|d| (d, reg.user_data))
    }

    /// Makes every id of the slot stale and frees it, unless its
    /// generation reached the last one: then it is never reused, so that
    /// an id never comes back (L4, as the host's registry).
    fn retire(st: &mut State, index: usize) {
        let slot = &mut st.slots[index];
        slot.gen += 1;
        if slot.gen != u32::MAX {
            st.free_slots.push(index);
        }
    }

    fn run_destroy(&self, d: Option<(unsafe extern "C" fn(*mut c_void), *mut c_void)>) {
        if let Some((destroy, ud)) = d {
            // SAFETY: the registration ended and its callback is not running:
            // destroy runs exactly once with its user_data (L1).
            unsafe { destroy(ud) };
        }
        // An import released: its export's destroy may be due (V6).
        self.sweep_services();
    }

    fn cancel(&self, plugin: usize, id: sys::uvp_id) -> c_int {
        let export = {
            let st = self.st.borrow();
            match Inner::lookup(&st, Some(plugin), id) {
                Ok(i) => match st.slots[i].reg.as_ref().map(|r| r.kind) {
                    Some(Kind::Export { svc }) => Some(svc),
                    _ => None,
                },
                Err(_) => None,
            }
        };
        if let Some(svc) = export {
            // V5: withdrawing revokes every reference first.
            self.revoke_exports(plugin, Some(svc), sys::UVP_ECLOSED);
        }
        let d = {
            let mut st = self.st.borrow_mut();
            let index = match Inner::lookup(&st, Some(plugin), id) {
                Ok(i) => i,
                Err(rc) => return rc,
            };
            let reg = st.slots[index].reg.as_mut().expect("looked up");
            if matches!(reg.kind, Kind::Work { .. }) {
                // W2: stale at once, but it ends through done (destroy after).
                reg.ended = true;
                return 0;
            }
            if reg.running {
                // L2: destroy right after the callback returns; the fd is
                // blocking again at once, as the host's uv_poll_stop.
                reg.ended = true;
                end_watch(reg);
                return 0;
            }
            Inner::release(&mut st, index)
        };
        self.run_destroy(d);
        0
    }

    fn enqueue(&self, _from: Option<usize>, topic: u32, payload: Payload) -> c_int {
        if !self.topic_known(topic) {
            return sys::UVP_ENOENT;
        }
        let mut st = self.st.borrow_mut();
        let len = payload.bytes().len();
        if len > st.max_payload {
            return sys::UVP_EMSGSIZE;
        }
        if st.queue.len() >= st.queue_capacity {
            return sys::UVP_EAGAIN;
        }
        let copy = payload.bytes().to_vec();
        st.published.push((topic, copy));
        st.queue.push_back(Queued { topic, payload });
        0
    }

    /// Whether a live watch of this host is on `fd` (D7: `UVP_EBUSY`).
    fn watches(&self, fd: c_int) -> bool {
        self.st.borrow().slots.iter().any(|s| {
            s.reg
                .as_ref()
                .is_some_and(|r| !r.ended && matches!(r.kind, Kind::Fd { fd: f, .. } if f == fd))
        })
    }

    /// As the host's timer_start: a timer that became the earliest re-arms
    /// the host's timer, on the idle path if it is due already (0 ms).
    fn rearm_if_earliest(&self, seq: u64) {
        let mut st = self.st.borrow_mut();
        let earliest = st
            .slots
            .iter()
            .filter_map(|s| {
                let r = s.reg.as_ref()?;
                match r.kind {
                    Kind::Timer { due, seq, .. } if !r.ended => Some((due, seq)),
                    _ => None,
                }
            })
            .min();
        if let Some((due, top)) = earliest {
            if top == seq {
                st.timers_on_idle = due <= st.now;
            }
        }
    }

    /// Marks `index` running and returns what is needed to call it; with
    /// `gen`, only if the slot still holds that registration (D3: a slot
    /// freed and reused during a dispatch round is another registration).
    fn begin(&self, index: usize, gen: Option<u32>) -> Option<(Registration_, *mut sys::uvp_ctx)> {
        let mut st = self.st.borrow_mut();
        let slot = st.slots.get_mut(index)?;
        if gen.is_some_and(|g| g != slot.gen) {
            return None;
        }
        let reg = slot.reg.as_mut()?;
        if reg.ended || reg.running {
            return None;
        }
        let plugin = reg.plugin;
        if st.plugins[plugin].phase != Phase::Running {
            return None;
        }
        let reg = st.slots[index].reg.as_mut()?;
        reg.running = true;
        let snapshot = Registration_ {
            plugin,
            kind: reg.kind,
            user_data: reg.user_data,
        };
        let ctx = &*st.plugins[plugin].ctx as *const FakeCtx as *mut sys::uvp_ctx;
        Some((snapshot, ctx))
    }

    /// After a callback: clears `running`, destroys an ended registration,
    /// counts the status. Returns the plugin to quarantine, if any.
    fn end(&self, index: usize, plugin: usize, rc: c_int) -> Option<usize> {
        let (d, quarantine) = {
            let mut st = self.st.borrow_mut();
            let ended = match st.slots[index].reg.as_mut() {
                Some(reg) => {
                    reg.running = false;
                    reg.ended
                }
                None => false,
            };
            let d = if ended {
                Inner::release(&mut st, index)
            } else {
                None
            };
            let quarantine = Inner::count_status(&mut st, plugin, rc);
            (d, quarantine)
        };
        self.run_destroy(d);
        quarantine
    }
}

impl Inner {
    /// Counts a callback's status (F1, F2); returns the plugin to
    /// quarantine, if any.
    fn count_status(st: &mut State, plugin: usize, rc: c_int) -> Option<usize> {
        if rc >= 0 {
            return None;
        }
        let mut quarantine = None;
        let policy = st.policy;
        let p = &mut st.plugins[plugin];
        p.stats.last_error = rc;
        p.stats.errors += 1;
        let name = p.name.clone();
        let line = if rc == sys::UVP_EPANIC {
            p.stats.panics += 1;
            if policy == FaultPolicy::Quarantine && p.phase == Phase::Running {
                quarantine = Some(plugin);
            }
            format!("plugin {name}: callback panicked; {policy:?}")
        } else {
            format!("plugin {name}: callback failed: {}", Error::from_code(rc))
        };
        st.logs.push(LogLine {
            plugin: "host".into(),
            level: Level::Error,
            msg: line,
        });
        quarantine
    }

    fn ctx_of(&self, plugin: usize) -> *mut sys::uvp_ctx {
        let st = self.st.borrow();
        &*st.plugins[plugin].ctx as *const FakeCtx as *mut sys::uvp_ctx
    }

    /// Starts the work function of slot `index` on a helper thread, which
    /// runs beside the loop (as libuv's pool does): it may post and wait
    /// for the loop to run what it posted.
    fn start_work(&self, index: usize) {
        let mut st = self.st.borrow_mut();
        let Some(reg) = st.slots[index].reg.as_ref() else {
            return;
        };
        let Kind::Work { work, .. } = reg.kind else {
            return;
        };
        let ud = SendPtr(reg.user_data);
        let finished = Arc::new(AtomicBool::new(false));
        let (flag, inbox) = (finished.clone(), self.inbox.clone());
        let handle = thread::Builder::new()
            .name("uvplug-fake-pool".into())
            .spawn(move || {
                let ud = ud;
                // SAFETY: the plugin's work function with its user_data, on a
                // thread that is not the loop (T5); run once (W1).
                unsafe { work(ud.0) };
                let _q = inbox.lock();
                flag.store(true, Ordering::Release);
                inbox.wake.notify_all();
            })
            .expect("uvplug::testing: spawning a pool thread");
        st.work_threads.push(Started {
            index,
            handle,
            finished,
        });
    }

    /// Whether work item `index` was handed to a helper thread.
    fn started(st: &State, index: usize) -> bool {
        st.work_threads.iter().any(|w| w.index == index)
    }

    /// Work items of `plugin` (all plugins: None) in queue order:
    /// (seq, index, ended, started).
    fn work_items(&self, plugin: Option<usize>) -> Vec<(u64, usize, bool, bool)> {
        let st = self.st.borrow();
        let mut v: Vec<_> = st
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let r = s.reg.as_ref()?;
                match r.kind {
                    Kind::Work { seq, .. }
                        if !r.running && plugin.map_or(true, |p| p == r.plugin) =>
                    {
                        Some((seq, i, r.ended, Inner::started(&st, i)))
                    }
                    _ => None,
                }
            })
            .collect();
        v.sort_unstable();
        v
    }

    /// Hands queued work to helper threads in FIFO order while fewer than
    /// `work_concurrency` run (W4).
    fn pump_work(&self) {
        self.st
            .borrow_mut()
            .work_abandoned
            .retain(|w| !w.finished.load(Ordering::Acquire));
        for (_, index, ended, started) in self.work_items(None) {
            let st = self.st.borrow();
            if st.work_threads.len() + st.work_abandoned.len() >= st.work_concurrency {
                break;
            }
            drop(st);
            if !ended && !started {
                self.start_work(index);
            }
        }
    }

    /// The oldest work item cancelled before it started: its done runs on
    /// a later turn, never inside cancel (W5).
    fn next_cancelled_work(&self, plugin: Option<usize>) -> Option<usize> {
        let items = self.work_items(plugin);
        items.iter().find(|w| w.2 && !w.3).map(|w| w.1)
    }

    /// The oldest started work item, once its function returned (oldest
    /// first, even if a younger one returned before it: tests stay
    /// deterministic).
    fn next_finished_work(&self, plugin: Option<usize>) -> Option<usize> {
        let items = self.work_items(plugin);
        let (_, i, _, _) = *items.iter().find(|w| w.3)?;
        let st = self.st.borrow();
        let w = st.work_threads.iter().find(|w| w.index == i)?;
        w.finished.load(Ordering::Acquire).then_some(i)
    }

    /// While work runs and the loop has nothing else to do: waits, at most
    /// `cap`, for a post or a work function's return. False if no work
    /// runs.
    fn wait_for_work(&self, cap: Duration) -> bool {
        let st = self.st.borrow();
        if st.work_threads.is_empty() {
            return false;
        }
        let q = self.inbox.lock();
        let any_finished = st
            .work_threads
            .iter()
            .any(|w| w.finished.load(Ordering::Acquire));
        if q.is_empty() && !any_finished {
            drop(st);
            let _ = self.inbox.wake.wait_timeout(q, cap);
        }
        true
    }

    /// Unload (U3): ends every work item of `plugin` through its done,
    /// waiting for running ones; posts of the closed remote are destroyed
    /// meanwhile (R4), so a work function blocked on one gets free.
    fn drain_work(&self, plugin: usize) {
        let start = Instant::now();
        loop {
            let items = self.work_items(Some(plugin));
            if items.is_empty() {
                return;
            }
            if start.elapsed() >= self.st.borrow().work_drain {
                self.abandon(plugin);
                continue;
            }
            let next = self
                .next_cancelled_work(Some(plugin))
                .or_else(|| self.next_finished_work(Some(plugin)));
            if let Some(i) = next {
                self.complete_work(i);
                continue;
            }
            self.drop_posts(Some(plugin));
            if !self.wait_for_work(Duration::from_millis(50)) {
                // never started and not cancelled: cancel it (U1)
                let (_, i, _, _) = items[0];
                if let Some(r) = self.st.borrow_mut().slots[i].reg.as_mut() {
                    r.ended = true;
                }
            }
        }
    }

    /// W6: gives up on the plugin's work still running after
    /// `work_drain`: its slot is freed without done or destroy (the work
    /// function may still use its user_data, which is leaked), and it
    /// counts against the concurrency until its function returns.
    fn abandon(&self, plugin: usize) {
        let mut st = self.st.borrow_mut();
        let mine: Vec<usize> = st
            .work_threads
            .iter()
            .filter(|w| {
                st.slots[w.index]
                    .reg
                    .as_ref()
                    .is_some_and(|r| r.plugin == plugin && !r.running)
            })
            .map(|w| w.index)
            .collect();
        for &index in &mine {
            let pos = st.work_threads.iter().position(|w| w.index == index);
            if let Some(pos) = pos {
                let w = st.work_threads.remove(pos);
                st.work_abandoned.push(w);
            }
            st.slots[index].reg = None;
            Inner::retire(&mut st, index);
        }
        let drain_ms = ms(st.work_drain);
        let name = st.plugins[plugin].name.clone();
        st.logs.push(LogLine {
            plugin: "host".into(),
            level: Level::Error,
            msg: format!(
                "plugin {name}: {} work item(s) still running after {drain_ms} ms: abandoned \
                 (their done and destroy never run)",
                mine.len()
            ),
        });
        st.abandoned_total += mine.len() as u64;
    }

    /// Ends every registration of `plugin` in slot order, as the host's
    /// uvp__reg_cancel_all: subscriptions, timers and fd watches at once
    /// (destroy runs; a running one right after its callback, L2), work is
    /// marked cancelled and ends through its done later (W2).
    fn cancel_all(&self, plugin: usize) {
        let mut index = 0;
        loop {
            let d = {
                let mut st = self.st.borrow_mut();
                let found = st.slots[index.min(st.slots.len())..]
                    .iter()
                    .position(|s| {
                        s.reg
                            .as_ref()
                            .is_some_and(|r| r.plugin == plugin && !r.ended)
                    })
                    .map(|i| i + index);
                let Some(i) = found else {
                    return;
                };
                index = i + 1;
                let reg = st.slots[i].reg.as_mut().expect("found");
                if matches!(reg.kind, Kind::Work { .. }) || reg.running {
                    reg.ended = true;
                    end_watch(reg);
                    None
                } else {
                    Inner::release(&mut st, i)
                }
            };
            self.run_destroy(d);
        }
    }

    /// L8: before its publisher's on_unload, each of its owned payloads
    /// still queued is freed: the event stays queued as a copy (dropped
    /// when the host is closing), as the host's uvp__queue_release_owned.
    fn release_owned(&self, plugin: usize) {
        let frees: Vec<(FreeFn, *mut c_void, usize, *mut c_void)> = {
            let mut st = self.st.borrow_mut();
            let closing = st.closing;
            let mut frees = Vec::new();
            let queue = std::mem::take(&mut st.queue);
            for mut q in queue {
                if let Payload::Owned {
                    data,
                    len,
                    free,
                    hint,
                    publisher: Some(p),
                } = q.payload
                {
                    if p == plugin {
                        frees.push((free, data, len, hint));
                        if closing {
                            continue;
                        }
                        q.payload = Payload::Copied(q.payload.bytes().to_vec());
                    }
                }
                st.queue.push_back(q);
            }
            st.payload_frees += frees.len() as u64;
            frees
        };
        for (free, data, len, hint) in frees {
            // SAFETY: the payload left the queue (a copy took its place), so
            // this is its only release, on the loop thread (L8).
            unsafe { free(data, len, hint) };
        }
    }

    /// Finishes work item `index`: joins its work function if it ran (or
    /// runs it now if it was neither started nor cancelled), then done
    /// with the status (W1, W2), then destroy. Returns a plugin to
    /// quarantine.
    fn complete_work(&self, index: usize) -> Option<usize> {
        let started = {
            let mut st = self.st.borrow_mut();
            let pos = st.work_threads.iter().position(|w| w.index == index);
            pos.map(|p| st.work_threads.remove(p).handle)
        };
        let started = match started {
            Some(handle) => Some(handle),
            None => {
                let cancelled = self.st.borrow().slots[index]
                    .reg
                    .as_ref()
                    .map_or(true, |r| r.ended);
                if cancelled {
                    None
                } else {
                    self.start_work(index);
                    let mut st = self.st.borrow_mut();
                    let pos = st.work_threads.iter().position(|w| w.index == index);
                    pos.map(|p| st.work_threads.remove(p).handle)
                }
            }
        };
        if let Some(handle) = started {
            // The SDK catches panics, so a join error means the fake's own
            // thread failed.
            let _ = handle.join();
        }
        let (plugin, done, ud, cancelled) = {
            let mut st = self.st.borrow_mut();
            let reg = st.slots[index].reg.as_mut()?;
            let Kind::Work { done, .. } = reg.kind else {
                return None;
            };
            reg.running = true;
            (reg.plugin, done, reg.user_data, reg.ended)
        };
        let status = if cancelled { sys::UVP_ECANCELED } else { 0 };
        let ctx = self.ctx_of(plugin);
        // SAFETY: the plugin's completion with its user_data, once, on the
        // loop thread, after the work function returned or never ran (W1).
        let rc = unsafe { done(ctx, status, ud) };
        let (d, q) = {
            let mut st = self.st.borrow_mut();
            let d = Inner::release(&mut st, index);
            (d, Inner::count_status(&mut st, plugin, rc))
        };
        self.run_destroy(d);
        q
    }

    /// Closes a plugin's remote: posts are refused from now on (R4).
    fn close_remote(&self, plugin: usize) {
        let remote = self.st.borrow().plugins[plugin].remote.clone();
        if let Some(r) = remote {
            let _q = self.inbox.lock();
            r.closed.store(true, Ordering::Release);
            self.inbox.room.notify_all();
        }
    }

    /// Destroys, unrun, every queued post of `plugin` (R4); `None` for all.
    fn drop_posts(&self, plugin: Option<usize>) {
        let dropped: Vec<Posted> = {
            let mut q = self.inbox.lock();
            let (gone, keep): (VecDeque<Posted>, VecDeque<Posted>) = q
                .drain(..)
                .partition(|p| plugin.map_or(true, |x| x == p.plugin));
            *q = keep;
            self.inbox.room.notify_all();
            gone.into_iter().collect()
        };
        for p in dropped {
            self.posted_done(p.plugin);
            if let Item::Post {
                ud,
                destroy: Some(destroy),
                ..
            } = p.item
            {
                // SAFETY: the post's destroy with its user_data, exactly once,
                // on the loop thread, instead of the callback (R4).
                unsafe { destroy(ud.0) };
            }
        }
    }

    fn posted_done(&self, plugin: usize) {
        if let Some(r) = self.st.borrow().plugins[plugin].remote.as_ref() {
            r.queued.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Runs one queued post, or takes a remote publish for the caller to
    /// deliver now; false if none.
    fn run_post_one(&self) -> (bool, Option<usize>, Option<Queued>) {
        let next = {
            let mut q = self.inbox.lock();
            let next = q.pop_front();
            self.inbox.room.notify_all();
            next
        };
        let Some(p) = next else {
            return (false, None, None);
        };
        self.posted_done(p.plugin);
        let live = {
            let st = self.st.borrow();
            let slot = &st.plugins[p.plugin];
            slot.phase == Phase::Running
                && slot
                    .remote
                    .as_ref()
                    .is_some_and(|r| !r.closed.load(Ordering::Acquire))
        };
        let mut quarantine = None;
        match p.item {
            Item::Post { cb, ud, destroy } => {
                if live {
                    let ctx = self.ctx_of(p.plugin);
                    // SAFETY: the post's callback with its user_data, once,
                    // on the loop thread (R1, T1).
                    let rc = unsafe { cb(ctx, ud.0) };
                    quarantine = Inner::count_status(&mut self.st.borrow_mut(), p.plugin, rc);
                }
                if let Some(destroy) = destroy {
                    // SAFETY: exactly once, after the callback (or instead
                    // of it, R4), on the loop thread.
                    unsafe { destroy(ud.0) };
                }
            }
            Item::Publish { topic, data } => {
                if !live {
                } else if !self.topic_known(topic) {
                    // a topic of no host of ours: dropped and counted
                    self.st.borrow_mut().plugins[p.plugin].stats.errors += 1;
                } else {
                    // R1: delivered as the post queue is run, in order with
                    // the posts around it, never through the event queue
                    // (src/remote.c, run_cell: uvp__deliver).
                    self.st.borrow_mut().published.push((topic, data.clone()));
                    return (
                        true,
                        None,
                        Some(Queued {
                            topic,
                            payload: Payload::Copied(data),
                        }),
                    );
                }
            }
        }
        (true, quarantine, None)
    }
}

/// The parts of a registration needed to call it, copied out of the state.
struct Registration_ {
    plugin: usize,
    kind: Kind,
    user_data: *mut c_void,
}

#[repr(C)]
struct PollFd {
    fd: c_int,
    events: c_short,
    revents: c_short,
}

extern "C" {
    fn poll(fds: *mut PollFd, nfds: c_ulong, timeout: c_int) -> c_int;
    fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
}

const F_GETFL: c_int = 3;
const F_SETFL: c_int = 4;
#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
const O_NONBLOCK: c_int = 0x4;
#[cfg(not(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
)))]
const O_NONBLOCK: c_int = 0o4000;

/// The fd's status flags, or None if it is not open.
fn fd_flags(fd: c_int) -> Option<c_int> {
    // SAFETY: F_GETFL reads the flags of any fd number; a closed one
    // gives -1 (EBADF).
    let fl = unsafe { fcntl(fd, F_GETFL) };
    (fl >= 0).then_some(fl)
}

/// Whether epoll could watch the open fd: not a regular file or a
/// directory (libuv's uv_poll_init gets EPERM for those).
fn pollable(fd: c_int) -> bool {
    use std::os::unix::io::BorrowedFd;
    // SAFETY: fd is open (fd_flags said so) and only borrowed to dup it.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    match fd.try_clone_to_owned() {
        Ok(dup) => std::fs::File::from(dup)
            .metadata()
            .map(|m| !m.is_file() && !m.is_dir())
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// D7: an ending watch clears the `O_NONBLOCK` it set, once.
fn end_watch(reg: &mut Registration) {
    if let Kind::Fd {
        fd,
        ref mut restore,
        ..
    } = reg.kind
    {
        if std::mem::take(restore) {
            if let Some(fl) = fd_flags(fd).filter(|fl| fl & O_NONBLOCK != 0) {
                // SAFETY: fcntl on the watched fd, still open (D7).
                unsafe { fcntl(fd, F_SETFL, fl & !O_NONBLOCK) };
            }
        }
    }
}

const POLLIN: c_short = 0x1;
const POLLOUT: c_short = 0x4;
const POLLERR: c_short = 0x8;
const POLLHUP: c_short = 0x10;

impl Default for TestHost {
    fn default() -> Self {
        TestHost::new()
    }
}

impl TestHost {
    /// A fake host bound to the calling thread, clock at 0.
    pub fn new() -> TestHost {
        TestHost {
            inner: Box::new(Inner {
                inbox: Arc::new(Inbox {
                    loop_thread: thread::current().id(),
                    q: Mutex::new(VecDeque::new()),
                    room: Condvar::new(),
                    wake: Condvar::new(),
                    limit: AtomicUsize::new(65_536),
                    max_payload: AtomicUsize::new(1 << 20),
                }),
                st: RefCell::new(State {
                    now: 0,
                    topics: Vec::new(),
                    topic_ids: HashMap::new(),
                    slots: Vec::new(),
                    free_slots: Vec::new(),
                    queue: VecDeque::new(),
                    next_seq: 0,
                    plugins: Vec::new(),
                    logs: Vec::new(),
                    published: Vec::new(),
                    destroy_calls: 0,
                    payload_frees: 0,
                    policy: FaultPolicy::Quarantine,
                    unload_requests: Vec::new(),
                    queue_capacity: 65_536,
                    max_payload: 1 << 20,
                    work_threads: Vec::new(),
                    work_concurrency: 2,
                    quarantine_due: Vec::new(),
                    unloads_due: Vec::new(),
                    in_flight: None,
                    unload_waiting: Vec::new(),
                    closing: false,
                    slack: Duration::ZERO,
                    timers_on_idle: false,
                    batch: 1024,
                    work_drain: Duration::from_secs(30),
                    work_abandoned: Vec::new(),
                    abandoned_total: 0,
                    services: Vec::new(),
                    service_grace: 5000,
                }),
            }),
        }
    }

    /// Sets the fault policy for later panics (default: quarantine).
    pub fn set_fault_policy(&mut self, policy: FaultPolicy) {
        self.inner.st.borrow_mut().policy = policy;
    }

    /// Sets the queue capacity (D4) and the largest payload (F4).
    pub fn set_limits(&mut self, queue_capacity: usize, max_payload: usize) {
        let mut st = self.inner.st.borrow_mut();
        st.queue_capacity = queue_capacity;
        st.max_payload = max_payload;
        self.inner
            .inbox
            .max_payload
            .store(max_payload, Ordering::Relaxed);
    }

    /// Sets how many events, and how many posts, one loop turn runs at
    /// most (D5, R6; default 1024, the host's `batch`): a due timer fires
    /// between two batches.
    pub fn set_batch(&mut self, batch: usize) {
        self.inner.st.borrow_mut().batch = batch.max(1);
    }

    /// Sets how many posts and remote publishes one plugin may have queued
    /// (R2; default 65536): past it `PostMode::NonBlock` gets
    /// `Error::Again` and `PostMode::Block` waits for `run_until_idle`.
    pub fn set_remote_limit(&mut self, limit: usize) {
        self.inner.inbox.limit.store(limit, Ordering::Relaxed);
    }

    /// Loads an instance of `P` named `plugin-<n>` with `config`.
    pub fn load<P: Plugin>(&mut self, config: &str) -> Result<Loaded<P>> {
        let name = format!("plugin-{}", self.inner.st.borrow().plugins.len());
        self.load_as::<P>(&name, config)
    }

    /// Loads an instance of `P` under an instance name.
    pub fn load_as<P: Plugin>(&mut self, name: &str, config: &str) -> Result<Loaded<P>> {
        let hooks = Hooks {
            on_init: tramp::on_init::<P>,
            on_start: Some(tramp::on_start::<P>),
            on_stop: Some(tramp::on_stop::<P>),
            on_unload: Some(tramp::on_unload::<P>),
        };
        let index = self.load_hooks(name, hooks, config.as_bytes(), Some(TypeId::of::<P>()))?;
        Ok(Loaded {
            index,
            host: self.id(),
            _p: PhantomData,
        })
    }

    /// Loads the plugin an exported descriptor describes (e.g. the
    /// `uvp_plugin_descriptor` static of `export_plugin!`), checking it as
    /// the loader does (A3-A7), with raw config bytes (which need not be
    /// UTF-8).
    pub fn load_descriptor(&mut self, desc: &Descriptor, config: &[u8]) -> Result<PluginId> {
        let raw = desc.raw();
        if raw.magic != sys::UVP_PLUGIN_MAGIC {
            return Err(Error::BadMagic);
        }
        if u32::from(raw.abi_major) != sys::UVP_ABI_MAJOR {
            return Err(Error::Abi);
        }
        if (raw.size as usize) < std::mem::size_of::<sys::uvp_plugin_desc>() {
            return Err(Error::Short);
        }
        let Some(on_init) = raw.on_init else {
            return Err(Error::BadDescriptor);
        };
        let hooks = Hooks {
            on_init,
            on_start: raw.on_start,
            on_stop: raw.on_stop,
            on_unload: raw.on_unload,
        };
        self.load_hooks(desc.name(), hooks, config, None)
            .map(PluginId)
    }

    fn load_hooks(
        &mut self,
        name: &str,
        hooks: Hooks,
        config: &[u8],
        type_id: Option<TypeId>,
    ) -> Result<usize> {
        let ok_name = !name.is_empty()
            && name.len() <= sys::UVP_NAME_MAX as usize
            && name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
        if !ok_name {
            return Err(Error::BadDescriptor);
        }
        let (index, ctx) = {
            let mut st = self.inner.st.borrow_mut();
            if st.plugins.iter().any(|p| {
                // A6: a stopping or draining instance no longer holds
                // its name (the host's uvp__plugin_find, live only)
                p.name == name
                    && !p.replacing
                    && matches!(p.phase, Phase::Init | Phase::Running | Phase::Quarantined)
            }) {
                return Err(Error::DupName);
            }
            let index = st.plugins.len();
            let ctx = Box::new(FakeCtx {
                inner: &*self.inner,
                plugin: index,
                loop_thread: thread::current().id(),
                wrong_thread: AtomicU64::new(0),
            });
            let ctx_ptr = &*ctx as *const FakeCtx as *mut sys::uvp_ctx;
            st.plugins.push(PluginSlot {
                name: name.to_owned(),
                name_c: CString::new(name).map_err(|_| Error::BadDescriptor)?,
                type_id,
                ctx,
                hooks,
                state: std::ptr::null_mut(),
                phase: Phase::Init,
                stats: Stats::default(),
                wrong_thread_logged: false,
                remote: None,
                drain_since: None,
                counters: Vec::new(),
                in_call: 0,
                replacing: false,
            });
            (index, ctx_ptr)
        };
        let mut cfg = config.to_vec();
        cfg.push(0);
        let mut state: *mut c_void = std::ptr::null_mut();
        // SAFETY: on_init is the plugin's hook; ctx and the api table live
        // as long as this host; cfg is NUL-terminated, len excludes the NUL.
        let rc = unsafe {
            (hooks.on_init)(
                ctx,
                &FAKE_API,
                cfg.as_ptr().cast(),
                config.len(),
                &mut state,
            )
        };
        if rc != 0 {
            // A9: destroy what init registered; on_unload is not called. An
            // unload_self made during init is void (as in fail_load).
            {
                let mut st = self.inner.st.borrow_mut();
                st.plugins[index].phase = Phase::Stopping;
                st.unload_requests.retain(|&x| x != index);
                st.quarantine_due.retain(|&x| x != index);
            }
            self.teardown(index);
            self.inner.release_owned(index);
            self.inner.st.borrow_mut().plugins[index].phase = Phase::Gone;
            self.host_log(format!(
                "plugin {name}: init failed: {}",
                Error::from_code(rc)
            ));
            return Err(Error::Init);
        }
        {
            let mut st = self.inner.st.borrow_mut();
            st.plugins[index].state = state;
            st.plugins[index].phase = Phase::Running;
        }
        if let Some(on_start) = hooks.on_start {
            // SAFETY: the plugin's hook with its own ctx and state.
            let rc = unsafe { on_start(ctx, state) };
            if rc != 0 {
                {
                    let mut st = self.inner.st.borrow_mut();
                    st.plugins[index].phase = Phase::Stopping;
                    st.unload_requests.retain(|&x| x != index);
                    st.quarantine_due.retain(|&x| x != index);
                }
                // A9: no on_stop (it never started); on_unload runs.
                self.teardown(index);
                self.finish_unload(index);
                self.host_log(format!(
                    "plugin {name}: start failed: {}",
                    Error::from_code(rc)
                ));
                return Err(Error::Init);
            }
        }
        // U6, S3: an unload_self made during init or start starts now, as
        // loading returns (the host's uvp__call_after at the end of load).
        self.unload_requested();
        Ok(index)
    }

    fn host_log(&self, msg: String) {
        self.inner.st.borrow_mut().logs.push(LogLine {
            plugin: "host".into(),
            level: Level::Error,
            msg,
        });
    }

    /// Unload, after on_stop (S1, U1), at once: ends every registration
    /// in slot order (destroy runs; work is cancelled), closes the remote,
    /// then waits for what drains: cancelled items that never started end
    /// through their done, queued posts are destroyed (R4), running work
    /// is waited for (U3).
    fn teardown(&self, plugin: usize) {
        self.inner.revoke_exports(plugin, None, sys::UVP_ECLOSED);
        self.inner.cancel_all(plugin);
        self.inner.close_remote(plugin);
        self.finish_sync(plugin);
    }

    /// The draining part of an unload, at once (for `unload`, a failed
    /// load and the host's drop): posts destroyed, work waited for.
    fn finish_sync(&self, plugin: usize) {
        self.inner.drop_posts(Some(plugin));
        self.inner.drain_work(plugin);
        self.inner.drop_posts(Some(plugin));
    }

    fn finish_unload(&self, plugin: usize) {
        self.inner.finish_unload(plugin);
    }

    fn try_finish(&self, plugin: usize) {
        self.inner.try_finish(plugin);
    }

    /// `try_finish` for every draining plugin; one that drained for
    /// `work_drain` abandons its running work first (W6).
    fn finish_drained(&mut self) {
        let n = self.inner.st.borrow().plugins.len();
        for p in 0..n {
            let overdue = {
                let st = self.inner.st.borrow();
                let slot = &st.plugins[p];
                slot.phase == Phase::Draining
                    && slot
                        .drain_since
                        .is_some_and(|t| t.elapsed() >= st.work_drain)
            };
            if overdue && !self.inner.work_items(Some(p)).is_empty() {
                self.inner.abandon(p);
            }
            self.inner.warn_held(p);
            self.try_finish(p);
        }
    }

    fn run_on_unload(&self, plugin: usize) {
        self.inner.run_on_unload(plugin);
    }

    /// The first part of an unload, as the host's uvp__plugin_begin_unload:
    /// on_stop (not for a quarantined plugin, F1), every registration
    /// ended (destroy runs; work cancelled), the remote closed; the plugin
    /// then drains.
    fn begin_unload(&mut self, plugin: usize) -> Result<()> {
        let (hooks, ctx, state, stop) = {
            let mut st = self.inner.st.borrow_mut();
            let Some(p) = st.plugins.get_mut(plugin) else {
                return Err(Error::NoEnt);
            };
            // F1: a quarantined plugin's state may be torn: no on_stop.
            let stop = match p.phase {
                Phase::Running => true,
                Phase::Quarantined => false,
                _ => return Err(Error::Closed),
            };
            p.phase = Phase::Stopping;
            let out = (
                p.hooks,
                &*p.ctx as *const FakeCtx as *mut sys::uvp_ctx,
                p.state,
                stop,
            );
            st.unloads_due.retain(|&x| x != plugin);
            st.unload_requests.retain(|&x| x != plugin);
            st.quarantine_due.retain(|&x| x != plugin);
            out
        };
        // V5: importers are revoked before the provider's on_stop.
        self.inner.revoke_exports(plugin, None, sys::UVP_ECLOSED);
        if let (true, Some(on_stop)) = (stop, hooks.on_stop) {
            // SAFETY: the plugin's hook with its own ctx and state (S1).
            unsafe { on_stop(ctx, state) };
        }
        self.inner.cancel_all(plugin);
        self.inner.close_remote(plugin);
        {
            let mut st = self.inner.st.borrow_mut();
            st.plugins[plugin].phase = Phase::Draining;
            st.plugins[plugin].drain_since = Some(Instant::now());
        }
        Ok(())
    }

    /// An unload the plugin asked for (unload_self) or a quarantine's: it
    /// drains on later turns, as in the host (U3, R4): its queued posts
    /// are destroyed and its work's done runs as the loop turns, other
    /// plugins running meanwhile (U2); then on_unload.
    fn unload_index(&mut self, plugin: usize) -> Result<()> {
        self.begin_unload(plugin)?;
        self.try_finish(plugin);
        Ok(())
    }

    /// Unloads a plugin: stop, cancel every registration (each destroy
    /// runs), destroy its queued posts, wait for its running work, then
    /// on_unload (S1), all before it returns.
    ///
    /// A provider whose exports are still referenced after the revokes
    /// stays draining (V6) and finishes on the loop turn after the last
    /// reference was dropped.
    pub fn unload(&mut self, id: PluginId) -> Result<()> {
        self.begin_unload(id.0)?;
        self.finish_sync(id.0);
        if self.inner.service_refs(id.0) == 0 {
            self.finish_unload(id.0);
        }
        Ok(())
    }

    /// Whether the plugin is loaded (false after unload or quarantine).
    pub fn is_loaded(&self, id: PluginId) -> bool {
        self.inner
            .st
            .borrow()
            .plugins
            .get(id.0)
            .is_some_and(|p| p.phase == Phase::Running)
    }

    fn id(&self) -> *const () {
        (&*self.inner as *const Inner).cast()
    }

    fn core<P: 'static>(&self, p: &Loaded<P>) -> Option<Rc<Core>> {
        let st = self.inner.st.borrow();
        let slot = st.plugins.get(p.index)?;
        if p.host != self.id()
            || slot.type_id != Some(TypeId::of::<P>())
            || slot.phase != Phase::Running
            || slot.state.is_null()
        {
            return None;
        }
        // SAFETY: this host loaded the slot with load_as::<P> (host and type
        // checked above), so the state is the Box<Rc<Core>> of the SDK's
        // on_init for P, alive while Running.
        Some(unsafe { &*slot.state.cast::<Rc<Core>>() }.clone())
    }

    /// The plugin's state, for assertions. Panics if it is not loaded (or
    /// `p` came from another host).
    pub fn state<P: Plugin>(&self, p: &Loaded<P>) -> &P {
        let core = self.core(p).expect("uvplug::testing: plugin not loaded");
        let ptr = core.state.get().cast::<P>();
        assert!(!ptr.is_null() && !core.busy.get());
        // SAFETY: the Box<P> lives until on_unload, which needs `&mut self`
        // of this host, as does every dispatch that could create a `&mut P`;
        // the returned borrow of `self` excludes both.
        unsafe { &*ptr }
    }

    /// Runs `f` with the plugin's state and ctx, as if it were a handler
    /// (same exclusivity rules), then runs queued events until idle.
    /// `None` if the plugin is not loaded or `f` panicked.
    pub fn with<P: Plugin, R>(
        &mut self,
        p: &Loaded<P>,
        f: impl FnOnce(&mut P, &mut Ctx<P>) -> R,
    ) -> Option<R> {
        let core = self.core(p)?;
        let mut out = None;
        tramp::dispatch::<P>(&core, "TestHost::with", tramp::Report::Status, |p, cx| {
            out = Some(f(p, cx));
            Ok(())
        });
        drop(core);
        self.unload_requested();
        self.run_until_idle();
        out
    }

    /// Publishes a copy of `data` on `topic` as the host (interning it).
    pub fn publish(&mut self, topic: &str, data: &[u8]) -> Result<()> {
        let t = self.inner.intern(topic.as_bytes())?;
        Error::check(self.inner.enqueue(None, t, Payload::Copied(data.to_vec())))
    }

    /// Every payload published on `topic` so far (by plugins or the host),
    /// in publish order.
    pub fn published(&self, topic: &str) -> Vec<Vec<u8>> {
        let st = self.inner.st.borrow();
        let Some(i) = st
            .topics
            .iter()
            .position(|t| t.as_bytes() == topic.as_bytes())
        else {
            return Vec::new();
        };
        let id = i as u32 + 1;
        st.published
            .iter()
            .filter(|(t, _)| *t == id)
            .map(|(_, d)| d.clone())
            .collect()
    }

    /// Forgets what [`published`](Self::published) recorded.
    pub fn clear_published(&mut self) {
        self.inner.st.borrow_mut().published.clear();
    }

    /// Every log line so far.
    pub fn logs(&self) -> Vec<LogLine> {
        self.inner.st.borrow().logs.clone()
    }

    /// Whether some log line contains `needle`.
    pub fn logged(&self, needle: &str) -> bool {
        self.inner
            .st
            .borrow()
            .logs
            .iter()
            .any(|l| l.msg.contains(needle))
    }

    /// Live registrations (subscriptions, timers, fd watches) of all plugins.
    pub fn live_registrations(&self) -> usize {
        self.inner
            .st
            .borrow()
            .slots
            .iter()
            .filter(|s| s.reg.is_some())
            .count()
    }

    /// Destroy callbacks run so far (registrations ended).
    pub fn destroy_calls(&self) -> u64 {
        self.inner.st.borrow().destroy_calls
    }

    /// Owned-payload free functions run so far.
    pub fn payload_frees(&self) -> u64 {
        self.inner.st.borrow().payload_frees
    }

    /// Events queued and not yet dispatched.
    pub fn queued(&self) -> usize {
        self.inner.st.borrow().queue.len()
    }

    /// The plugin's fault and thread counters.
    pub fn stats(&self, id: PluginId) -> Stats {
        let st = self.inner.st.borrow();
        let Some(p) = st.plugins.get(id.0) else {
            return Stats::default();
        };
        let mut out = Stats {
            wrong_thread: p.ctx.wrong_thread.load(Ordering::Relaxed),
            ..p.stats
        };
        for (i, slot) in st.slots.iter().enumerate() {
            let Some(r) = slot.reg.as_ref().filter(|r| r.plugin == id.0) else {
                continue;
            };
            out.registrations += 1;
            if matches!(r.kind, Kind::Work { .. }) {
                out.work_pending += 1;
                if Inner::started(&st, i) {
                    out.work_running += 1;
                } else if !r.running {
                    out.work_queued += 1;
                }
            }
        }
        out
    }

    /// The virtual loop time in milliseconds.
    pub fn now_ms(&self) -> u64 {
        self.inner.st.borrow().now
    }

    fn call(
        &mut self,
        (index, gen): (usize, u32),
        ev: Option<&sys::uvp_event>,
        fd_events: (c_int, c_int),
    ) {
        let Some((reg, ctx)) = self.inner.begin(index, Some(gen)) else {
            return;
        };
        let rc = match reg.kind {
            Kind::Sub { cb, .. } => match ev {
                // SAFETY: a live registration's callback with its user_data;
                // the event is valid for the call (L7).
                Some(ev) => unsafe { cb(ctx, ev, reg.user_data) },
                None => 0,
            },
            Kind::Timer { cb, .. } => {
                // SAFETY: a live registration's callback with its user_data.
                unsafe { cb(ctx, reg.user_data) }
            }
            Kind::Fd { cb, fd, .. } => {
                // SAFETY: a live registration's callback with its user_data.
                unsafe { cb(ctx, fd, fd_events.0, fd_events.1, reg.user_data) }
            }
            // never called this way: see complete_work, revoke_refs
            Kind::Work { .. } | Kind::Export { .. } | Kind::Import { .. } => 0,
        };
        if let Kind::Timer { repeat: 0, .. } = reg.kind {
            // L10: a one-shot timer ends after its only call; its id stayed
            // live during it, so cancelling itself there got 0 (as the
            // host's fire() expires it only after the call returned).
            if let Some(r) = self.inner.st.borrow_mut().slots[index].reg.as_mut() {
                r.ended = true;
            }
        }
        if let Some(p) = self.inner.end(index, reg.plugin, rc) {
            self.quarantine(p);
        }
        self.unload_requested();
    }

    /// F1: from the failed callback's return on, the plugin gets no further
    /// deliveries: every registration ends (destroy runs; work ends through
    /// its done), its remote closes; the unload follows on the next loop
    /// turn, without on_stop (src/plugin.c, quarantine).
    fn quarantine(&mut self, plugin: usize) {
        {
            let mut st = self.inner.st.borrow_mut();
            if st.plugins[plugin].phase != Phase::Running {
                return;
            }
            st.plugins[plugin].phase = Phase::Quarantined;
            st.unloads_due.push(plugin);
        }
        // V4, V5: its importers are revoked with UVP_EPANIC.
        self.inner.revoke_exports(plugin, None, sys::UVP_EPANIC);
        self.inner.close_remote(plugin);
        self.inner.cancel_all(plugin);
    }

    /// Quarantines the plugins that reported a panic (F7), then unloads the
    /// plugins that asked for it (unload_self), now that no callback of
    /// theirs is on the stack.
    fn unload_requested(&mut self) {
        loop {
            let due = self.inner.st.borrow_mut().quarantine_due.pop();
            match due {
                Some(p) => {
                    self.inner
                        .st
                        .borrow_mut()
                        .unload_requests
                        .retain(|&x| x != p);
                    self.quarantine(p);
                }
                None => break,
            }
        }
        loop {
            let next = self.inner.st.borrow_mut().unload_requests.pop();
            match next {
                Some(p) => {
                    let _ = self.unload_index(p);
                }
                None => break,
            }
        }
    }

    /// The loop turn's first step (the host's uvp__plugin_unload_due):
    /// unloads the plugins quarantined before this turn (F1); quarantines
    /// those that reported a panic and unloads those that asked for it
    /// from code that returned into no callback (a free_fn, S3, F7).
    fn unload_due(&mut self) -> bool {
        let due = std::mem::take(&mut self.inner.st.borrow_mut().unloads_due);
        let any = {
            let st = self.inner.st.borrow();
            !due.is_empty() || !st.quarantine_due.is_empty() || !st.unload_requests.is_empty()
        };
        self.unload_requested();
        for p in due {
            let _ = self.unload_index(p);
        }
        any
    }

    fn note_wrong_thread(&mut self) {
        let mut st = self.inner.st.borrow_mut();
        let mut lines = Vec::new();
        for p in st.plugins.iter_mut() {
            if !p.wrong_thread_logged && p.ctx.wrong_thread.load(Ordering::Relaxed) > 0 {
                p.wrong_thread_logged = true;
                lines.push(format!(
                    "plugin {}: loop-only call from another thread",
                    p.name
                ));
            }
        }
        for msg in lines {
            st.logs.push(LogLine {
                plugin: "host".into(),
                level: Level::Warn,
                msg,
            });
        }
    }

    /// Dispatches queued events (including those published meanwhile) and
    /// fires timers due now, until nothing is left to do.
    ///
    /// Also runs queued posts and remote publishes, and every queued work
    /// item: work functions run on helper threads beside this loop (at
    /// most [`set_work_concurrency`](Self::set_work_concurrency) at once,
    /// W4), which keeps running posts while they run, so a work function
    /// may post and wait for the loop; each done runs once its function
    /// returned, oldest item first. Returns once no work is queued or
    /// running and nothing else is queued; posts that other threads make
    /// after that wait for the next call.
    pub fn run_until_idle(&mut self) {
        loop {
            if self.turn() {
                continue;
            }
            if self.wait_for_work() {
                continue;
            }
            break;
        }
    }

    /// Runs one loop turn, as one `uv_run(UV_RUN_ONCE)` of the real host
    /// would: if nothing was ready, waits for running work (a bounded
    /// while; real time passes on the virtual clock) or, with no work
    /// running, moves the clock to the next due timer, and fires the
    /// timers due then. False when nothing ran and nothing is pending (the real
    /// loop would wait for I/O, see [`poll_io`](Self::poll_io)). For
    /// drivers that must stop between two turns, as the scenario suite's.
    pub fn run_once(&mut self) -> bool {
        if self.turn() {
            return true;
        }
        if self.wait_for_work() {
            self.timers_phase();
            return true;
        }
        match self.next_due() {
            Some(due) => {
                {
                    let mut st = self.inner.st.borrow_mut();
                    st.now = st.now.max(due);
                }
                self.timers_phase();
                true
            }
            None => false,
        }
    }

    /// The loop blocks while work runs and nothing else is due: the real
    /// time it waits passes on the virtual clock too, as it would on the
    /// host's, so a timer that comes due while work runs fires meanwhile.
    /// False if no work runs.
    fn wait_for_work(&mut self) -> bool {
        let now = self.now_ms();
        let until_timer = self.next_due().map_or(50, |due| due.saturating_sub(now));
        let cap = Duration::from_millis(until_timer.clamp(1, 50));
        let start = Instant::now();
        if !self.inner.wait_for_work(cap) {
            return false;
        }
        let mut st = self.inner.st.borrow_mut();
        let waited = start.elapsed() + st.slack;
        let whole = ms(waited);
        st.slack = waited.saturating_sub(Duration::from_millis(whole));
        st.now = st.now.saturating_add(whole);
        true
    }

    /// One loop turn, in the real host's order (one libuv turn): the idle
    /// phase runs the done of work cancelled before it started (W5), the
    /// unloads due (F1), a timer round if a timer was already due when the
    /// host last armed its timer (src/timer.c: the idle path, e.g. 0 ms),
    /// then the event queue, including what its subscribers publish, at
    /// most `batch` (D5); the poll phase runs the done of work whose
    /// function returned, then the posts, at most `batch` (R6); the timers
    /// phase, last (libuv runs timers after the poll), a round of the
    /// timers that came due meanwhile: what they publish is delivered on
    /// the next turn. Whether anything ran.
    fn turn(&mut self) -> bool {
        self.note_wrong_thread();
        self.finish_drained();
        let mut ran = false;
        while let Some(index) = self.inner.next_cancelled_work(None) {
            self.complete(index);
            ran = true;
        }
        ran |= self.unload_due();
        if self.inner.st.borrow().timers_on_idle {
            ran |= self.round();
        }
        let batch = self.inner.st.borrow().batch;
        for _ in 0..batch {
            if !self.dispatch_one() {
                break;
            }
            ran = true;
        }
        // libuv runs the pool's completions before the host's own wake-up
        // (its async handle is older), so work that returned comes first.
        self.inner.pump_work();
        while let Some(index) = self.inner.next_finished_work(None) {
            self.complete(index);
            self.inner.pump_work();
            ran = true;
        }
        // R6: up to `batch` posts, those made meanwhile included, as the
        // host's drain pops until the ring is empty.
        for _ in 0..batch {
            let (one, quarantine, publish) = self.inner.run_post_one();
            if let Some(p) = quarantine {
                self.quarantine(p);
            }
            if let Some(q) = publish {
                self.deliver(q);
            }
            self.unload_requested();
            self.finish_drained();
            if !one {
                break;
            }
            ran = true;
        }
        ran | self.timers_phase()
    }

    /// The timers phase of a turn: a round of the timers due by now,
    /// unless the idle path has them (then the next turn's idle phase).
    fn timers_phase(&mut self) -> bool {
        if self.inner.st.borrow().timers_on_idle {
            return false;
        }
        match self.next_due() {
            Some(due) if due <= self.now_ms() => self.round(),
            _ => false,
        }
    }

    /// A timer round at the current time, then the host's rearm: the idle
    /// path if the earliest timer is due already, else the timers phase.
    fn round(&mut self) -> bool {
        let now = self.now_ms();
        let fired = self.fire_round(now);
        self.rearm();
        fired
    }

    /// As the host's rearm (src/timer.c): the next round runs in the idle
    /// phase when the earliest timer is due already, else in the timers
    /// phase once it comes due.
    fn rearm(&mut self) {
        let due = self.next_due();
        let mut st = self.inner.st.borrow_mut();
        st.timers_on_idle = due.is_some_and(|d| d <= st.now);
    }

    /// Runs work item `index`'s done (and destroy); then what its status
    /// and calls asked for.
    fn complete(&mut self, index: usize) {
        if let Some(p) = self.inner.complete_work(index) {
            self.quarantine(p);
        }
        self.unload_requested();
        self.finish_drained();
    }

    /// Hands queued, uncancelled work functions to helper threads (at most
    /// `set_work_concurrency` running at once) without waiting for them;
    /// returns how many started. The next `run_until_idle` runs their done
    /// once they returned. Lets a test cancel work while it runs (W2).
    pub fn start_work(&mut self) -> usize {
        let before = self.inner.st.borrow().work_threads.len();
        self.inner.pump_work();
        self.inner.st.borrow().work_threads.len() - before
    }

    /// Sets how long an unload waits for running work before abandoning it
    /// (W6; default 30 s, the host's `work_drain_ms`): an abandoned item's
    /// done and destroy never run.
    pub fn set_work_drain(&mut self, d: Duration) {
        self.inner.st.borrow_mut().work_drain = d;
    }

    /// Work items abandoned so far (W6; the host's `work_abandoned`
    /// counts those still running).
    pub fn work_abandoned(&self) -> u64 {
        self.inner.st.borrow().abandoned_total
    }

    /// Sets how many work functions may run at once (W4; default 2, the
    /// host's `work_concurrency`); the rest wait in FIFO order.
    pub fn set_work_concurrency(&mut self, n: usize) {
        self.inner.st.borrow_mut().work_concurrency = n.max(1);
    }

    /// Work items queued or running whose done has not run yet.
    pub fn pending_work(&self) -> usize {
        self.inner
            .st
            .borrow()
            .slots
            .iter()
            .filter(|s| {
                s.reg
                    .as_ref()
                    .is_some_and(|r| matches!(r.kind, Kind::Work { .. }))
            })
            .count()
    }

    /// Posts and remote publishes queued and not yet run.
    pub fn queued_posts(&self) -> usize {
        self.inner.inbox.lock().len()
    }

    /// References on the plugin's remote held by the plugin and its
    /// threads (the host's own not counted); 0 if it never made one. Still
    /// counts after unload, while clones are alive.
    pub fn remote_refs(&self, id: PluginId) -> usize {
        let st = self.inner.st.borrow();
        let Some(slot) = st.plugins.get(id.0) else {
            return 0;
        };
        match &slot.remote {
            Some(r) => Arc::strong_count(r) - 1,
            None => 0,
        }
    }

    /// Runs the loop (`run_until_idle`, then a yield) until `done` says so
    /// or `timeout` passed; returns whether `done` said so. For tests whose
    /// producer threads post while the test waits.
    pub fn run_until(
        &mut self,
        timeout: Duration,
        mut done: impl FnMut(&TestHost) -> bool,
    ) -> bool {
        let start = Instant::now();
        loop {
            self.run_until_idle();
            if done(self) {
                return true;
            }
            if start.elapsed() >= timeout {
                return false;
            }
            thread::yield_now();
        }
    }

    fn dispatch_one(&mut self) -> bool {
        let q = self.inner.st.borrow_mut().queue.pop_front();
        match q {
            Some(q) => {
                self.deliver(q);
                true
            }
            None => false,
        }
    }

    /// Calls every subscriber of the event's topic, then releases its
    /// payload (L8).
    fn deliver(&mut self, q: Queued) {
        let (q, subs, name) = {
            let st = self.inner.st.borrow();
            let mut subs: Vec<(u64, usize, u32)> = st
                .slots
                .iter()
                .enumerate()
                .filter_map(|(i, s)| match s.reg.as_ref()?.kind {
                    Kind::Sub { topic, order, .. } if topic == q.topic => Some((order, i, s.gen)),
                    _ => None,
                })
                .collect();
            subs.sort_unstable();
            let name = st.topics[q.topic as usize - 1].as_ptr();
            let name_len = st.topics[q.topic as usize - 1].as_bytes().len();
            (q, subs, (name, name_len))
        };
        let bytes = q.payload.bytes();
        let ev = sys::uvp_event {
            size: std::mem::size_of::<sys::uvp_event>() as u32,
            topic: q.topic,
            topic_name: name.0,
            topic_name_len: name.1,
            data: if bytes.is_empty() {
                std::ptr::null()
            } else {
                bytes.as_ptr().cast()
            },
            len: bytes.len(),
        };
        // D3: the set of registrations is fixed when the event is taken
        // (slot and generation: a slot freed and reused meanwhile holds a
        // new registration, maybe of another topic); L3: each is checked
        // again (ended?) right before its call.
        let owner = match q.payload {
            Payload::Owned { publisher, .. } => publisher,
            Payload::Copied(_) => None,
        };
        self.inner.st.borrow_mut().in_flight = owner;
        for (_, index, gen) in subs {
            self.call((index, gen), Some(&ev), (0, 0));
        }
        // L8: every subscriber saw it; a publisher that unloaded meanwhile
        // gets its on_unload now.
        self.inner.release_payload(q.payload);
        let waiting = {
            let mut st = self.inner.st.borrow_mut();
            st.in_flight = None;
            std::mem::take(&mut st.unload_waiting)
        };
        for p in waiting {
            self.run_on_unload(p);
        }
    }

    /// The earliest due time of a live timer of a running plugin.
    fn next_due(&self) -> Option<u64> {
        let st = self.inner.st.borrow();
        st.slots
            .iter()
            .filter_map(|s| {
                let r = s.reg.as_ref()?;
                match r.kind {
                    Kind::Timer { due, .. }
                        if !r.ended && st.plugins[r.plugin].phase == Phase::Running =>
                    {
                        Some(due)
                    }
                    _ => None,
                }
            })
            .min()
    }

    /// A timer round at `now` (src/timer.c, run_round): fires every timer
    /// due by then that was started before the round began, in (due,
    /// start) order (D6); a timer started or re-armed during the round
    /// waits for the next one, so a 0 ms re-arm cannot starve the loop.
    /// A repeating timer is re-armed after its call, `repeat` from now,
    /// with a new start order, as the host re-queues it. False if none.
    fn fire_round(&mut self, now: u64) -> bool {
        let (round, due): (u64, Vec<(u64, u64, usize, u32)>) = {
            let st = self.inner.st.borrow();
            let mut v: Vec<_> = st
                .slots
                .iter()
                .enumerate()
                .filter_map(|(i, s)| {
                    let r = s.reg.as_ref()?;
                    match r.kind {
                        Kind::Timer { due, seq, .. }
                            if due <= now
                                && !r.ended
                                && st.plugins[r.plugin].phase == Phase::Running =>
                        {
                            Some((due, seq, i, s.gen))
                        }
                        _ => None,
                    }
                })
                .collect();
            v.sort_unstable();
            (st.next_seq, v)
        };
        let mut fired = false;
        for (_, seq, index, gen) in due {
            if seq > round {
                continue;
            }
            let live = {
                let st = self.inner.st.borrow();
                let slot = &st.slots[index];
                slot.gen == gen
                    && matches!(slot.reg.as_ref().map(|r| r.kind),
                        Some(Kind::Timer { seq: s, .. }) if s == seq)
            };
            if !live {
                continue; // cancelled by an earlier timer of this round (L3)
            }
            self.call((index, gen), None, (0, 0));
            fired = true;
            let next = self.inner.seq();
            let mut st = self.inner.st.borrow_mut();
            let clock = st.now;
            if st.slots[index].gen != gen {
                continue;
            }
            if let Some(Registration {
                kind:
                    Kind::Timer {
                        repeat,
                        ref mut due,
                        seq: ref mut s,
                        ..
                    },
                ..
            }) = st.slots[index].reg
            {
                if repeat != 0 {
                    *due = clock.saturating_add(repeat);
                    *s = next;
                }
            }
        }
        fired
    }

    /// Moves the virtual clock forward by `d`, firing every timer that
    /// comes due in order (and dispatching what they publish in between).
    pub fn advance(&mut self, d: Duration) {
        self.run_until_idle();
        let target = self.now_ms().saturating_add(ms(d));
        while let Some(due) = self.next_due().filter(|&due| due <= target) {
            {
                let mut st = self.inner.st.borrow_mut();
                st.now = st.now.max(due);
            }
            self.run_until_idle();
        }
        self.inner.st.borrow_mut().now = target;
        self.run_until_idle();
    }

    /// Simulates readiness of `fd`: every live watch on it whose interest
    /// intersects `events` (`UVP_FD_*` bits) is called, then queued work runs.
    pub fn fd_ready(&mut self, fd: RawFd, events: c_int) {
        for (index, mask) in self.watches_on(fd) {
            if mask & events != 0 {
                self.call(index, None, (0, mask & events));
            }
        }
        self.run_until_idle();
    }

    /// Simulates a poller error on `fd` (status is a negative errno).
    pub fn fd_error(&mut self, fd: RawFd, status: c_int) {
        for (index, _) in self.watches_on(fd) {
            self.call(index, None, (status, 0));
        }
        self.run_until_idle();
    }

    fn watches_on(&self, fd: RawFd) -> Vec<((usize, u32), c_int)> {
        let st = self.inner.st.borrow();
        st.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s.reg.as_ref()?.kind {
                Kind::Fd { fd: f, events, .. } if f == fd => Some(((i, s.gen), events)),
                _ => None,
            })
            .collect()
    }

    /// Polls every watched fd with the real `poll(2)` for up to `timeout`
    /// and dispatches the readiness found; returns how many watches fired.
    pub fn poll_io(&mut self, timeout: Duration) -> usize {
        let watches: Vec<((usize, u32), c_int, c_int)> = {
            let st = self.inner.st.borrow();
            st.slots
                .iter()
                .enumerate()
                .filter_map(|(i, s)| {
                    let r = s.reg.as_ref()?;
                    match r.kind {
                        Kind::Fd { fd, events, .. } if !r.ended => Some(((i, s.gen), fd, events)),
                        _ => None,
                    }
                })
                .collect()
        };
        if watches.is_empty() {
            return 0;
        }
        let mut fds: Vec<PollFd> = watches
            .iter()
            .map(|&(_, fd, ev)| PollFd {
                fd,
                events: (if ev & sys::UVP_FD_READABLE as c_int != 0 {
                    POLLIN
                } else {
                    0
                }) | (if ev & sys::UVP_FD_WRITABLE as c_int != 0 {
                    POLLOUT
                } else {
                    0
                }),
                revents: 0,
            })
            .collect();
        let t = c_int::try_from(timeout.as_millis()).unwrap_or(c_int::MAX);
        // SAFETY: fds is a live, correctly sized array of pollfd structs.
        let n = unsafe { poll(fds.as_mut_ptr(), fds.len() as c_ulong, t) };
        if n <= 0 {
            return 0;
        }
        let mut fired = 0;
        for (pfd, &(index, _, want)) in fds.iter().zip(&watches) {
            let mut ev = 0;
            if pfd.revents & (POLLIN | POLLERR | POLLHUP) != 0 {
                ev |= sys::UVP_FD_READABLE as c_int;
            }
            if pfd.revents & (POLLOUT | POLLERR | POLLHUP) != 0 {
                ev |= sys::UVP_FD_WRITABLE as c_int;
            }
            ev &= want;
            if ev != 0 {
                self.call(index, None, (0, ev));
                fired += 1;
            }
        }
        self.run_until_idle();
        fired
    }
}

impl Drop for TestHost {
    fn drop(&mut self) {
        // S2: unload every plugin newest first, then free queued payloads
        // (a plugin's own before its on_unload, L8).
        self.inner.st.borrow_mut().closing = true;
        let n = self.inner.st.borrow().plugins.len();
        // V6: a provider still referenced finishes once its importers
        // unloaded too (they drop their references), so the wait ends.
        let mut held = Vec::new();
        for i in (0..n).rev() {
            let phase = self.inner.st.borrow().plugins[i].phase;
            match phase {
                Phase::Running | Phase::Quarantined => {
                    if self.begin_unload(i).is_ok() {
                        self.finish_sync(i);
                        held.push(i);
                    }
                }
                Phase::Draining => {
                    self.finish_sync(i);
                    held.push(i);
                }
                Phase::Finishing => self.run_on_unload(i),
                Phase::Init | Phase::Stopping | Phase::Gone => {}
            }
            held.retain(|&p| {
                if self.inner.service_refs(p) > 0 {
                    return true;
                }
                self.finish_unload(p);
                false
            });
        }
        for p in held {
            self.finish_unload(p);
        }
        // Remotes outlive the host (R5): close every one that is left
        // (plugins whose init failed included) and destroy what is queued.
        for i in 0..n {
            self.inner.close_remote(i);
        }
        self.inner.drop_posts(None);
        loop {
            let q = self.inner.st.borrow_mut().queue.pop_front();
            let Some(q) = q else { break };
            // L8: the event is dropped at close.
            self.inner.release_payload(q.payload);
        }
    }
}

/// Each test pins one behaviour where the fake once differed from the C
/// host (src/*.c); the rule id is named in its comment.
#[cfg(test)]
mod agrees_with_the_host {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use std::sync::mpsc;
    use std::time::Duration;

    use super::TestHost;
    use crate::prelude::*;
    use crate::sys;

    thread_local! {
        static TRACE: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    }

    fn rec(s: impl Into<String>) {
        TRACE.with(|t| t.borrow_mut().push(s.into()));
    }

    fn take() -> Vec<String> {
        TRACE.with(|t| std::mem::take(&mut *t.borrow_mut()))
    }

    /// Records its name when dropped (a closure's or the state's end).
    struct Note(&'static str);
    impl Drop for Note {
        fn drop(&mut self) {
            rec(format!("drop {}", self.0));
        }
    }

    fn st<T>(r: Result<T>) -> String {
        match r {
            Ok(_) => "ok".into(),
            Err(e) => format!("{e:?}"),
        }
    }

    // D3, L3: A cancels B (later in the round) and subscribes C to another
    // topic and D to the same topic, reusing B's slot: neither C nor D gets
    // the event in flight (src/dispatch.c walks the registrations of the
    // round, skipping the cancelled ones).
    #[test]
    fn cancel_and_resubscribe_during_dispatch() {
        struct P {
            b: Option<Subscription>,
            keep: Vec<Subscription>,
        }
        impl Plugin for P {
            fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
                let (t, u) = (ctx.topic("t")?, ctx.topic("u")?);
                let a = ctx.subscribe(&t, move |me: &mut P, ctx, ev: &Event| {
                    rec(format!("A {}", ev.topic_name()));
                    if let Some(b) = me.b.take() {
                        rec(format!("cancel B {}", st(b.cancel())));
                        me.keep.push(ctx.subscribe(&u, |_: &mut P, _, ev: &Event| {
                            rec(format!("C {}", ev.topic_name()));
                            Ok(())
                        })?);
                        me.keep.push(ctx.subscribe(&t, |_: &mut P, _, ev: &Event| {
                            rec(format!("D {}", ev.topic_name()));
                            Ok(())
                        })?);
                    }
                    Ok(())
                })?;
                let b = ctx.subscribe(&t, |_: &mut P, _, ev: &Event| {
                    rec(format!("B {}", ev.topic_name()));
                    Ok(())
                })?;
                Ok(P {
                    b: Some(b),
                    keep: vec![a],
                })
            }
        }
        take();
        let mut h = TestHost::new();
        h.load::<P>("").unwrap();
        h.publish("t", b"1").unwrap();
        h.run_until_idle();
        assert_eq!(take(), ["A t", "cancel B ok"]);
        h.publish("t", b"2").unwrap();
        h.publish("u", b"3").unwrap();
        h.run_until_idle();
        assert_eq!(take(), ["A t", "D t", "C u"]);
    }

    struct Quarantined;
    impl Drop for Quarantined {
        fn drop(&mut self) {
            rec("state dropped");
        }
    }
    impl Plugin for Quarantined {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            let t = ctx.topic("t")?;
            let n = Note("handler");
            ctx.subscribe(&t, move |_: &mut Self, _, _: &Event| {
                let _n = &n;
                panic!("boom")
            })?
            .detach();
            Ok(Quarantined)
        }
        fn stop(&mut self, _: &mut Ctx<Self>) {
            rec("stop");
        }
    }

    // F1: a quarantined plugin gets no on_stop (src/plugin.c,
    // uvp__plugin_begin_unload: its state may be torn); its registrations
    // end at once (destroy), on_unload follows on the next loop turn.
    #[test]
    fn quarantine_never_calls_stop() {
        take();
        let mut h = TestHost::new();
        let p = h.load::<Quarantined>("").unwrap();
        h.publish("t", b"x").unwrap();
        h.run_until_idle();
        assert_eq!(take(), ["drop handler", "state dropped"]);
        assert!(!h.is_loaded(p.id()));
        assert_eq!(h.stats(p.id()).panics, 1);
    }

    struct WaitsForLoop;
    impl Plugin for WaitsForLoop {
        fn init(_: &mut Ctx<Self>, _: &str) -> Result<Self> {
            Ok(WaitsForLoop)
        }
        fn start(&mut self, ctx: &mut Ctx<Self>) -> Result<()> {
            let remote = ctx.remote()?;
            ctx.spawn_work(
                move || {
                    let (tx, rx) = mpsc::channel::<()>();
                    let posted = remote.post(
                        move |_: &mut WaitsForLoop, _| {
                            rec("post ran");
                            let _ = tx.send(());
                            Ok(())
                        },
                        PostMode::Block,
                    );
                    posted.is_ok() && rx.recv_timeout(Duration::from_secs(5)).is_ok()
                },
                |_: &mut WaitsForLoop, _, r: Result<bool>| {
                    rec(format!("done {r:?}"));
                    Ok(())
                },
            )?;
            Ok(())
        }
    }

    // W1, T5: a work function may wait for the loop to run what it posted:
    // the pool runs beside the loop (src/work.c, uv_queue_work).
    #[test]
    fn work_waits_for_its_post_on_the_loop() {
        take();
        let mut h = TestHost::new();
        h.load::<WaitsForLoop>("").unwrap();
        h.run_until_idle();
        assert_eq!(take(), ["post ran", "done Ok(true)"]);
    }

    struct SelfUnload;
    impl Drop for SelfUnload {
        fn drop(&mut self) {
            rec("state dropped");
        }
    }
    impl Plugin for SelfUnload {
        fn init(ctx: &mut Ctx<Self>, cfg: &str) -> Result<Self> {
            if cfg == "init" {
                rec(format!("unload_self {}", st(ctx.unload_self())));
                rec(format!("again {}", st(ctx.unload_self())));
            }
            Ok(SelfUnload)
        }
        fn start(&mut self, ctx: &mut Ctx<Self>) -> Result<()> {
            rec("start");
            if ctx.unload_self().is_ok() {
                rec("unload_self in start ok");
            }
            Ok(())
        }
        fn stop(&mut self, _: &mut Ctx<Self>) {
            rec("stop");
        }
    }

    // U6, S3: unload_self during on_init is accepted (src/plugin.c,
    // uvp__plugin_unload at depth > 0 while LOADING); on_start still runs,
    // the load succeeds, and the unload (with on_stop) starts when
    // loading returns.
    #[test]
    fn unload_self_during_init() {
        take();
        let mut h = TestHost::new();
        let p = h.load::<SelfUnload>("init").unwrap();
        assert_eq!(
            take(),
            [
                "unload_self ok",
                "again Closed",
                "start",
                "stop",
                "state dropped"
            ]
        );
        assert!(!h.is_loaded(p.id()));
        let p = h.load::<SelfUnload>("").unwrap();
        assert_eq!(
            take(),
            ["start", "unload_self in start ok", "stop", "state dropped"]
        );
        assert!(!h.is_loaded(p.id()));
    }

    // L2, L10: a callback may cancel its own registration and gets 0,
    // whatever its kind: a one-shot timer's id stays live until its only
    // call returns (src/timer.c, fire: uvp__reg_expire after the call).
    #[test]
    fn self_cancel_is_ok_for_every_kind() {
        struct P;
        impl Plugin for P {
            fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
                let id = Rc::new(Cell::new(0u64));
                let i2 = id.clone();
                let t = ctx.after(Duration::from_millis(1), move |_: &mut P, ctx| {
                    rec(format!("once {}", st(ctx.cancel(i2.get()))));
                    Ok(())
                })?;
                id.set(t.id());
                t.detach();
                let id = Rc::new(Cell::new(0u64));
                let i2 = id.clone();
                let t = ctx.every(Duration::from_millis(2), move |_: &mut P, ctx| {
                    rec(format!("every {}", st(ctx.cancel(i2.get()))));
                    Ok(())
                })?;
                id.set(t.id());
                t.detach();
                let topic = ctx.topic("t")?;
                let id = Rc::new(Cell::new(0u64));
                let i2 = id.clone();
                let s = ctx.subscribe(&topic, move |_: &mut P, ctx, _: &Event| {
                    rec(format!("sub {}", st(ctx.cancel(i2.get()))));
                    Ok(())
                })?;
                id.set(s.id());
                s.detach();
                let id = Rc::new(Cell::new(0u64));
                let i2 = id.clone();
                let w = ctx.spawn_work(
                    || 1u8,
                    move |_: &mut P, ctx, _: Result<u8>| {
                        rec(format!("done {}", st(ctx.cancel(i2.get()))));
                        Ok(())
                    },
                )?;
                id.set(w.id());
                Ok(P)
            }
        }
        take();
        let mut h = TestHost::new();
        h.load::<P>("").unwrap();
        h.publish("t", b"x").unwrap();
        h.publish("t", b"y").unwrap();
        h.run_until_idle();
        h.advance(Duration::from_millis(10));
        // (the order depends on how long the work takes: time passes while
        // the loop waits for it, as on the host)
        let mut got = take();
        got.sort();
        assert_eq!(got, ["done ok", "every ok", "once ok", "sub ok"]);
        assert_eq!(h.live_registrations(), 0);
    }

    extern "C" fn note_free(
        _: *mut std::os::raw::c_void,
        len: usize,
        _: *mut std::os::raw::c_void,
    ) {
        rec(format!("free {len}"));
    }

    static HI: [u8; 2] = *b"hi";

    struct Owner;
    impl Drop for Owner {
        fn drop(&mut self) {
            rec("state dropped");
        }
    }
    impl Plugin for Owner {
        fn init(_: &mut Ctx<Self>, _: &str) -> Result<Self> {
            Ok(Owner)
        }
    }

    struct Listener;
    impl Plugin for Listener {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            let x = ctx.topic("x")?;
            ctx.subscribe(&x, |_: &mut Self, _, ev: &Event| {
                rec(format!("got {}", String::from_utf8_lossy(ev.data())));
                Ok(())
            })?
            .detach();
            Ok(Listener)
        }
    }

    // L8: an owned payload still queued when its publisher unloads is
    // freed before the publisher's on_unload and delivered from a copy
    // (src/dispatch.c, uvp__queue_release_owned).
    #[test]
    fn owned_payload_freed_before_publisher_unload() {
        take();
        let mut h = TestHost::new();
        h.load::<Listener>("").unwrap();
        let o = h.load::<Owner>("").unwrap();
        h.with(&o, |_, ctx| {
            let x = ctx.topic("x").unwrap();
            let raw = ctx.raw();
            // SAFETY: the instance is loaded; HI is static and never written.
            let rc = unsafe {
                (raw.api().publish_owned.unwrap())(
                    raw.ctx,
                    x.id(),
                    HI.as_ptr() as *mut _,
                    HI.len(),
                    Some(note_free),
                    std::ptr::null_mut(),
                )
            };
            rec(format!("publish_owned {rc}"));
            rec(format!("unload_self {}", st(ctx.unload_self())));
        });
        h.run_until_idle();
        assert_eq!(
            take(),
            [
                "publish_owned 0",
                "unload_self ok",
                "free 2",
                "state dropped",
                "got hi"
            ]
        );
        assert_eq!(h.payload_frees(), 1);
    }

    // U1, S1: unload ends registrations in slot order (each destroy at
    // once), cancelled work ends through its done after them (src/work.c:
    // done on a later turn), then on_unload.
    #[test]
    fn unload_destroys_before_cancelled_work_is_done() {
        struct P;
        impl Drop for P {
            fn drop(&mut self) {
                rec("state dropped");
            }
        }
        impl Plugin for P {
            fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
                let go = ctx.topic("go")?;
                let n = Note("go handler");
                ctx.subscribe(&go, move |_: &mut P, ctx, _: &Event| {
                    let _n = &n;
                    ctx.spawn_work(
                        || 1u8,
                        |_: &mut P, _, r: Result<u8>| {
                            rec(format!("done {r:?}"));
                            Ok(())
                        },
                    )?;
                    ctx.unload_self()
                })?
                .detach();
                let n = Note("other sub");
                ctx.subscribe(&go, move |_: &mut P, _, _: &Event| {
                    let _n = &n;
                    Ok(())
                })?
                .detach();
                Ok(P)
            }
            fn stop(&mut self, _: &mut Ctx<Self>) {
                rec("stop");
            }
        }
        take();
        let mut h = TestHost::new();
        h.load::<P>("").unwrap();
        h.publish("go", b"").unwrap();
        h.run_until_idle();
        assert_eq!(
            take(),
            [
                "stop",
                "drop go handler",
                "drop other sub",
                "done Err(Canceled)",
                "state dropped"
            ]
        );
    }

    // F7: `fault` logs the message under the plugin's name and counts the
    // status; a reported panic quarantines once the callback returned (no
    // stop); a non-panic status keeps the plugin running.
    #[test]
    fn fault_counts_and_quarantines() {
        struct P;
        impl Plugin for P {
            fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
                let t = ctx.topic("t")?;
                ctx.subscribe(&t, |_: &mut P, ctx, ev: &Event| {
                    let raw = ctx.raw();
                    let status: i32 = std::str::from_utf8(ev.data()).unwrap().parse().unwrap();
                    let msg = "caught it";
                    // SAFETY: the instance is loaded; msg is (ptr, len).
                    let rc = unsafe {
                        (raw.api().fault.unwrap())(raw.ctx, status, msg.as_ptr().cast(), msg.len())
                    };
                    rec(format!("fault {status} -> {rc}"));
                    Ok(())
                })?
                .detach();
                Ok(P)
            }
            fn stop(&mut self, _: &mut Ctx<Self>) {
                rec("stop");
            }
        }
        take();
        let mut h = TestHost::new();
        let p = h.load_as::<P>("faulty-1", "").unwrap();
        h.publish("t", b"1").unwrap();
        h.publish("t", sys::UVP_EINVAL.to_string().as_bytes())
            .unwrap();
        h.run_until_idle();
        assert!(h.is_loaded(p.id()));
        let s = h.stats(p.id());
        assert_eq!((s.errors, s.panics, s.last_error), (1, 0, sys::UVP_EINVAL));
        assert!(h
            .logs()
            .iter()
            .any(|l| l.plugin == "faulty-1" && l.level == Level::Error && l.msg == "caught it"));
        h.publish("t", sys::UVP_EPANIC.to_string().as_bytes())
            .unwrap();
        h.publish("t", b"-1").unwrap();
        h.run_until_idle();
        assert!(!h.is_loaded(p.id()));
        let s = h.stats(p.id());
        assert_eq!((s.errors, s.panics), (2, 1));
        assert_eq!(
            take(),
            [
                format!("fault 1 -> {}", sys::UVP_EINVAL),
                format!("fault {} -> 0", sys::UVP_EINVAL),
                format!("fault {} -> 0", sys::UVP_EPANIC),
            ]
        );
    }

    // F7 (ABI 1.2): instance_name gives the name the instance was loaded as.
    #[test]
    fn instance_name_is_the_load_name() {
        struct P;
        impl Plugin for P {
            fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
                let raw = ctx.raw();
                let (mut name, mut len) = (std::ptr::null(), 0usize);
                // SAFETY: the instance is loaded; out pointers are live.
                let rc =
                    unsafe { (raw.api().instance_name.unwrap())(raw.ctx, &mut name, &mut len) };
                // SAFETY: on success the name is NUL-terminated and valid.
                let s = unsafe { std::ffi::CStr::from_ptr(name) }.to_str().unwrap();
                rec(format!("{rc} {s} {len}"));
                Ok(P)
            }
        }
        take();
        let mut h = TestHost::new();
        h.load_as::<P>("inst-7", "").unwrap();
        assert_eq!(take(), ["0 inst-7 6"]);
    }

    // W4: at most work_concurrency (default 2) work functions run at once;
    // the rest wait in FIFO order.
    #[test]
    fn work_is_bounded_by_concurrency() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        struct P;
        impl Plugin for P {
            fn init(_: &mut Ctx<Self>, _: &str) -> Result<Self> {
                Ok(P)
            }
        }
        take();
        let mut h = TestHost::new();
        let p = h.load::<P>("").unwrap();
        let running = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        h.with(&p, |_, ctx| {
            for i in 0..5 {
                let (r, m) = (running.clone(), max.clone());
                ctx.spawn_work(
                    move || {
                        let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                        m.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(5));
                        r.fetch_sub(1, Ordering::SeqCst);
                    },
                    move |_: &mut P, _, _: Result<()>| {
                        rec(format!("done {i}"));
                        Ok(())
                    },
                )
                .unwrap();
            }
        });
        assert_eq!(take(), ["done 0", "done 1", "done 2", "done 3", "done 4"]);
        assert!(max.load(Ordering::SeqCst) <= 2);
    }

    // D6: timers due together fire in one round, in start order, before
    // the events they publish (src/timer.c, run_round, then the drain); a
    // repeating timer is re-queued after its call with a new start order.
    #[test]
    fn timers_fire_in_rounds() {
        struct P;
        impl Plugin for P {
            fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
                let e = ctx.topic("e")?;
                ctx.subscribe(&e, |_: &mut P, _, ev: &Event| {
                    rec(format!("event {}", String::from_utf8_lossy(ev.data())));
                    Ok(())
                })?
                .detach();
                for name in ["T1", "T2"] {
                    ctx.after(Duration::from_millis(3), move |_: &mut P, ctx| {
                        rec(format!("timer {name}"));
                        ctx.publish(&e, name.as_bytes())
                    })?
                    .detach();
                }
                let n = Rc::new(Cell::new(0));
                ctx.every(Duration::from_millis(5), move |_: &mut P, _| {
                    n.set(n.get() + 1);
                    rec(format!("R {}", n.get()));
                    Ok(())
                })?
                .detach();
                ctx.after(Duration::from_millis(10), |_: &mut P, _| {
                    rec("O");
                    Ok(())
                })?
                .detach();
                Ok(P)
            }
        }
        take();
        let mut h = TestHost::new();
        h.load::<P>("").unwrap();
        h.advance(Duration::from_millis(10));
        assert_eq!(
            take(),
            ["timer T1", "timer T2", "event T1", "event T2", "R 1", "O", "R 2"]
        );
    }

    // D5: at most `batch` events per loop turn, so a due timer fires
    // between two batches (src/dispatch.c, drain).
    #[test]
    fn a_timer_fires_between_event_batches() {
        struct P(u32);
        impl Plugin for P {
            fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
                let e = ctx.topic("e")?;
                ctx.subscribe(&e, |me: &mut P, ctx, _: &Event| {
                    me.0 += 1;
                    if me.0 == 1 {
                        ctx.after(Duration::ZERO, |me: &mut P, _| {
                            rec(format!("timer after {}", me.0));
                            Ok(())
                        })?
                        .detach();
                    }
                    Ok(())
                })?
                .detach();
                for _ in 0..10 {
                    ctx.publish(&e, b"")?;
                }
                Ok(P(0))
            }
        }
        take();
        let mut h = TestHost::new();
        h.set_batch(4);
        h.load::<P>("").unwrap();
        h.run_until_idle();
        assert_eq!(take(), ["timer after 4"]);
    }

    // W6: an unload waits for running work at most the drain time, then
    // abandons it: its done and destroy never run; the unload goes on.
    #[test]
    fn unload_abandons_work_after_the_drain_time() {
        struct P;
        impl Drop for P {
            fn drop(&mut self) {
                rec("state dropped");
            }
        }
        impl Plugin for P {
            fn init(_: &mut Ctx<Self>, _: &str) -> Result<Self> {
                Ok(P)
            }
        }
        take();
        let mut h = TestHost::new();
        h.set_work_drain(Duration::from_millis(20));
        let p = h.load::<P>("").unwrap();
        let (tx, rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel::<()>();
        // Queued outside a handler: `with` would run until the work ended.
        let mut core = None;
        h.with(&p, |_, ctx| core = Some(ctx.core.clone()));
        let ctx = crate::Ctx::<P>::new(core.unwrap());
        let n = Note("done closure");
        ctx.spawn_work(
            move || {
                started_tx.send(()).unwrap();
                let _ = rx.recv_timeout(Duration::from_secs(10));
            },
            move |_: &mut P, _, _: Result<()>| {
                let _n = &n;
                rec("done");
                Ok(())
            },
        )
        .unwrap();
        drop(ctx);
        assert_eq!(h.start_work(), 1);
        started_rx.recv().unwrap();
        h.unload(p.id()).unwrap();
        assert_eq!(take(), ["state dropped"]);
        assert_eq!(h.work_abandoned(), 1);
        assert!(h.logged("1 work item(s) still running after 20 ms: abandoned"));
        assert_eq!(h.live_registrations(), 0);
        tx.send(()).unwrap(); // the work function returns; nothing runs
        h.run_until_idle();
        assert_eq!(take(), Vec::<String>::new());
    }

    // R1: a remote publish is delivered as the post queue runs, between
    // the posts around it (src/remote.c, run_cell), after the events
    // already queued.
    #[test]
    fn remote_publish_is_delivered_between_posts() {
        struct P;
        impl Plugin for P {
            fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
                let r = ctx.topic("r")?;
                ctx.subscribe(&r, |_: &mut P, _, ev: &Event| {
                    rec(String::from_utf8_lossy(ev.data()).into_owned());
                    Ok(())
                })?
                .detach();
                Ok(P)
            }
            fn start(&mut self, ctx: &mut Ctx<Self>) -> Result<()> {
                let r = ctx.topic("r")?;
                ctx.publish(&r, b"local")?;
                let remote = ctx.remote()?;
                std::thread::spawn(move || {
                    remote.post(
                        |_: &mut P, _| {
                            rec("p1");
                            Ok(())
                        },
                        PostMode::NonBlock,
                    )?;
                    remote.publish(&r, b"remote", PostMode::NonBlock)?;
                    remote.post(
                        |_: &mut P, _| {
                            rec("p2");
                            Ok(())
                        },
                        PostMode::NonBlock,
                    )
                })
                .join()
                .unwrap()
            }
        }
        take();
        let mut h = TestHost::new();
        h.load::<P>("").unwrap();
        h.run_until_idle();
        assert_eq!(take(), ["local", "p1", "remote", "p2"]);
    }

    // The loop waits for running work in real time, which the virtual
    // clock follows: a timer due meanwhile fires while the work runs.
    #[test]
    fn a_timer_fires_while_work_runs() {
        struct P;
        impl Plugin for P {
            fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
                let (tx, rx) = mpsc::channel::<()>();
                ctx.spawn_work(
                    move || rx.recv_timeout(Duration::from_secs(10)).is_ok(),
                    |_: &mut P, _, r: Result<bool>| {
                        rec(format!("done {r:?}"));
                        Ok(())
                    },
                )?;
                ctx.after(Duration::from_millis(2), move |_: &mut P, _| {
                    rec("timer");
                    tx.send(()).map_err(|_| Error::Invalid)
                })?
                .detach();
                Ok(P)
            }
        }
        take();
        let mut h = TestHost::new();
        h.load::<P>("").unwrap();
        h.run_until_idle();
        assert_eq!(take(), ["timer", "done Ok(true)"]);
        assert!(h.now_ms() >= 2);
    }

    // R6: a turn runs posts until the queue is empty (at most `batch`),
    // those posted meanwhile included, as the host's drain; run_once runs
    // one turn, and with nothing ready waits for the next timer (the
    // clock jumps) and fires it, as uv_run(UV_RUN_ONCE) does.
    #[test]
    fn run_once_is_one_turn() {
        struct P;
        impl Plugin for P {
            fn init(_: &mut Ctx<Self>, _: &str) -> Result<Self> {
                Ok(P)
            }
            fn start(&mut self, ctx: &mut Ctx<Self>) -> Result<()> {
                let remote = ctx.remote()?;
                remote.post(
                    |_: &mut P, ctx| {
                        rec("post 1");
                        ctx.remote()?.post(
                            |_: &mut P, _| {
                                rec("post 2");
                                Ok(())
                            },
                            PostMode::NonBlock,
                        )?;
                        let e = ctx.topic("e")?;
                        ctx.publish(&e, b"")
                    },
                    PostMode::NonBlock,
                )?;
                let e = ctx.topic("e")?;
                ctx.subscribe(&e, |_: &mut P, _, _: &Event| {
                    rec("event");
                    Ok(())
                })?
                .detach();
                ctx.after(Duration::from_millis(7), |_: &mut P, _| {
                    rec("timer");
                    Ok(())
                })?
                .detach();
                Ok(())
            }
        }
        take();
        let mut h = TestHost::new();
        h.load::<P>("").unwrap();
        assert!(h.run_once());
        assert_eq!(take(), ["post 1", "post 2"]);
        assert!(h.run_once());
        assert_eq!(take(), ["event"]);
        // nothing ready: waits for the timer (the clock jumps) and fires it
        assert!(h.run_once());
        assert_eq!((take(), h.now_ms()), (vec!["timer".to_string()], 7));
        assert!(!h.run_once());
    }

    // D6 on libuv: a timer that came due later fires in the timers phase,
    // last in its turn; what it publishes is delivered on the next turn,
    // after that turn's unloads (src/timer.c: uv_timer, not the idle path).
    #[test]
    fn a_timer_due_later_fires_at_the_end_of_a_turn() {
        struct P;
        impl Plugin for P {
            fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
                let e = ctx.topic("e")?;
                ctx.subscribe(&e, |_: &mut P, _, _: &Event| {
                    rec("event");
                    Ok(())
                })?
                .detach();
                ctx.after(Duration::from_millis(5), move |_: &mut P, ctx| {
                    rec("timer");
                    ctx.publish(&e, b"")
                })?
                .detach();
                Ok(P)
            }
        }
        take();
        let mut h = TestHost::new();
        h.load::<P>("").unwrap();
        assert!(h.run_once());
        assert_eq!(take(), ["timer"]);
        assert!(h.run_once());
        assert_eq!(take(), ["event"]);
        assert!(!h.run_once());
    }

    // U2, U3, R4: an unload asked for in a handler starts as the handler
    // returns (stop, destroys) but drains on later turns: the rest of the
    // fan-out still reaches the other plugin first, then the queued post
    // is destroyed unrun and the state dropped (src/plugin.c, DRAINING).
    #[test]
    fn unload_self_drains_while_others_run() {
        struct Quitter;
        impl Drop for Quitter {
            fn drop(&mut self) {
                rec("quitter dropped");
            }
        }
        impl Plugin for Quitter {
            fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
                let t = ctx.topic("t")?;
                ctx.subscribe(&t, |_: &mut Quitter, ctx, _: &Event| {
                    let n = Note("post");
                    ctx.remote()?.post(
                        move |_: &mut Quitter, _| {
                            let _n = &n;
                            Ok(())
                        },
                        PostMode::NonBlock,
                    )?;
                    ctx.unload_self()
                })?
                .detach();
                Ok(Quitter)
            }
            fn stop(&mut self, _: &mut Ctx<Self>) {
                rec("quitter stop");
            }
        }
        struct Other;
        impl Plugin for Other {
            fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
                let t = ctx.topic("t")?;
                ctx.subscribe(&t, |_: &mut Other, _, _: &Event| {
                    rec("other got t");
                    Ok(())
                })?
                .detach();
                Ok(Other)
            }
        }
        take();
        let mut h = TestHost::new();
        let q = h.load::<Quitter>("").unwrap();
        h.load::<Other>("").unwrap();
        h.publish("t", b"").unwrap();
        h.run_until_idle();
        assert_eq!(
            take(),
            [
                "quitter stop",
                "other got t",
                "drop post",
                "quitter dropped"
            ]
        );
        assert!(!h.is_loaded(q.id()));
        // its name is free again as soon as it stopped (A6)
        h.load_as::<Other>("plugin-0", "").unwrap();
    }

    // W4: the stats count work as the host's do: pending, running on the
    // pool (at most the concurrency), queued behind the bound.
    #[test]
    fn stats_count_work_and_registrations() {
        struct P;
        impl Plugin for P {
            fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
                let t = ctx.topic("t")?;
                ctx.subscribe(&t, |_: &mut P, _, _: &Event| Ok(()))?
                    .detach();
                Ok(P)
            }
        }
        let mut h = TestHost::new();
        let p = h.load::<P>("").unwrap();
        let mut core = None;
        h.with(&p, |_, ctx| core = Some(ctx.core.clone()));
        let ctx = crate::Ctx::<P>::new(core.unwrap());
        let (tx, rx) = mpsc::channel::<()>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for _ in 0..3 {
            let rx = rx.clone();
            ctx.spawn_work(
                move || {
                    let _ = rx.lock().unwrap().recv_timeout(Duration::from_secs(10));
                },
                |_: &mut P, _, _: Result<()>| Ok(()),
            )
            .unwrap();
        }
        drop(ctx);
        assert_eq!(h.start_work(), 2);
        let s = h.stats(p.id());
        assert_eq!(
            (
                s.registrations,
                s.work_pending,
                s.work_running,
                s.work_queued
            ),
            (4, 3, 2, 1)
        );
        for _ in 0..3 {
            tx.send(()).unwrap();
        }
        h.run_until_idle();
        let s = h.stats(p.id());
        assert_eq!(
            (
                s.registrations,
                s.work_pending,
                s.work_running,
                s.work_queued
            ),
            (1, 0, 0, 0)
        );
    }

    // W6: an unload that drains on later turns (unload_self) abandons its
    // running work after the drain time too: on_unload runs, the work's
    // done and destroy never do.
    #[test]
    fn draining_unload_abandons_work_after_the_drain_time() {
        struct P;
        impl Drop for P {
            fn drop(&mut self) {
                rec("state dropped");
            }
        }
        impl Plugin for P {
            fn init(_: &mut Ctx<Self>, _: &str) -> Result<Self> {
                Ok(P)
            }
            fn start(&mut self, ctx: &mut Ctx<Self>) -> Result<()> {
                let (tx, rx) = mpsc::channel::<()>();
                ctx.spawn_work(
                    move || {
                        let _ = rx.recv_timeout(Duration::from_millis(300));
                    },
                    |_: &mut P, _, _: Result<()>| {
                        rec("done");
                        Ok(())
                    },
                )?;
                // the work only returns after its 300 ms wait
                std::mem::forget(tx);
                ctx.after(Duration::from_millis(1), |_: &mut P, ctx| ctx.unload_self())?
                    .detach();
                Ok(())
            }
        }
        take();
        let mut h = TestHost::new();
        h.set_work_drain(Duration::from_millis(10));
        let p = h.load::<P>("").unwrap();
        h.run_until_idle();
        assert_eq!(take(), ["state dropped"]);
        assert_eq!(h.work_abandoned(), 1);
        assert!(!h.is_loaded(p.id()));
    }

    // D7: a watch makes its fd non-blocking and clears that again when it
    // ends; a second watch of the fd is Busy; a regular file or a closed
    // fd is Invalid (src/fdwatch.c, uv_poll_init).
    #[test]
    fn fd_watch_rules() {
        use std::os::unix::io::AsRawFd;
        struct P(Option<std::os::unix::net::UnixStream>);
        impl Plugin for P {
            fn init(_: &mut Ctx<Self>, _: &str) -> Result<Self> {
                Ok(P(None))
            }
        }
        let nonblocking = |fd| super::fd_flags(fd).unwrap() & super::O_NONBLOCK != 0;
        let mut h = TestHost::new();
        let p = h.load::<P>("").unwrap();
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let fd = a.as_raw_fd();
        let file = std::fs::File::open("/proc/self/exe").unwrap();
        let got = h
            .with(&p, |me, ctx| {
                me.0 = Some(a);
                // SAFETY: the fds stay open for these calls; the watch of
                // `fd` ends below, before the state drops the socket.
                unsafe {
                    let w = ctx.watch_raw_fd(fd, Interest::READABLE, |_: &mut P, _, _| Ok(()));
                    let again = ctx.watch_raw_fd(fd, Interest::READABLE, |_: &mut P, _, _| Ok(()));
                    let reg = ctx.watch_raw_fd(
                        file.as_raw_fd(),
                        Interest::READABLE,
                        |_: &mut P, _, _| Ok(()),
                    );
                    let closed =
                        ctx.watch_raw_fd(1 << 20, Interest::READABLE, |_: &mut P, _, _| Ok(()));
                    (w, again.err(), reg.err(), closed.err())
                }
            })
            .unwrap();
        assert_eq!(
            (got.1, got.2, got.3),
            (
                Some(Error::Busy),
                Some(Error::Invalid),
                Some(Error::Invalid)
            )
        );
        assert!(nonblocking(fd));
        drop(got.0);
        assert!(!nonblocking(fd));
    }

    // L4: a slot whose generation reaches the last one is retired for
    // good: its ids never come back (src/registry.c, GEN_LAST).
    #[test]
    fn a_slot_at_the_last_generation_is_never_reused() {
        struct P;
        impl Plugin for P {
            fn init(_: &mut Ctx<Self>, _: &str) -> Result<Self> {
                Ok(P)
            }
        }
        let mut h = TestHost::new();
        let p = h.load::<P>("").unwrap();
        let t = h.with(&p, |_, ctx| ctx.topic("t").unwrap()).unwrap();
        let sub = |h: &mut TestHost| {
            h.with(&p, |_, ctx| {
                ctx.subscribe(&t, |_: &mut P, _, _: &Event| Ok(())).unwrap()
            })
            .unwrap()
        };
        let first = sub(&mut h);
        let slot = first.id() & 0xffff_ffff;
        drop(first);
        h.inner.st.borrow_mut().slots[slot as usize - 1].gen = u32::MAX - 1;
        let last = sub(&mut h);
        assert_eq!(last.id() >> 32, u64::from(u32::MAX - 1));
        drop(last);
        let next = sub(&mut h);
        assert_ne!(
            next.id() & 0xffff_ffff,
            slot,
            "the retired slot is not reused"
        );
    }
}
