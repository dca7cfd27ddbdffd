//! Remotes: the thread-safe way into a plugin's loop (contract R1-R6, T5).
//!
//! ```text
//!   loop thread:  ctx.remote()? ──► Remote<P> ──clone──► other threads
//!                                      │ post(closure) / publish(bytes)
//!                                      ▼
//!   host queue (bounded, per-producer FIFO) ──► loop thread:
//!        closure(&mut P, &mut Ctx<P>), then the box is dropped (destroy)
//!        — or, once the plugin stopped, only dropped (R4)
//! ```
//!
//! A [`Remote`] is one reference on the host's `uvp_remote`: `Clone` takes
//! another (`remote_acquire`), `Drop` gives it back (`remote_release`), from
//! any thread, also after the plugin unloaded or the host closed (R5).

use std::fmt;
use std::marker::PhantomData;
use std::os::raw::{c_int, c_void};
use std::rc::Rc;

use crate::ctx::{api_fn, Core, Ctx};
use crate::event::Topic;
use crate::panic::{catch_status, catch_void, dispatch, drop_reporting, Report};
use crate::{sys, Error, Plugin, Result};

/// What a post or remote publish does when the plugin's queue is full (R2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PostMode {
    /// Fail at once with [`Error::Again`] (`UVP_POST_NONBLOCK`).
    NonBlock,
    /// Wait for room (`UVP_POST_BLOCK`). Refused with [`Error::Invalid`] on
    /// the loop thread, where waiting could never end.
    Block,
}

impl PostMode {
    fn raw(self) -> c_int {
        (match self {
            PostMode::NonBlock => sys::UVP_POST_NONBLOCK,
            PostMode::Block => sys::UVP_POST_BLOCK,
        }) as c_int
    }
}

/// A failed [`Remote::try_post`]: the host did not take the closure (R3),
/// so it comes back, unrun, for a retry or to be dropped.
pub struct PostError<F> {
    error: Error,
    closure: F,
}

impl<F> PostError<F> {
    /// Why the post failed: [`Error::Again`] (queue full, non-blocking),
    /// [`Error::Closed`] (the plugin stopped or the host closed) or
    /// [`Error::Invalid`].
    pub fn error(&self) -> Error {
        self.error.clone()
    }

    /// The closure that was not posted.
    pub fn into_inner(self) -> F {
        self.closure
    }

    /// Both parts.
    pub fn into_parts(self) -> (Error, F) {
        (self.error, self.closure)
    }
}

impl<F> fmt::Debug for PostError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostError")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<F> fmt::Display for PostError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "post failed: {}", self.error)
    }
}

impl<F> std::error::Error for PostError<F> {}

/// The remote entries of `uvp_api`, by value.
#[derive(Clone, Copy)]
struct RemoteApi {
    remote_acquire: Option<unsafe extern "C" fn(*mut sys::uvp_remote) -> c_int>,
    remote_release: Option<unsafe extern "C" fn(*mut sys::uvp_remote)>,
    remote_post: Option<
        unsafe extern "C" fn(
            *mut sys::uvp_remote,
            sys::uvp_post_cb,
            *mut c_void,
            sys::uvp_destroy_fn,
            c_int,
        ) -> c_int,
    >,
    remote_publish: Option<
        unsafe extern "C" fn(
            *mut sys::uvp_remote,
            sys::uvp_topic,
            *const c_void,
            usize,
            c_int,
        ) -> c_int,
    >,
}

/// A thread-safe handle into one plugin instance's loop: from any thread,
/// [`post`](Remote::post) a closure that runs on the loop thread with
/// `&mut P` and the [`Ctx`], or [`publish`](Remote::publish) an event as
/// the plugin.
///
/// Get one on the loop thread with [`Ctx::remote`]; it is `Send + Sync +
/// Clone`. Each value holds one reference on the host's remote: `clone`
/// takes another (`remote_acquire`), drop gives it back
/// (`remote_release`). A remote stays valid, and may be dropped on any
/// thread, after its plugin stopped and after the host closed (R5): posts
/// then fail with [`Error::Closed`]. Drop every clone your threads hold
/// (join them) before the plugin unloads if it is unload-safe, or the host
/// keeps the object mapped until the last one goes (U4).
///
/// ```
/// fn needs<T: Send + Sync + Clone>() {}
/// struct P;
/// needs::<uvplug::Remote<P>>();
/// ```
pub struct Remote<P> {
    /// The host's remote; NULL only for a clone whose acquire failed (a
    /// dead handle: every call fails with `Invalid`, drop does nothing).
    raw: *mut sys::uvp_remote,
    /// The four thread-safe entries, copied out of the host's table when
    /// the remote was made: remotes outlive the instance and its table
    /// (R5 allows `remote_release` after host close), and other threads
    /// never read the table itself.
    api: RemoteApi,
    /// The instance's core, dereferenced only on the loop thread by a post
    /// callback, which runs only while the instance is alive (R4).
    core: *const Core,
    _p: PhantomData<fn(P) -> P>,
}

// SAFETY: the pointers are only copied off the loop thread; `raw` is only
// passed to the thread-safe remote_* entries (T5); `core` is dereferenced
// only by post callbacks on the loop thread. No `P` is ever touched here.
unsafe impl<P> Send for Remote<P> {}
// SAFETY: as for Send: `&Remote` allows only the thread-safe entries.
unsafe impl<P> Sync for Remote<P> {}

impl<P> fmt::Debug for Remote<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Remote").field("raw", &self.raw).finish()
    }
}

impl<P> Clone for Remote<P> {
    /// Takes one more reference (`remote_acquire`); works on any thread.
    fn clone(&self) -> Self {
        let raw = match (self.raw.is_null(), self.api.remote_acquire) {
            (false, Some(acquire)) => {
                // SAFETY: `self` holds a reference, so `raw` is valid (R5);
                // remote_acquire is callable from any thread (T5).
                if unsafe { acquire(self.raw) } == 0 {
                    self.raw
                } else {
                    std::ptr::null_mut()
                }
            }
            _ => std::ptr::null_mut(),
        };
        Remote {
            raw,
            api: self.api,
            core: self.core,
            _p: PhantomData,
        }
    }
}

impl<P> Drop for Remote<P> {
    /// Gives the reference back (`remote_release`); works on any thread,
    /// also after the host closed (R5).
    fn drop(&mut self) {
        if self.raw.is_null() {
            return;
        }
        if let Some(release) = self.api.remote_release {
            // SAFETY: this value holds one reference on `raw`, given up here
            // exactly once; remote_release is callable from any thread.
            unsafe { release(self.raw) };
        }
    }
}

/// A posted closure, boxed into the post's user_data.
struct PostBox<F> {
    core: *const Core,
    f: Option<F>,
}

impl<P: Plugin> Remote<P> {
    /// Posts `f` to run on the loop thread with `&mut P` and the plugin's
    /// [`Ctx`], like any handler (never while another handler of the
    /// instance runs). Posts from one thread run in the order made (R1).
    ///
    /// On success the host owns the closure: it runs once and is then
    /// dropped on the loop thread, or, if the plugin stops before it ran,
    /// it is only dropped, on the loop thread, before the state is (R4). On
    /// failure ([`Error::Again`] for a full queue with
    /// [`PostMode::NonBlock`], [`Error::Closed`] once the plugin stopped or
    /// the host closed, [`Error::Invalid`]) the host took nothing (R3): the
    /// closure is dropped here, on the calling thread. Use
    /// [`try_post`](Remote::try_post) to get it back instead.
    pub fn post<F>(&self, f: F, mode: PostMode) -> Result<()>
    where
        F: FnOnce(&mut P, &mut Ctx<P>) -> Result<()> + Send + 'static,
    {
        self.try_post(f, mode).map_err(|e| e.error)
    }

    /// [`post`](Remote::post), but a failed post hands the closure back
    /// inside the error (e.g. to retry after [`Error::Again`]).
    pub fn try_post<F>(&self, f: F, mode: PostMode) -> std::result::Result<(), PostError<F>>
    where
        F: FnOnce(&mut P, &mut Ctx<P>) -> Result<()> + Send + 'static,
    {
        let post = match (self.raw.is_null(), self.api.remote_post) {
            (false, Some(post)) => post,
            _ => {
                return Err(PostError {
                    error: Error::Invalid,
                    closure: f,
                })
            }
        };
        let ud = Box::into_raw(Box::new(PostBox {
            core: self.core,
            f: Some(f),
        }));
        // SAFETY: `self` holds a reference, so `raw` is valid; remote_post is
        // thread-safe (T5). `ud` is a live Box<PostBox<F>> that the host owns
        // only on success; `on_post::<P, F>` and `destroy_post::<F>` are
        // instantiated for exactly that type.
        let rc = unsafe {
            post(
                self.raw,
                Some(on_post::<P, F>),
                ud.cast(),
                Some(destroy_post::<F>),
                mode.raw(),
            )
        };
        if rc == 0 {
            return Ok(());
        }
        // SAFETY: the post failed, so the host kept nothing and will call
        // nothing (R3): the box is still ours, and no one else saw it.
        let b = unsafe { Box::from_raw(ud) };
        match b.f {
            Some(closure) => Err(PostError {
                error: Error::from_code(rc),
                closure,
            }),
            None => unreachable!("a closure is taken only by its post callback"),
        }
    }

    /// Publishes a copy of `data` on `topic` as the plugin, from any thread
    /// (`remote_publish`). Subscribers run on the loop thread; events from
    /// one thread arrive in order (R1). Fails with [`Error::Again`] (full,
    /// non-blocking), [`Error::Closed`], [`Error::MsgSize`] or
    /// [`Error::Invalid`]; `data` is copied either way (L9).
    pub fn publish(&self, topic: &Topic, data: &[u8], mode: PostMode) -> Result<()> {
        let publish = match (self.raw.is_null(), self.api.remote_publish) {
            (false, Some(publish)) => publish,
            _ => return Err(Error::Invalid),
        };
        // SAFETY: `raw` valid (a reference is held); thread-safe entry (T5);
        // data is (ptr, len), copied before return.
        let rc = unsafe {
            publish(
                self.raw,
                topic.0,
                data.as_ptr().cast(),
                data.len(),
                mode.raw(),
            )
        };
        Error::check(rc)
    }
}

/// Post callback: runs the closure as a handler of the owner (T1).
extern "C" fn on_post<P, F>(ctx: *mut sys::uvp_ctx, ud: *mut c_void) -> c_int
where
    P: Plugin,
    F: FnOnce(&mut P, &mut Ctx<P>) -> Result<()> + Send + 'static,
{
    catch_status(|| {
        // SAFETY: ud is the Box<PostBox<F>> try_post leaked; the host calls
        // cb at most once and destroy only after it (R1, R4), both on this
        // (the loop) thread, so this is the only reference.
        let Some(b) = (unsafe { ud.cast::<PostBox<F>>().as_mut() }) else {
            return sys::UVP_EINVAL;
        };
        // SAFETY: `b.core` came from Rc::into_raw of the instance's core
        // (Ctx::remote) and the instance holds a strong reference until
        // on_unload; the host runs a post callback only while the plugin
        // has not stopped (R4), so before on_unload: the count is >= 1.
        let core = unsafe {
            Rc::increment_strong_count(b.core);
            Rc::from_raw(b.core)
        };
        if core.raw != ctx {
            return sys::UVP_EINVAL; // not the owner's ctx: never run it
        }
        let Some(f) = b.f.take() else {
            return sys::UVP_EINVAL;
        };
        dispatch::<P>(&core, "a remote post", Report::Status, move |p, cx| {
            f(p, cx)
        })
    })
}

/// Post destroy: drops the box (and the closure, if it never ran: R4),
/// on the loop thread; a panic in the closure's drop is reported to the
/// host as a fault of the owner (F7).
extern "C" fn destroy_post<F>(ud: *mut c_void) {
    catch_void(|| {
        if ud.is_null() {
            return;
        }
        // SAFETY: ud is the Box<PostBox<F>> of try_post; the host calls
        // destroy exactly once, after the callback if it ran (R4, L1).
        let b = unsafe { Box::from_raw(ud.cast::<PostBox<F>>()) };
        // SAFETY: as in on_post: destroy runs on the loop thread before the
        // owner's on_unload (R4), while the instance holds its core.
        let core = unsafe {
            Rc::increment_strong_count(b.core);
            Rc::from_raw(b.core)
        };
        drop_reporting(&core, b, "a posted closure");
    })
}

impl<P: Plugin> Ctx<P> {
    /// A [`Remote`] of this instance, holding one reference
    /// (`remote_new`): the way for other threads to reach the loop. Every
    /// call returns a handle on the same host remote. `Err(Closed)` once
    /// the plugin stops; `Err(Invalid)` from a host without remotes.
    ///
    /// ```
    /// # use uvplug::prelude::*;
    /// struct P { from_thread: u32 }
    /// impl Plugin for P {
    ///     fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
    ///         let remote = ctx.remote()?;
    ///         std::thread::spawn(move || {
    ///             let add = |me: &mut P, _: &mut Ctx<P>| {
    ///                 me.from_thread += 1;
    ///                 Ok(())
    ///             };
    ///             remote.post(add, PostMode::Block)
    ///         })
    ///         .join()
    ///         .unwrap()?;
    ///         Ok(P { from_thread: 0 })
    ///     }
    /// }
    /// let mut host = uvplug::testing::TestHost::new();
    /// let p = host.load::<P>("").unwrap();
    /// host.run_until_idle();
    /// assert_eq!(host.state(&p).from_thread, 1);
    /// ```
    pub fn remote(&self) -> Result<Remote<P>> {
        let remote_new = api_fn!(self.core, remote_new)?;
        let api = RemoteApi {
            remote_acquire: Some(api_fn!(self.core, remote_acquire)?),
            remote_release: Some(api_fn!(self.core, remote_release)?),
            remote_post: Some(api_fn!(self.core, remote_post)?),
            remote_publish: Some(api_fn!(self.core, remote_publish)?),
        };
        let mut raw: *mut sys::uvp_remote = std::ptr::null_mut();
        // SAFETY: a Ctx exists only while the instance is alive, so ctx is
        // valid (T1); out is a live pointer, written on success only.
        let rc = unsafe { remote_new(self.core.raw, &mut raw) };
        Error::check(rc)?;
        if raw.is_null() {
            return Err(Error::Invalid);
        }
        // A pointer from Rc::into_raw (what on_post's increment_strong_count
        // requires), without keeping the extra count.
        let core = Rc::into_raw(self.core.clone());
        // SAFETY: `core` came from into_raw just above; the Ctx still holds
        // a strong reference, so this only undoes the clone.
        unsafe { Rc::decrement_strong_count(core) };
        Ok(Remote {
            raw,
            api,
            core,
            _p: PhantomData,
        })
    }
}
