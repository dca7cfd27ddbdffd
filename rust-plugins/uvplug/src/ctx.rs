//! The loop-thread context a plugin receives, and the per-instance core
//! every handler and guard shares.
//!
//! ```text
//!   on_init ──► Rc<Core> ◄── Ctx<P> (per call)     Box<P> (state)
//!                  ▲   ▲                               ▲
//!   Box<Reg<F>> ───┘   └─── guards (Subscription ...)  │ Core.state: *mut P,
//!   (user_data of each registration)                   │ handed out as &mut P
//!                                                      │ only while `busy`
//! ```

use std::cell::{Cell, RefCell, UnsafeCell};
use std::fmt;
use std::marker::PhantomData;
use std::os::raw::{c_int, c_void};
use std::os::unix::io::RawFd;
use std::rc::Rc;
use std::time::Duration;

use crate::event::{Event, Interest, Readiness, Topic};
use crate::guard::{FdWatch, Subscription, Timer};
use crate::panic as tramp;
use crate::{sys, Error, Plugin, Result};

/// Log levels of [`Ctx::log`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `UVP_LOG_ERROR`
    Error,
    /// `UVP_LOG_WARN`
    Warn,
    /// `UVP_LOG_INFO`
    Info,
    /// `UVP_LOG_DEBUG`
    Debug,
}

impl Level {
    pub(crate) fn raw(self) -> c_int {
        (match self {
            Level::Error => sys::UVP_LOG_ERROR,
            Level::Warn => sys::UVP_LOG_WARN,
            Level::Info => sys::UVP_LOG_INFO,
            Level::Debug => sys::UVP_LOG_DEBUG,
        }) as c_int
    }

    pub(crate) fn from_raw(level: c_int) -> Level {
        match level {
            0 => Level::Error,
            1 => Level::Warn,
            2 => Level::Info,
            _ => Level::Debug,
        }
    }
}

enum Deferred {
    Cancel(sys::uvp_id),
    Log(Level, String),
}

/// Bytes of `uvp_api` up to the end of `field` (a function pointer): what
/// `UVP_HAS_FIELD(api, uvp_api, field)` compares `size` with.
macro_rules! api_field_end {
    ($field:ident) => {{
        let api = std::mem::MaybeUninit::<sys::uvp_api>::uninit();
        let base = api.as_ptr();
        // SAFETY: addr_of! computes the field address inside the
        // (uninitialised) local without reading or referencing it.
        let field = unsafe { std::ptr::addr_of!((*base).$field) };
        field as usize - base as usize + std::mem::size_of::<Option<unsafe extern "C" fn()>>()
    }};
}
pub(crate) use api_field_end;

/// The entries every host has (the first ABI 1.0 block, through `now_ms`).
fn api_v1_0_len() -> usize {
    api_field_end!(now_ms)
}

/// Per-instance state shared (through `Rc`, loop thread only) by the
/// instance, every registration's box and every guard.
pub(crate) struct Core {
    pub(crate) raw: *mut sys::uvp_ctx,
    /// The host's table, checked at init; valid while `alive`.
    pub(crate) api_ptr: *const sys::uvp_api,
    /// False once init failed or on_unload began: `raw` may be dangling then
    /// and nothing calls the host any more.
    alive: Cell<bool>,
    /// The plugin's `Box<P>`, type-erased; null until init returned.
    pub(crate) state: Cell<*mut ()>,
    /// A handler currently holds `&mut P` (and `&mut` to its closure).
    pub(crate) busy: Cell<bool>,
    /// Depth of destroy callbacks running: the host forbids calling it from
    /// a destroy, so guards dropped then defer their cancel.
    pub(crate) destroy_depth: Cell<u32>,
    deferred: RefCell<Vec<Deferred>>,
    /// `deferred.len()`, readable without a borrow: every handler checks
    /// it, and it is almost always 0.
    pending: Cell<usize>,
}

impl Core {
    /// Checks the host's table and builds the core, or fails with the
    /// status `on_init` must return.
    ///
    /// # Safety
    ///
    /// `api` is NULL or points to the host's table, valid until on_unload
    /// returns; `raw` is the instance's ctx for the same time.
    pub(crate) unsafe fn new(raw: *mut sys::uvp_ctx, api_ptr: *const sys::uvp_api) -> Result<Core> {
        if raw.is_null() || api_ptr.is_null() {
            return Err(Error::Invalid);
        }
        // SAFETY: non-null, and valid per this function's contract. Only the
        // `size` and version prefix is read before the size check.
        let head = unsafe { &*api_ptr };
        if u32::from(head.abi_major) != sys::UVP_ABI_MAJOR {
            return Err(Error::Abi);
        }
        // Only the ABI 1.0 entries the SDK uses must be present; a table
        // with more (a newer host) is fine (UVP_HAS_FIELD, A5).
        if (head.size as usize) < api_v1_0_len() {
            return Err(Error::Short);
        }
        let complete = head.topic.is_some()
            && head.subscribe.is_some()
            && head.publish.is_some()
            && head.publish_owned.is_some()
            && head.timer_start.is_some()
            && head.fd_watch.is_some()
            && head.cancel.is_some()
            && head.log.is_some()
            && head.now_ms.is_some();
        if !complete {
            return Err(Error::Invalid);
        }
        Ok(Core {
            raw,
            api_ptr,
            alive: Cell::new(true),
            state: Cell::new(std::ptr::null_mut()),
            busy: Cell::new(false),
            destroy_depth: Cell::new(0),
            deferred: RefCell::new(Vec::new()),
            pending: Cell::new(0),
        })
    }

    /// A host function, if the instance is still alive (else `Closed`).
    pub(crate) fn func<T>(&self, pick: impl FnOnce(&sys::uvp_api) -> Option<T>) -> Result<T> {
        if !self.alive.get() {
            return Err(Error::Closed);
        }
        // SAFETY: alive, so the host's table is valid (until on_unload, which
        // clears `alive` first); checked non-null and large enough at init.
        pick(unsafe { &*self.api_ptr }).ok_or(Error::Invalid)
    }

    /// Whether the host's table reaches `end` bytes (a later entry).
    pub(crate) fn api_has(&self, end: usize) -> bool {
        // SAFETY: only called while alive (via func's callers); the table is
        // valid and its `size` field was read at init.
        self.alive.get() && unsafe { (*self.api_ptr).size as usize } >= end
    }

    /// Queues a log line for the next [`Core::flush`] (used inside destroy,
    /// where calling the host is not allowed).
    pub(crate) fn defer_log(&self, level: Level, msg: String) {
        if self.alive.get() {
            self.defer(Deferred::Log(level, msg));
        } else {
            eprintln!("uvplug: {msg}");
        }
    }

    pub(crate) fn alive(&self) -> bool {
        self.alive.get()
    }

    pub(crate) fn kill(&self) {
        self.alive.set(false);
        self.deferred.borrow_mut().clear();
        self.pending.set(0);
    }

    fn may_call(&self) -> bool {
        self.alive.get() && self.destroy_depth.get() == 0
    }

    /// Ends a registration; defers it while a destroy runs.
    pub(crate) fn cancel(&self, id: sys::uvp_id) -> c_int {
        if !self.alive.get() {
            // The host ended every registration before on_unload (S1).
            return sys::UVP_ECLOSED;
        }
        if self.destroy_depth.get() > 0 {
            self.defer(Deferred::Cancel(id));
            return 0;
        }
        let Ok(cancel) = self.func(|a| a.cancel) else {
            return sys::UVP_EINVAL;
        };
        // SAFETY: alive, so `raw` is valid (the host keeps it until on_unload,
        // which clears `alive` first); loop thread because Core is !Send.
        let rc = unsafe { cancel(self.raw, id) };
        self.flush();
        rc
    }

    /// Logs through the host, deferring while a destroy runs; after unload
    /// the line goes to stderr (there is no ctx to log with).
    pub(crate) fn log(&self, level: Level, msg: &str) {
        if !self.alive.get() {
            eprintln!("uvplug: {msg}");
            return;
        }
        if self.destroy_depth.get() > 0 {
            self.defer(Deferred::Log(level, msg.to_owned()));
            return;
        }
        self.log_now(level, msg);
    }

    fn log_now(&self, level: Level, msg: &str) {
        if let Ok(log) = self.func(|a| a.log) {
            // SAFETY: may_call/alive checked by the caller; msg is (ptr, len),
            // copied by the host.
            unsafe { log(self.raw, level.raw(), msg.as_ptr().cast(), msg.len()) };
        }
    }

    fn defer(&self, d: Deferred) {
        let mut q = self.deferred.borrow_mut();
        q.push(d);
        self.pending.set(q.len());
    }

    /// Whether a cancel of `id` waits in the deferred queue.
    pub(crate) fn cancel_pending(&self, id: sys::uvp_id) -> bool {
        if self.pending.get() == 0 {
            return false;
        }
        self.deferred
            .borrow()
            .iter()
            .any(|d| matches!(d, Deferred::Cancel(x) if *x == id))
    }

    /// Runs what was deferred during destroy callbacks, once calling the
    /// host is allowed again.
    pub(crate) fn flush(&self) {
        while self.pending.get() != 0 && self.may_call() {
            let next = {
                let mut q = self.deferred.borrow_mut();
                let next = q.pop();
                self.pending.set(q.len());
                next
            };
            match next {
                None => break,
                Some(Deferred::Cancel(id)) => {
                    self.cancel(id);
                }
                Some(Deferred::Log(level, msg)) => self.log_now(level, &msg),
            }
        }
    }
}

/// `*mut ()` makes the type `!Send + !Sync` even without the `Rc`;
/// `fn(P) -> P` ties it to `P` invariantly without owning a `P`.
type NotSendSync<P> = PhantomData<(*mut (), fn(P) -> P)>;

/// The loop-thread context of one plugin instance.
///
/// Every method must run on the host's loop thread; the type is neither
/// `Send` nor `Sync`, so the compiler enforces that. The SDK hands out
/// `&mut Ctx<P>` to [`Plugin`] hooks and to handlers; the host's `uvp_ctx`
/// and function table it wraps stay valid for as long as any `Ctx` exists.
///
/// ```compile_fail
/// fn needs_send<T: Send>() {}
/// struct P;
/// needs_send::<uvplug::Ctx<P>>();
/// ```
///
/// ```compile_fail
/// fn needs_sync<T: Sync>() {}
/// struct P;
/// needs_sync::<uvplug::Ctx<P>>();
/// ```
pub struct Ctx<P> {
    pub(crate) core: Rc<Core>,
    _marker: NotSendSync<P>,
}

impl<P> Ctx<P> {
    pub(crate) fn new(core: Rc<Core>) -> Ctx<P> {
        Ctx {
            core,
            _marker: PhantomData,
        }
    }
}

impl<P> fmt::Debug for Ctx<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ctx").field("raw", &self.core.raw).finish()
    }
}

/// Boxed into a registration's `user_data`: the handler plus the way back
/// to the instance. Dropped by the destroy callback exactly once (L1).
pub(crate) struct Reg<C> {
    pub(crate) core: Rc<Core>,
    /// The registration's id, set once the host accepted it.
    pub(crate) id: Cell<sys::uvp_id>,
    pub(crate) cb: UnsafeCell<C>,
}

/// A one-shot timer's handler, taken on its only call.
pub(crate) struct Once<F>(pub(crate) Option<F>);

impl<P: Plugin> Ctx<P> {
    /// Interns a topic name (1..=255 bytes of UTF-8, no NUL).
    pub fn topic(&self, name: &str) -> Result<Topic> {
        let topic = self.core.func(|a| a.topic)?;
        let mut out: sys::uvp_topic = 0;
        // SAFETY: a Ctx exists only while the instance is alive (the host
        // keeps ctx valid until on_unload, T1); name is (ptr, len) and copied.
        let rc = unsafe { topic(self.core.raw, name.as_ptr().cast(), name.len(), &mut out) };
        Error::check(rc).map(|()| Topic(out))
    }

    /// Subscribes `handler` to `topic`. The handler runs on the loop thread
    /// for every later event on the topic (D3), with `&mut` access to the
    /// plugin's state, until the returned guard is dropped or cancelled, or
    /// the plugin unloads. The closure is dropped exactly once (L1).
    pub fn subscribe<F>(&self, topic: &Topic, handler: F) -> Result<Subscription>
    where
        F: FnMut(&mut P, &mut Ctx<P>, &Event<'_>) -> Result<()> + 'static,
    {
        let subscribe = self.core.func(|a| a.subscribe)?;
        let ud = self.boxed(handler);
        let mut id: sys::uvp_id = 0;
        // SAFETY: ctx valid (see `topic`); `ud` is a live Box<Reg<F>> whose
        // ownership passes to the host only on success (L6).
        let rc = unsafe {
            subscribe(
                self.core.raw,
                topic.0,
                Some(tramp::on_event::<P, F>),
                ud,
                Some(tramp::destroy::<F>),
                &mut id,
            )
        };
        self.registered(rc, ud.cast::<Reg<F>>(), id)?;
        Ok(Subscription::new(id, self.core.clone()))
    }

    /// Publishes a copy of `data` on `topic`; subscribers run on a later
    /// loop turn, never inside this call (D2).
    pub fn publish(&self, topic: &Topic, data: &[u8]) -> Result<()> {
        let publish = self.core.func(|a| a.publish)?;
        // SAFETY: ctx valid; data is (ptr, len), copied before return (L9).
        let rc = unsafe { publish(self.core.raw, topic.0, data.as_ptr().cast(), data.len()) };
        Error::check(rc)
    }

    /// Publishes `data` without copying: the host owns the buffer until
    /// every subscriber saw it, then the SDK's free function drops it with
    /// Rust's allocator, on the loop thread (L8). On failure the SDK drops
    /// it at once.
    pub fn publish_owned(&self, topic: &Topic, data: impl Into<Box<[u8]>>) -> Result<()> {
        let publish_owned = self.core.func(|a| a.publish_owned)?;
        let data: Box<[u8]> = data.into();
        let len = data.len();
        let ptr = Box::into_raw(data);
        // SAFETY: ctx valid; ptr/len come from Box::into_raw and stay valid
        // and unchanged until free_boxed runs (L8).
        let rc = unsafe {
            publish_owned(
                self.core.raw,
                topic.0,
                ptr.cast(),
                len,
                Some(tramp::free_boxed),
                std::ptr::null_mut(),
            )
        };
        if rc != 0 {
            // SAFETY: on failure the host did not take the buffer (L8); it is
            // still the Box we leaked above.
            drop(unsafe { Box::from_raw(ptr) });
        }
        Error::check(rc)
    }

    /// Runs `handler` once, `delay` from now (loop time). The guard may be
    /// dropped after it fired; dropping it before cancels the timer.
    pub fn after<F>(&self, delay: Duration, handler: F) -> Result<Timer>
    where
        F: FnOnce(&mut P, &mut Ctx<P>) -> Result<()> + 'static,
    {
        self.timer(
            ms(delay),
            0,
            Once(Some(handler)),
            tramp::on_timer_once::<P, F>,
        )
    }

    /// Runs `handler` every `period` (at least 1 ms, at most `u32::MAX` ms)
    /// until the guard is dropped or cancelled.
    pub fn every<F>(&self, period: Duration, handler: F) -> Result<Timer>
    where
        F: FnMut(&mut P, &mut Ctx<P>) -> Result<()> + 'static,
    {
        let p = ms(period);
        if p == 0 || p > u64::from(u32::MAX) {
            return Err(Error::Invalid);
        }
        self.timer(p, p, handler, tramp::on_timer::<P, F>)
    }

    fn timer<C: 'static>(
        &self,
        timeout: u64,
        repeat: u64,
        cb: C,
        tramp: unsafe extern "C" fn(*mut sys::uvp_ctx, *mut c_void) -> c_int,
    ) -> Result<Timer> {
        let timer_start = self.core.func(|a| a.timer_start)?;
        let ud = self.boxed(cb);
        let mut id: sys::uvp_id = 0;
        // SAFETY: ctx valid; ud is a live Box<Reg<C>>, the host's on success
        // (L6); `tramp` and `destroy::<C>` are instantiated for that type.
        let rc = unsafe {
            timer_start(
                self.core.raw,
                timeout,
                repeat,
                Some(tramp),
                ud,
                Some(tramp::destroy::<C>),
                &mut id,
            )
        };
        self.registered(rc, ud.cast::<Reg<C>>(), id)?;
        Ok(Timer::new(id, self.core.clone()))
    }

    /// Watches `fd` for readiness. The fd stays yours and must stay open
    /// until the watch is cancelled (drop the guard before closing it: put
    /// the guard before the socket in your struct, fields drop in order).
    pub fn watch_fd<F>(&self, fd: RawFd, interest: Interest, handler: F) -> Result<FdWatch>
    where
        F: FnMut(&mut P, &mut Ctx<P>, Readiness) -> Result<()> + 'static,
    {
        let fd_watch = self.core.func(|a| a.fd_watch)?;
        let ud = self.boxed(handler);
        let mut id: sys::uvp_id = 0;
        // SAFETY: ctx valid; ud is a live Box<Reg<F>>, the host's on success (L6).
        let rc = unsafe {
            fd_watch(
                self.core.raw,
                fd,
                interest.0,
                Some(tramp::on_fd::<P, F>),
                ud,
                Some(tramp::destroy::<F>),
                &mut id,
            )
        };
        self.registered(rc, ud.cast::<Reg<F>>(), id)?;
        Ok(FdWatch::new(id, self.core.clone()))
    }

    /// Ends the registration `id` of this instance (what dropping its guard
    /// does, but by id). `Err(Stale)` once it ended, `Err(NoEnt)` for an id
    /// that is not this instance's. Dropping the guard later is harmless.
    pub fn cancel(&self, id: u64) -> Result<()> {
        Error::check(self.core.cancel(id))
    }

    /// Asks the host to unload this instance once the current callback
    /// returns (contract U6, S3): `stop` runs, every registration ends, the
    /// state is dropped. `Err(Closed)` if it is already unloading.
    pub fn unload_self(&self) -> Result<()> {
        if !self.core.api_has(api_field_end!(unload_self)) {
            return Err(Error::Invalid);
        }
        let unload_self = self.core.func(|a| a.unload_self)?;
        // SAFETY: ctx valid (see `topic`); the table is large enough to hold
        // the entry (checked above, UVP_HAS_FIELD).
        Error::check(unsafe { unload_self(self.core.raw) })
    }

    /// Writes a log line through the host, tagged with the instance name.
    pub fn log(&self, level: Level, msg: impl fmt::Display) {
        self.core.log(level, &msg.to_string());
    }

    /// [`Ctx::log`] at [`Level::Error`].
    pub fn log_error(&self, msg: impl fmt::Display) {
        self.log(Level::Error, msg)
    }

    /// [`Ctx::log`] at [`Level::Warn`].
    pub fn log_warn(&self, msg: impl fmt::Display) {
        self.log(Level::Warn, msg)
    }

    /// [`Ctx::log`] at [`Level::Info`].
    pub fn log_info(&self, msg: impl fmt::Display) {
        self.log(Level::Info, msg)
    }

    /// [`Ctx::log`] at [`Level::Debug`].
    pub fn log_debug(&self, msg: impl fmt::Display) {
        self.log(Level::Debug, msg)
    }

    /// The loop's cached time in milliseconds, the clock timers use
    /// (0 if the host refuses, which it does only off the loop thread).
    pub fn now_ms(&self) -> u64 {
        let Ok(now_ms) = self.core.func(|a| a.now_ms) else {
            return 0;
        };
        let mut out = 0u64;
        // SAFETY: ctx valid; out is a live u64.
        let rc = unsafe { now_ms(self.core.raw, &mut out) };
        if rc == 0 {
            out
        } else {
            0
        }
    }

    /// The raw ctx and function table, for calls the safe layer does not
    /// offer (and for tests of the host's own checks, such as calling a
    /// loop-only function from another thread). Using it is `unsafe`: see
    /// [`RawCtx`].
    pub fn raw(&self) -> RawCtx {
        RawCtx {
            ctx: self.core.raw,
            api: self.core.api_ptr,
        }
    }

    fn boxed<C>(&self, cb: C) -> *mut c_void {
        Box::into_raw(Box::new(Reg {
            core: self.core.clone(),
            id: Cell::new(0),
            cb: UnsafeCell::new(cb),
        }))
        .cast()
    }

    fn registered<C>(&self, rc: c_int, ud: *mut Reg<C>, id: sys::uvp_id) -> Result<()> {
        if rc == 0 {
            // SAFETY: the host holds the box until destroy, which runs on
            // this thread and not before this call returns; only a Cell is
            // touched through a shared reference.
            unsafe { &*ud }.id.set(id);
            return Ok(());
        }
        // SAFETY: the registration failed, so the host did not take user_data
        // and will never call destroy (L6): the box is still ours.
        drop(unsafe { Box::from_raw(ud) });
        Err(Error::from_code(rc))
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The raw `uvp_ctx *` and `const uvp_api *` of an instance: an escape hatch
/// out of the safe layer. It is `Send` and `Sync` so that tests can check
/// the host's thread rules (T2); every use is `unsafe`.
#[derive(Clone, Copy, Debug)]
pub struct RawCtx {
    /// The instance's `uvp_ctx *`.
    pub ctx: *mut sys::uvp_ctx,
    /// The host's function table.
    pub api: *const sys::uvp_api,
}

// SAFETY: RawCtx is two plain pointers; every dereference is in an unsafe fn
// whose caller promises the pointers are still valid. The contract makes
// loop-only calls from other threads defined (they return UVP_EWRONGTHREAD).
unsafe impl Send for RawCtx {}
// SAFETY: as for Send: shared access only copies the pointers.
unsafe impl Sync for RawCtx {}

impl RawCtx {
    /// The host's function table.
    ///
    /// # Safety
    ///
    /// The instance must still be loaded (before its `on_unload` returns),
    /// and the reference must not be kept past that.
    pub unsafe fn api(&self) -> &sys::uvp_api {
        // SAFETY: the caller promises the table is still valid.
        unsafe { &*self.api }
    }

    /// Calls the host's `publish` directly, from any thread. Off the loop
    /// thread the host returns `UVP_EWRONGTHREAD` and changes nothing (T2).
    ///
    /// # Safety
    ///
    /// The instance must still be loaded for the whole call (for example,
    /// the calling thread is joined by a handler before it returns).
    pub unsafe fn publish(&self, topic: Topic, data: &[u8]) -> c_int {
        // SAFETY: caller promises ctx and api are valid for this call.
        match unsafe { self.api() }.publish {
            // SAFETY: as above; data is (ptr, len) and copied by the host.
            Some(f) => unsafe { f(self.ctx, topic.0, data.as_ptr().cast(), data.len()) },
            None => sys::UVP_EINVAL,
        }
    }
}
