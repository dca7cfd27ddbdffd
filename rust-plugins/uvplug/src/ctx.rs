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

use std::cell::{Cell, UnsafeCell};
use std::fmt;
use std::marker::PhantomData;
use std::os::raw::{c_int, c_void};
use std::os::unix::io::{AsFd, AsRawFd, RawFd};
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

/// Reads entry `$field` of the host's table through a raw pointer (never a
/// reference to the whole `uvp_api`, which may be shorter than this SDK's
/// struct): `Err(Closed)` once the instance is gone, `Err(Invalid)` when
/// the host's table does not reach the entry or leaves it NULL.
macro_rules! api_fn {
    ($core:expr, $field:ident) => {{
        let core: &$crate::ctx::Core = &$core;
        core.check_entry($crate::ctx::api_field_end!($field))
            .and_then(|api| {
                // SAFETY: check_entry returned the table only while it is valid
                // (alive) and its size covers the whole entry; addr_of! reads
                // just the field, unaligned reads are not needed (the host's
                // struct has the C layout this binding was generated from).
                unsafe { std::ptr::addr_of!((*api).$field).read() }.ok_or($crate::Error::Invalid)
            })
    }};
}
pub(crate) use api_fn;

/// The entries every host has (the first ABI 1.0 block, through `now_ms`).
pub(crate) fn api_v1_0_len() -> usize {
    api_field_end!(now_ms)
}

/// Per-instance state shared (through `Rc`, loop thread only) by the
/// instance, every registration's box and every guard.
pub(crate) struct Core {
    pub(crate) raw: *mut sys::uvp_ctx,
    /// The host's table, checked at init; valid while `alive`. Only ever
    /// read field by field, up to `api_len` bytes.
    api_ptr: *const sys::uvp_api,
    /// The table's `size` as the host gave it.
    api_len: usize,
    /// False once init failed or on_unload began: `raw` may be dangling then
    /// and nothing calls the host any more.
    alive: Cell<bool>,
    /// The plugin's `Box<P>`, type-erased; null until init returned.
    pub(crate) state: Cell<*mut ()>,
    /// A handler currently holds `&mut P` (and `&mut` to its closure).
    pub(crate) busy: Cell<bool>,
}

impl Core {
    /// Checks the host's table and builds the core, or fails with the
    /// status `on_init` must return.
    ///
    /// # Safety
    ///
    /// `api` is NULL or points to the host's table of at least `size`
    /// bytes, valid until on_unload returns; `raw` is the instance's ctx
    /// for the same time.
    pub(crate) unsafe fn new(raw: *mut sys::uvp_ctx, api_ptr: *const sys::uvp_api) -> Result<Core> {
        if raw.is_null() || api_ptr.is_null() {
            return Err(Error::Invalid);
        }
        // SAFETY: non-null and valid per this function's contract; the
        // `size` and version prefix exists in every table (ABI 1.0), and
        // each is read on its own, without a reference to the whole.
        let (size, major) = unsafe {
            (
                std::ptr::addr_of!((*api_ptr).size).read(),
                std::ptr::addr_of!((*api_ptr).abi_major).read(),
            )
        };
        if u32::from(major) != sys::UVP_ABI_MAJOR {
            return Err(Error::Abi);
        }
        // Only the ABI 1.0 entries must be present; a table with more (a
        // newer host) is fine, and later entries are checked before each
        // use (UVP_HAS_FIELD, A5).
        if (size as usize) < api_v1_0_len() {
            return Err(Error::Short);
        }
        let core = Core {
            raw,
            api_ptr,
            api_len: size as usize,
            alive: Cell::new(true),
            state: Cell::new(std::ptr::null_mut()),
            busy: Cell::new(false),
        };
        let complete = api_fn!(core, topic).is_ok()
            && api_fn!(core, subscribe).is_ok()
            && api_fn!(core, publish).is_ok()
            && api_fn!(core, publish_owned).is_ok()
            && api_fn!(core, timer_start).is_ok()
            && api_fn!(core, fd_watch).is_ok()
            && api_fn!(core, cancel).is_ok()
            && api_fn!(core, log).is_ok()
            && api_fn!(core, now_ms).is_ok();
        if !complete {
            return Err(Error::Invalid);
        }
        Ok(core)
    }

    /// The table, if the instance is alive and the table holds `end`
    /// bytes (see `api_fn!`).
    pub(crate) fn check_entry(&self, end: usize) -> Result<*const sys::uvp_api> {
        if !self.alive.get() {
            return Err(Error::Closed);
        }
        if self.api_len < end {
            return Err(Error::Invalid);
        }
        Ok(self.api_ptr)
    }

    pub(crate) fn alive(&self) -> bool {
        self.alive.get()
    }

    /// The instance is gone (init failed, or on_unload began): nothing
    /// calls the host from now on.
    pub(crate) fn kill(&self) {
        self.alive.set(false);
    }

    /// Ends a registration. Allowed anywhere on the loop thread, a destroy
    /// callback included (plugin.h): guards dropped there cancel at once.
    pub(crate) fn cancel(&self, id: sys::uvp_id) -> c_int {
        match api_fn!(self, cancel) {
            // SAFETY: alive, so `raw` is valid (the host keeps it until
            // on_unload, which clears `alive` first); loop thread because
            // Core is !Send.
            Ok(cancel) => unsafe { cancel(self.raw, id) },
            // The host ended every registration before on_unload (S1).
            Err(e) => e.status(),
        }
    }

    /// Logs through the host; once the instance is gone there is no ctx
    /// to log with, and the line goes to stderr.
    pub(crate) fn log(&self, level: Level, msg: &str) {
        match api_fn!(self, log) {
            // SAFETY: alive (see cancel); msg is (ptr, len), copied by the
            // host.
            Ok(log) => unsafe {
                log(self.raw, level.raw(), msg.as_ptr().cast(), msg.len());
            },
            Err(_) => eprintln!("{msg}"),
        }
    }

    /// Reports a fault caught where no status can be returned (stop, a
    /// destroy, a payload's free): the host logs and counts it and applies
    /// the fault policy (F7). A host older than ABI 1.2 only logs it.
    pub(crate) fn fault(&self, status: c_int, msg: &str) {
        match api_fn!(self, fault) {
            // SAFETY: alive (see cancel); msg is (ptr, len), copied.
            Ok(fault) => unsafe {
                fault(self.raw, status, msg.as_ptr().cast(), msg.len());
            },
            Err(_) => self.log(Level::Error, msg),
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
    pub(crate) cb: UnsafeCell<C>,
}

/// A one-shot timer's handler, taken on its only call.
pub(crate) struct Once<F>(pub(crate) Option<F>);

/// An fd watch's handler and the I/O object it owns. Fields drop in order:
/// the handler first, then the object (closing the fd).
pub(crate) struct OwnedWatch<F, T> {
    pub(crate) handler: F,
    pub(crate) io: T,
}

impl<P: Plugin> Ctx<P> {
    /// Interns a topic name (1..=255 bytes of UTF-8, no NUL).
    ///
    /// ```
    /// # use uvplug::prelude::*;
    /// # struct P;
    /// # impl Plugin for P { fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
    /// let ticks = ctx.topic("ticks")?;
    /// assert_eq!(ctx.topic("ticks")?, ticks); // the same id every time
    /// assert_eq!(ctx.topic("").err(), Some(Error::Invalid));
    /// # Ok(P) } }
    /// # uvplug::testing::TestHost::new().load::<P>("").unwrap();
    /// ```
    pub fn topic(&self, name: &str) -> Result<Topic> {
        let topic = api_fn!(self.core, topic)?;
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
    ///
    /// ```
    /// # use uvplug::prelude::*;
    /// struct P { bytes: usize, _sub: Subscription }
    /// impl Plugin for P {
    ///     fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
    ///         let t = ctx.topic("in")?;
    ///         let _sub = ctx.subscribe(&t, |me: &mut P, _ctx, ev: &Event| {
    ///             me.bytes += ev.data().len();
    ///             Ok(())
    ///         })?;
    ///         Ok(P { bytes: 0, _sub })
    ///     }
    /// }
    /// let mut host = uvplug::testing::TestHost::new();
    /// let p = host.load::<P>("").unwrap();
    /// host.publish("in", b"abc").unwrap();
    /// host.run_until_idle();
    /// assert_eq!(host.state(&p).bytes, 3);
    /// ```
    pub fn subscribe<F>(&self, topic: &Topic, handler: F) -> Result<Subscription>
    where
        F: FnMut(&mut P, &mut Ctx<P>, &Event<'_>) -> Result<()> + 'static,
    {
        let subscribe = api_fn!(self.core, subscribe)?;
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
        self.registered(rc, ud.cast::<Reg<F>>())?;
        Ok(Subscription::new(id, self.core.clone()))
    }

    /// Publishes a copy of `data` on `topic`; subscribers run on a later
    /// loop turn, never inside this call (D2).
    ///
    /// ```
    /// # use uvplug::prelude::*;
    /// # struct P;
    /// # impl Plugin for P { fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
    /// let out = ctx.topic("out")?;
    /// ctx.publish(&out, b"hello")?;
    /// # Ok(P) } }
    /// # let mut host = uvplug::testing::TestHost::new();
    /// # host.load::<P>("").unwrap();
    /// # host.run_until_idle();
    /// # assert_eq!(host.published("out"), vec![b"hello".to_vec()]);
    /// ```
    pub fn publish(&self, topic: &Topic, data: &[u8]) -> Result<()> {
        let publish = api_fn!(self.core, publish)?;
        // SAFETY: ctx valid; data is (ptr, len), copied before return (L9).
        let rc = unsafe { publish(self.core.raw, topic.0, data.as_ptr().cast(), data.len()) };
        Error::check(rc)
    }

    /// Publishes `data` without copying: the host owns the buffer until
    /// every subscriber saw it, then the SDK's free function drops it with
    /// Rust's allocator, on the loop thread (L8). On failure the SDK drops
    /// it at once.
    ///
    /// ```
    /// # use uvplug::prelude::*;
    /// # struct P;
    /// # impl Plugin for P { fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
    /// let out = ctx.topic("frames")?;
    /// let frame: Vec<u8> = vec![0u8; 4096];
    /// ctx.publish_owned(&out, frame)?; // no copy; freed once delivered
    /// # Ok(P) } }
    /// # let mut host = uvplug::testing::TestHost::new();
    /// # host.load::<P>("").unwrap();
    /// # host.run_until_idle();
    /// # assert_eq!(host.payload_frees(), 1);
    /// ```
    pub fn publish_owned(&self, topic: &Topic, data: impl Into<Box<[u8]>>) -> Result<()> {
        let publish_owned = api_fn!(self.core, publish_owned)?;
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
    ///
    /// ```
    /// # use uvplug::prelude::*;
    /// struct P { fired: bool, _t: Timer }
    /// impl Plugin for P {
    ///     fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
    ///         let _t = ctx.after(Duration::from_millis(10), |me: &mut P, _| {
    ///             me.fired = true;
    ///             Ok(())
    ///         })?;
    ///         Ok(P { fired: false, _t })
    ///     }
    /// }
    /// let mut host = uvplug::testing::TestHost::new();
    /// let p = host.load::<P>("").unwrap();
    /// host.advance(Duration::from_millis(10));
    /// assert!(host.state(&p).fired);
    /// ```
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
    ///
    /// ```
    /// # use uvplug::prelude::*;
    /// struct P { n: u32, _t: Timer }
    /// impl Plugin for P {
    ///     fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
    ///         let _t = ctx.every(Duration::from_millis(5), |me: &mut P, _| {
    ///             me.n += 1;
    ///             Ok(())
    ///         })?;
    ///         Ok(P { n: 0, _t })
    ///     }
    /// }
    /// let mut host = uvplug::testing::TestHost::new();
    /// let p = host.load::<P>("").unwrap();
    /// host.advance(Duration::from_millis(20));
    /// assert_eq!(host.state(&p).n, 4);
    /// ```
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
        let timer_start = api_fn!(self.core, timer_start)?;
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
        self.registered(rc, ud.cast::<Reg<C>>())?;
        Ok(Timer::new(id, self.core.clone()))
    }

    /// Watches an I/O object (a socket, pipe, `OwnedFd`, ...) for
    /// readiness. The object moves into the registration, so it stays open
    /// exactly as long as the host watches it (Rust's I/O-safety rules): the
    /// handler gets `&mut` to it, and the host's destroy drops it after the
    /// watch ended (guard dropped or cancelled, or unload), never before.
    /// To keep using the object elsewhere too, watch an `Rc<T>` (it is
    /// `AsFd`) and keep a clone.
    ///
    /// ```
    /// use std::io::Read;
    /// use std::os::unix::net::UnixStream;
    /// use uvplug::prelude::*;
    ///
    /// struct Reader { got: Vec<u8>, _watch: FdWatch }
    /// impl Plugin for Reader {
    ///     fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
    ///         let (ours, theirs) = UnixStream::pair()?;
    ///         theirs.set_nonblocking(true)?;
    ///         std::mem::forget(ours); // the test below writes through its fd
    ///         let watch = ctx.watch_fd(theirs, Interest::READABLE, |me: &mut Self, _, s, _| {
    ///             let mut buf = [0u8; 64];
    ///             let n = s.read(&mut buf)?;
    ///             me.got.extend_from_slice(&buf[..n]);
    ///             Ok(())
    ///         })?;
    ///         Ok(Reader { got: Vec::new(), _watch: watch })
    ///     }
    /// }
    /// # let mut host = uvplug::testing::TestHost::new();
    /// # let _ = host.load::<Reader>("").unwrap();
    /// ```
    pub fn watch_fd<T, F>(&self, io: T, interest: Interest, handler: F) -> Result<FdWatch>
    where
        T: AsFd + 'static,
        F: FnMut(&mut P, &mut Ctx<P>, &mut T, Readiness) -> Result<()> + 'static,
    {
        let fd = io.as_fd().as_raw_fd();
        let owned = OwnedWatch { handler, io };
        // SAFETY: the fd belongs to `io`, which the registration owns and
        // drops only in its destroy, after the host stopped watching (L1).
        unsafe { self.fd_watch(fd, interest, owned, tramp::on_fd_owned::<P, T, F>) }
    }

    /// Watches a raw fd the plugin keeps owning (the form of ABI 1.0).
    ///
    /// # Safety
    ///
    /// `fd` must stay open, and be the same open file, until the watch has
    /// ended: the guard dropped or cancelled (from anywhere, a destroy
    /// included) or the plugin unloaded. Closing it earlier lets the host
    /// poll a closed or reused descriptor: another plugin's socket, or an
    /// abort inside libuv. Prefer [`Ctx::watch_fd`], which owns the object.
    ///
    /// ```
    /// # use uvplug::prelude::*;
    /// use std::os::unix::{io::AsRawFd, net::UnixStream};
    /// struct P { _watch: FdWatch, _sock: UnixStream } // the watch drops first
    /// impl Plugin for P {
    ///     fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
    ///         let (sock, _peer) = UnixStream::pair()?;
    ///         // SAFETY: `sock` is a field after `_watch`, so it closes only
    ///         // after the watch was cancelled by the guard's drop.
    ///         let _watch = unsafe {
    ///             ctx.watch_raw_fd(sock.as_raw_fd(), Interest::READABLE, |_: &mut P, _, _| Ok(()))?
    ///         };
    ///         Ok(P { _watch, _sock: sock })
    ///     }
    /// }
    /// # uvplug::testing::TestHost::new().load::<P>("").unwrap();
    /// ```
    pub unsafe fn watch_raw_fd<F>(
        &self,
        fd: RawFd,
        interest: Interest,
        mut handler: F,
    ) -> Result<FdWatch>
    where
        F: FnMut(&mut P, &mut Ctx<P>, Readiness) -> Result<()> + 'static,
    {
        let owned = OwnedWatch {
            handler: move |p: &mut P, cx: &mut Ctx<P>, _: &mut (), r: Readiness| handler(p, cx, r),
            io: (),
        };
        let tramp = on_fd_of(&owned);
        // SAFETY: the caller keeps `fd` open for the watch's life.
        unsafe { self.fd_watch(fd, interest, owned, tramp) }
    }

    /// # Safety
    ///
    /// `fd` stays open until the registration's destroy ran.
    unsafe fn fd_watch<C: 'static>(
        &self,
        fd: RawFd,
        interest: Interest,
        cb: C,
        tramp: FdTrampoline,
    ) -> Result<FdWatch> {
        let fd_watch = api_fn!(self.core, fd_watch)?;
        let ud = self.boxed(cb);
        let mut id: sys::uvp_id = 0;
        // SAFETY: ctx valid; ud is a live Box<Reg<C>>, the host's on success
        // (L6); `tramp` and `destroy::<C>` are instantiated for that type.
        let rc = unsafe {
            fd_watch(
                self.core.raw,
                fd,
                interest.0,
                Some(tramp),
                ud,
                Some(tramp::destroy::<C>),
                &mut id,
            )
        };
        self.registered(rc, ud.cast::<Reg<C>>())?;
        Ok(FdWatch::new(id, self.core.clone()))
    }

    /// Ends the registration `id` of this instance (what dropping its guard
    /// does, but by id). `Err(Stale)` once it ended, `Err(NoEnt)` for an id
    /// that is not this instance's. Dropping the guard later is harmless.
    ///
    /// ```
    /// # use uvplug::prelude::*;
    /// # struct P;
    /// # impl Plugin for P { fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
    /// let t = ctx.topic("t")?;
    /// let sub = ctx.subscribe(&t, |_: &mut P, _, _| Ok(()))?;
    /// let id = sub.id();
    /// sub.detach();
    /// ctx.cancel(id)?;
    /// assert_eq!(ctx.cancel(id), Err(Error::Stale));
    /// # Ok(P) } }
    /// # uvplug::testing::TestHost::new().load::<P>("").unwrap();
    /// ```
    pub fn cancel(&self, id: u64) -> Result<()> {
        Error::check(self.core.cancel(id))
    }

    /// Asks the host to unload this instance once the current callback
    /// returns (contract U6, S3): `stop` runs, every registration ends, the
    /// state is dropped. `Err(Closed)` if it is already unloading.
    ///
    /// ```
    /// # use uvplug::prelude::*;
    /// struct P;
    /// impl Plugin for P {
    ///     fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
    ///         let bye = ctx.topic("bye")?;
    ///         ctx.subscribe(&bye, |_: &mut P, ctx, _| ctx.unload_self())?.detach();
    ///         Ok(P)
    ///     }
    /// }
    /// let mut host = uvplug::testing::TestHost::new();
    /// let p = host.load::<P>("").unwrap();
    /// host.publish("bye", b"").unwrap();
    /// host.run_until_idle();
    /// assert!(!host.is_loaded(p.id()));
    /// ```
    pub fn unload_self(&self) -> Result<()> {
        let unload_self = api_fn!(self.core, unload_self)?;
        // SAFETY: ctx valid (see `topic`); the table is large enough to hold
        // the entry (checked above, UVP_HAS_FIELD).
        Error::check(unsafe { unload_self(self.core.raw) })
    }

    /// This instance's name as the host knows it: the name given at load,
    /// or the descriptor's. Empty from a host older than ABI 1.2.
    ///
    /// ```
    /// use uvplug::prelude::*;
    /// struct P(String);
    /// impl Plugin for P {
    ///     fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
    ///         Ok(P(ctx.instance_name().to_owned()))
    ///     }
    /// }
    /// let mut host = uvplug::testing::TestHost::new();
    /// let p = host.load_as::<P>("edge-1", "").unwrap();
    /// assert_eq!(host.state(&p).0, "edge-1");
    /// ```
    pub fn instance_name(&self) -> &str {
        let Ok(name) = api_fn!(self.core, instance_name) else {
            return "";
        };
        let mut ptr: *const std::os::raw::c_char = std::ptr::null();
        let mut len = 0usize;
        // SAFETY: ctx valid (see `topic`); both out-pointers are live.
        let rc = unsafe { name(self.core.raw, &mut ptr, &mut len) };
        if rc != 0 || ptr.is_null() {
            return "";
        }
        // SAFETY: the host's name is `len` bytes at `ptr`, valid until
        // on_unload returns, which cannot happen while this Ctx (and the
        // borrow of it) exists.
        let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) };
        std::str::from_utf8(bytes).unwrap_or("")
    }

    /// Writes a log line through the host, tagged with the instance name
    /// (see also the [`info!`](crate::info) family of macros).
    ///
    /// ```
    /// use uvplug::prelude::*;
    /// struct P;
    /// impl Plugin for P {
    ///     fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
    ///         ctx.log(Level::Warn, "no peers configured");
    ///         Ok(P)
    ///     }
    /// }
    /// let mut host = uvplug::testing::TestHost::new();
    /// host.load::<P>("").unwrap();
    /// assert!(host.logged("no peers configured"));
    /// ```
    pub fn log(&self, level: Level, msg: impl fmt::Display) {
        self.core.log(level, &msg.to_string());
    }

    /// [`Ctx::log`] at [`Level::Error`] (or use the formatting macro
    /// [`error!`](crate::error)).
    ///
    /// ```
    /// # use uvplug::prelude::*;
    /// # struct P;
    /// # impl Plugin for P { fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
    /// ctx.log_error(format_args!("peers: {}", 3));
    /// # Ok(P) } }
    /// # let mut host = uvplug::testing::TestHost::new();
    /// # host.load::<P>("").unwrap();
    /// # assert!(host.logged("peers: 3"));
    /// ```
    pub fn log_error(&self, msg: impl fmt::Display) {
        self.log(Level::Error, msg)
    }

    /// [`Ctx::log`] at [`Level::Warn`] (or use the formatting macro
    /// [`warn!`](crate::warn)).
    ///
    /// ```
    /// # use uvplug::prelude::*;
    /// # struct P;
    /// # impl Plugin for P { fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
    /// ctx.log_warn(format_args!("peers: {}", 3));
    /// # Ok(P) } }
    /// # let mut host = uvplug::testing::TestHost::new();
    /// # host.load::<P>("").unwrap();
    /// # assert!(host.logged("peers: 3"));
    /// ```
    pub fn log_warn(&self, msg: impl fmt::Display) {
        self.log(Level::Warn, msg)
    }

    /// [`Ctx::log`] at [`Level::Info`] (or use the formatting macro
    /// [`info!`](crate::info)).
    ///
    /// ```
    /// # use uvplug::prelude::*;
    /// # struct P;
    /// # impl Plugin for P { fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
    /// ctx.log_info(format_args!("peers: {}", 3));
    /// # Ok(P) } }
    /// # let mut host = uvplug::testing::TestHost::new();
    /// # host.load::<P>("").unwrap();
    /// # assert!(host.logged("peers: 3"));
    /// ```
    pub fn log_info(&self, msg: impl fmt::Display) {
        self.log(Level::Info, msg)
    }

    /// [`Ctx::log`] at [`Level::Debug`] (or use the formatting macro
    /// [`debug!`](crate::debug)).
    ///
    /// ```
    /// # use uvplug::prelude::*;
    /// # struct P;
    /// # impl Plugin for P { fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
    /// ctx.log_debug(format_args!("peers: {}", 3));
    /// # Ok(P) } }
    /// # let mut host = uvplug::testing::TestHost::new();
    /// # host.load::<P>("").unwrap();
    /// # assert!(host.logged("peers: 3"));
    /// ```
    pub fn log_debug(&self, msg: impl fmt::Display) {
        self.log(Level::Debug, msg)
    }

    /// The loop's cached time in milliseconds, the clock timers use
    /// (0 if the host refuses, which it does only off the loop thread).
    ///
    /// ```
    /// # use uvplug::prelude::*;
    /// # struct P(u64);
    /// # impl Plugin for P { fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
    /// let started = ctx.now_ms();
    /// # Ok(P(started)) } }
    /// # let mut host = uvplug::testing::TestHost::new();
    /// # let p = host.load::<P>("").unwrap();
    /// # assert_eq!(host.state(&p).0, host.now_ms());
    /// ```
    pub fn now_ms(&self) -> u64 {
        let Ok(now_ms) = api_fn!(self.core, now_ms) else {
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
    ///
    /// ```
    /// # use uvplug::prelude::*;
    /// # struct P;
    /// # impl Plugin for P { fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
    /// let t = ctx.topic("t")?;
    /// let raw = ctx.raw();
    /// // SAFETY: the instance is loaded for the whole call (we are in init).
    /// assert_eq!(unsafe { raw.publish(t, b"x") }, 0);
    /// # Ok(P) } }
    /// # uvplug::testing::TestHost::new().load::<P>("").unwrap();
    /// ```
    pub fn raw(&self) -> RawCtx {
        RawCtx {
            ctx: self.core.raw,
            api: self.core.api_ptr,
        }
    }

    fn boxed<C>(&self, cb: C) -> *mut c_void {
        Box::into_raw(Box::new(Reg {
            core: self.core.clone(),
            cb: UnsafeCell::new(cb),
        }))
        .cast()
    }

    /// After a registration call: on failure the box is still ours (L6).
    fn registered<C>(&self, rc: c_int, ud: *mut Reg<C>) -> Result<()> {
        if rc == 0 {
            return Ok(()); // the host holds the box until destroy (L1)
        }
        // SAFETY: the registration failed, so the host did not take user_data
        // and will never call destroy (L6): the box is still ours.
        drop(unsafe { Box::from_raw(ud) });
        Err(Error::from_code(rc))
    }
}

/// The fd trampoline for a watch's (closure) type, which has no name.
fn on_fd_of<P, T, H>(_: &OwnedWatch<H, T>) -> FdTrampoline
where
    P: Plugin,
    T: 'static,
    H: FnMut(&mut P, &mut Ctx<P>, &mut T, Readiness) -> Result<()> + 'static,
{
    tramp::on_fd_owned::<P, T, H>
}

type FdTrampoline =
    unsafe extern "C" fn(*mut sys::uvp_ctx, c_int, c_int, c_int, *mut c_void) -> c_int;

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
    /// the reference must not be kept past that, and the host's table must
    /// be at least `size_of::<uvp_api>()` bytes (`api.size`; a host of this
    /// SDK's ABI minor or newer): an older host's table is shorter.
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
        // SAFETY: caller promises ctx and api are valid for this call;
        // `publish` is an ABI 1.0 entry, in every table, read on its own.
        match unsafe { std::ptr::addr_of!((*self.api).publish).read() } {
            // SAFETY: as above; data is (ptr, len) and copied by the host.
            Some(f) => unsafe { f(self.ctx, topic.0, data.as_ptr().cast(), data.len()) },
            None => sys::UVP_EINVAL,
        }
    }
}
