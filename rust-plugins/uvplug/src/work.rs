//! Work offload to the host's thread pool (contract W1-W3, T5, U3).
//!
//! ```text
//!   loop thread: ctx.spawn_work(work, done) ──► work_queue
//!   pool thread:   work() under catch_unwind ──► Ok(T) / panic, kept in the box
//!   loop thread: done(&mut P, &mut Ctx<P>, Ok(T) | Err(Canceled | Panic)),
//!                then the box is dropped (destroy)
//! ```

use std::cell::{Cell, UnsafeCell};
use std::fmt;
use std::os::raw::{c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::thread;

use crate::ctx::{api_fn, Core, Ctx, Level};
use crate::panic::{catch_status, catch_void, discard, dispatch, drop_reporting, message, Report};
use crate::{sys, Error, Plugin, Result};

/// A queued work item, from [`Ctx::spawn_work`]. Loop thread only.
///
/// Dropping the handle does **not** cancel the work: a work item always
/// ends through its `done` closure (W1), which is where its result, or the
/// news that it was cancelled, arrives; there is nothing for a drop to
/// clean up, and a fire-and-forget `spawn_work` would otherwise be
/// cancelled the moment its handle went out of scope. Cancel explicitly
/// with [`cancel`](WorkHandle::cancel).
///
/// ```compile_fail
/// fn needs_send<T: Send>() {}
/// needs_send::<uvplug::WorkHandle>();
/// ```
pub struct WorkHandle {
    id: sys::uvp_id,
    core: Rc<Core>,
}

impl WorkHandle {
    /// The work item's id (a registration id: slot and generation).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Cancels the work (W2): if it has not started it never runs; if it is
    /// running it finishes. Either way `done` runs later with
    /// `Err(Error::Canceled)`, never inside this call. `Err(Stale)` once
    /// `done` has run (W3).
    pub fn cancel(&self) -> Result<()> {
        Error::check(self.core.cancel(self.id))
    }
}

impl fmt::Debug for WorkHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkHandle").field("id", &self.id).finish()
    }
}

/// What the pool thread touches: nothing else of the box.
struct PoolSide<W, T> {
    work: Option<W>,
    out: Option<thread::Result<T>>,
}

/// Boxed into the work item's user_data. The pool thread reaches only
/// `pool` (through a raw field pointer, never a reference to the whole
/// box); everything else belongs to the loop thread.
struct WorkBox<W, T, D> {
    core: Rc<Core>,
    pool: UnsafeCell<PoolSide<W, T>>,
    done: Cell<Option<D>>,
}

impl<P: Plugin> Ctx<P> {
    /// Runs `work` on a thread of the host's pool, then `done` on the loop
    /// thread with `&mut P`, the [`Ctx`] and the outcome (W1):
    ///
    /// - `Ok(value)`: `work` returned `value` (moved across threads, hence
    ///   `T: Send`);
    /// - `Err(Error::Canceled)`: [`WorkHandle::cancel`] or the plugin's
    ///   unload cancelled it; `work` either never ran or ran to the end and
    ///   its value was dropped (W2);
    /// - `Err(Error::Panic)`: `work` panicked; the panic was caught on the
    ///   pool thread and its message is logged.
    ///
    /// `work` gets no `Ctx` (T5): it may hold a [`Remote`](crate::Remote)
    /// to reach the loop, nothing else of the SDK. `done` runs exactly once
    /// (also during unload, after `stop`: an unload waits for running work,
    /// U3), then both closures are dropped on the loop thread.
    ///
    /// Two cases where `done` does not run, both visible to the caller:
    /// `spawn_work` itself returned `Err` (nothing was queued, both
    /// closures are dropped at once), or the work was spawned by an
    /// [`init`](crate::Plugin::init) that then failed: there is no state to
    /// give `done`, so it is dropped unrun on the loop thread when the host
    /// ends the work (contract A9).
    ///
    /// ```
    /// # use uvplug::prelude::*;
    /// struct P { sum: u64 }
    /// impl Plugin for P {
    ///     fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
    ///         ctx.spawn_work(|| (1..=100u64).sum::<u64>(), |me: &mut P, _, r: Result<u64>| {
    ///             me.sum = r?;
    ///             Ok(())
    ///         })?;
    ///         Ok(P { sum: 0 })
    ///     }
    /// }
    /// let mut host = uvplug::testing::TestHost::new();
    /// let p = host.load::<P>("").unwrap();
    /// host.run_until_idle();
    /// assert_eq!(host.state(&p).sum, 5050);
    /// ```
    pub fn spawn_work<W, T, D>(&self, work: W, done: D) -> Result<WorkHandle>
    where
        W: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
        D: FnOnce(&mut P, &mut Ctx<P>, Result<T>) -> Result<()> + 'static,
    {
        let work_queue = api_fn!(self.core, work_queue)?;
        let ud = Box::into_raw(Box::new(WorkBox {
            core: self.core.clone(),
            pool: UnsafeCell::new(PoolSide::<W, T> {
                work: Some(work),
                out: None,
            }),
            done: Cell::new(Some(done)),
        }));
        let mut id: sys::uvp_id = 0;
        // SAFETY: a Ctx exists only while the instance is alive, so ctx is
        // valid (T1). `ud` is a live Box<WorkBox<W, T, D>>, the host's on
        // success (L6); the three trampolines are instantiated for that
        // type. The box is not touched again here: the pool thread may
        // already be using it.
        let rc = unsafe {
            work_queue(
                self.core.raw,
                Some(run_work::<W, T, D>),
                Some(work_done::<P, W, T, D>),
                ud.cast(),
                Some(destroy_work::<W, T, D>),
                &mut id,
            )
        };
        if rc != 0 {
            // SAFETY: work_queue failed, so the host kept nothing, runs
            // nothing and calls no destroy (L6): the box is still ours.
            drop(unsafe { Box::from_raw(ud) });
            return Err(Error::from_code(rc));
        }
        Ok(WorkHandle {
            id,
            core: self.core.clone(),
        })
    }
}

/// Work function: runs on a pool thread (T5). Touches only `pool`.
extern "C" fn run_work<W, T, D>(ud: *mut c_void)
where
    W: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    catch_void(|| {
        let b = ud.cast::<WorkBox<W, T, D>>();
        if b.is_null() {
            return;
        }
        // SAFETY: ud is the live Box<WorkBox> of spawn_work; the host runs
        // work at most once and done/destroy only after it returned (W1),
        // and the loop thread does not touch the box meanwhile, so this is
        // the only access to `pool`. addr_of! projects to the field without
        // a reference to the whole (!Sync) box.
        let pool = unsafe { &mut *UnsafeCell::raw_get(std::ptr::addr_of!((*b).pool)) };
        if let Some(work) = pool.work.take() {
            // AssertUnwindSafe: on a panic nothing of the closure is kept;
            // done learns of it as Err(Panic) and the payload is dropped.
            pool.out = Some(catch_unwind(AssertUnwindSafe(work)));
        }
    })
}

/// Completion: runs `done` as a handler of the instance (loop thread).
extern "C" fn work_done<P, W, T, D>(
    _ctx: *mut sys::uvp_ctx,
    status: c_int,
    ud: *mut c_void,
) -> c_int
where
    P: Plugin,
    W: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
    D: FnOnce(&mut P, &mut Ctx<P>, Result<T>) -> Result<()> + 'static,
{
    catch_status(|| {
        // SAFETY: ud is the Box<WorkBox> of spawn_work; done runs on the
        // loop thread after the work function returned (or never started)
        // and before destroy (W1), so the pool side is ours again.
        let Some(b) = (unsafe { ud.cast::<WorkBox<W, T, D>>().as_ref() }) else {
            return sys::UVP_EINVAL;
        };
        // SAFETY: as above: no other access to `pool` exists now.
        let pool = unsafe { &mut *b.pool.get() };
        // A value whose work was cancelled while running is dropped after
        // done, here on the loop thread (T: Send).
        let mut leftover = None;
        let result: Result<T> = match pool.out.take() {
            Some(Err(payload)) => {
                let msg = format!("panic in work: {}", message(&*payload));
                b.core.log(Level::Error, &msg);
                discard(payload);
                Err(if status != 0 {
                    Error::from_code(status)
                } else {
                    Error::Panic
                })
            }
            Some(Ok(value)) if status == 0 => Ok(value),
            Some(Ok(value)) => {
                leftover = Some(value);
                Err(Error::from_code(status))
            }
            None if status == 0 => Err(Error::Invalid), // done without work
            None => Err(Error::from_code(status)),
        };
        let Some(done) = b.done.take() else {
            return sys::UVP_EINVAL;
        };
        let rc = dispatch::<P>(
            &b.core,
            "a work completion",
            Report::Status,
            move |p, cx| done(p, cx, result),
        );
        drop(leftover);
        rc
    })
}

/// Work destroy: drops the box (the closures, an unclaimed value), once.
extern "C" fn destroy_work<W, T, D>(ud: *mut c_void) {
    catch_void(|| {
        if ud.is_null() {
            return;
        }
        // SAFETY: ud is the Box<WorkBox> of spawn_work; the host calls
        // destroy exactly once, after done (L1, W1).
        let b = unsafe { Box::from_raw(ud.cast::<WorkBox<W, T, D>>()) };
        let core = b.core.clone();
        drop_reporting(&core, b, "a work item");
    })
}
