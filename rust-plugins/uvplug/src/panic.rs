//! The `extern "C"` trampolines the host calls. No panic and no unwinding
//! ever leaves one of them: every body runs under `catch_unwind`; hooks
//! that return a status turn a panic into `UVP_EPANIC` and log its message
//! through the host; destroy, free and on_unload, which cannot return a
//! status, swallow it (logging when a context is at hand).
//!
//! `AssertUnwindSafe` is sound in every use below: after a panic nothing
//! the closure touched is observed in a broken state by safe code of the
//! SDK (the busy flag is reset by a drop guard, boxes are either owned by
//! the host or already dropped), and plugin state is the plugin's own: the
//! host's fault policy (F1, default quarantine) decides whether it is ever
//! called again. Unwind safety is a lint, not a memory-safety property.

use std::any::Any;
use std::cell::Cell;
use std::os::raw::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::{slice, str};

use crate::ctx::{Core, Ctx, Level, Once, OwnedWatch, Reg};
use crate::event::{Event, Readiness};
use crate::{sys, Plugin, Result};

/// The message of a panic payload (`&str` or `String`, as `panic!` makes).
pub(crate) fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

/// Drops a panic payload without letting a panicking `Drop` escape.
pub(crate) fn discard(payload: Box<dyn Any + Send>) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(again);
    }
}

/// Runs `f` and turns a panic into `UVP_EPANIC` (the outermost net of every
/// status-returning trampoline; panics of plugin code are caught closer, in
/// `dispatch`, where the message can be logged).
pub(crate) fn catch_status(f: impl FnOnce() -> c_int) -> c_int {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(rc) => rc,
        Err(payload) => {
            discard(payload);
            sys::UVP_EPANIC
        }
    }
}

/// Runs `f`, swallowing a panic (for trampolines that return nothing).
pub(crate) fn catch_void(f: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
        discard(payload);
    }
}

struct Busy<'a>(&'a Cell<bool>);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

/// How a hook that panicked (or failed) is reported to the host.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Report {
    /// The hook returns a status: log the message, return the code (the
    /// host counts it, F1, F2).
    Status,
    /// The hook returns nothing (on_stop): report through `api->fault`
    /// (F7) so the host still counts it.
    Fault,
}

/// Hands `&mut P` and a fresh `Ctx<P>` to `f`, unless another handler of
/// this instance already holds them: the host never dispatches
/// re-entrantly (D2), and if one ever did the SDK refuses (log +
/// `UVP_EBUSY`) rather than create a second `&mut P`.
pub(crate) fn dispatch<P: Plugin>(
    core: &Rc<Core>,
    what: &str,
    report: Report,
    f: impl FnOnce(&mut P, &mut Ctx<P>) -> Result<()>,
) -> c_int {
    if !core.alive() {
        return sys::UVP_ECLOSED;
    }
    if core.busy.get() {
        core.log(
            Level::Error,
            &format!("re-entrant call of {what} refused (contract D2)"),
        );
        return sys::UVP_EBUSY;
    }
    let state = core.state.get();
    if state.is_null() {
        core.log(
            Level::Error,
            &format!("{what} called before init returned; refused"),
        );
        return sys::UVP_EBUSY;
    }
    core.busy.set(true);
    let busy = Busy(&core.busy);
    let mut ctx = Ctx::new(core.clone());
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `state` is the Box<P> on_init leaked and only on_unload
        // frees (after every callback, A10). `busy` was false and is now
        // held, so this is the only live reference to the state.
        let p = unsafe { &mut *state.cast::<P>() };
        f(p, &mut ctx)
    }));
    drop(ctx);
    drop(busy);
    match r {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => {
            if e.message().is_some() {
                core.log(Level::Warn, &format!("{what} failed: {e}"));
            }
            e.status()
        }
        Err(payload) => {
            let msg = format!("panic in {what}: {}", message(&*payload));
            discard(payload);
            match report {
                Report::Status => core.log(Level::Error, &msg),
                Report::Fault => core.fault(sys::UVP_EPANIC, &msg),
            }
            sys::UVP_EPANIC
        }
    }
}

/// `on_init`: builds the core, parses the config as UTF-8, runs
/// `P::init` and boxes the state.
pub(crate) extern "C" fn on_init<P: Plugin>(
    ctx: *mut sys::uvp_ctx,
    api: *const sys::uvp_api,
    config: *const c_char,
    len: usize,
    out_state: *mut *mut c_void,
) -> c_int {
    catch_status(|| {
        if out_state.is_null() {
            return sys::UVP_EINVAL;
        }
        // SAFETY: the host passes its ctx and table, valid until on_unload
        // returns (plugin.h, on_init OWNERSHIP); Core::new checks NULL and
        // the table's size before reading it.
        let core = match unsafe { Core::new(ctx, api) } {
            Ok(core) => Rc::new(core),
            Err(e) => return e.status(),
        };
        let bytes: &[u8] = if len == 0 {
            &[]
        } else if config.is_null() {
            core.kill();
            return sys::UVP_EINVAL;
        } else {
            // SAFETY: the host gives `len` bytes at `config`, valid for this
            // call; the slice does not outlive it.
            unsafe { slice::from_raw_parts(config.cast::<u8>(), len) }
        };
        let Ok(cfg) = str::from_utf8(bytes) else {
            core.log(Level::Error, "config is not valid UTF-8");
            core.kill();
            return sys::UVP_EINVAL;
        };
        let mut cx = Ctx::<P>::new(core.clone());
        let r = catch_unwind(AssertUnwindSafe(|| P::init(&mut cx, cfg)));
        drop(cx);
        match r {
            Ok(Ok(p)) => {
                core.state.set(Box::into_raw(Box::new(p)).cast());
                let inst = Box::into_raw(Box::new(core));
                // SAFETY: out_state checked non-null; the host reads it only
                // on success.
                unsafe { *out_state = inst.cast() };
                0
            }
            Ok(Err(e)) => {
                if e.message().is_some() {
                    core.log(Level::Error, &format!("init failed: {e}"));
                }
                core.kill();
                e.status()
            }
            Err(payload) => {
                core.log(
                    Level::Error,
                    &format!("panic in init: {}", message(&*payload)),
                );
                discard(payload);
                core.kill();
                sys::UVP_EPANIC
            }
        }
    })
}

/// Borrows the instance's core from the state pointer on_init returned.
///
/// # Safety
///
/// `state` is NULL or the `Box<Rc<Core>>` of on_init, not yet freed.
unsafe fn instance<'a>(state: *mut c_void) -> Option<&'a Rc<Core>> {
    // SAFETY: per this function's contract.
    unsafe { state.cast::<Rc<Core>>().as_ref() }
}

/// `on_start`: runs `Plugin::start`.
pub(crate) extern "C" fn on_start<P: Plugin>(_ctx: *mut sys::uvp_ctx, state: *mut c_void) -> c_int {
    catch_status(|| {
        // SAFETY: the host passes the state on_init returned; on_unload
        // (which frees it) has not run yet (A10).
        match unsafe { instance(state) } {
            Some(core) => dispatch::<P>(core, "start", Report::Status, |p, cx| p.start(cx)),
            None => sys::UVP_EINVAL,
        }
    })
}

/// `on_stop`: runs `Plugin::stop`.
pub(crate) extern "C" fn on_stop<P: Plugin>(_ctx: *mut sys::uvp_ctx, state: *mut c_void) {
    catch_void(|| {
        // SAFETY: as in on_start.
        if let Some(core) = unsafe { instance(state) } {
            dispatch::<P>(core, "stop", Report::Fault, |p, cx| {
                p.stop(cx);
                Ok(())
            });
        }
    })
}

/// `on_unload`: drops the plugin state, last (every destroy already ran).
pub(crate) extern "C" fn on_unload<P: Plugin>(state: *mut c_void) {
    catch_void(|| {
        if state.is_null() {
            return;
        }
        // SAFETY: `state` is the Box<Rc<Core>> on_init leaked; the host
        // calls on_unload once, last (A10), so we take it back here.
        let core: Rc<Core> = *unsafe { Box::from_raw(state.cast::<Rc<Core>>()) };
        // The ctx is no longer valid: from now on nothing calls the host
        // (guards dropped with the state see a dead core and do nothing).
        core.kill();
        if core.busy.get() {
            // A handler up the stack holds &mut P (a host that unloads under
            // a callback, against S3): leak the state rather than alias it.
            eprintln!("uvplug: on_unload while a handler runs; plugin state leaked");
            return;
        }
        let p = core.state.replace(std::ptr::null_mut());
        if p.is_null() {
            return;
        }
        // SAFETY: `p` is the Box<P> on_init leaked; no &mut P exists (busy is
        // false) and the pointer was cleared, so it is freed exactly once.
        let r = catch_unwind(AssertUnwindSafe(|| {
            drop(unsafe { Box::from_raw(p.cast::<P>()) })
        }));
        if let Err(payload) = r {
            eprintln!(
                "uvplug: panic while dropping plugin state: {}",
                message(&*payload)
            );
            discard(payload);
        }
    })
}

/// Borrows a registration's box from its user_data.
///
/// # Safety
///
/// `ud` is NULL or a `Box<Reg<C>>` leaked by `Ctx::boxed` whose destroy has
/// not run.
unsafe fn reg<'a, C>(ud: *mut c_void) -> Option<&'a Reg<C>> {
    // SAFETY: per this function's contract.
    unsafe { ud.cast::<Reg<C>>().as_ref() }
}

/// Subscription callback.
pub(crate) extern "C" fn on_event<P, F>(
    _ctx: *mut sys::uvp_ctx,
    ev: *const sys::uvp_event,
    ud: *mut c_void,
) -> c_int
where
    P: Plugin,
    F: FnMut(&mut P, &mut Ctx<P>, &Event<'_>) -> Result<()> + 'static,
{
    catch_status(|| {
        // SAFETY: ud is the Box<Reg<F>> subscribe leaked; the host calls
        // destroy only after the last callback (L1, L2), so it is live.
        let Some(reg) = (unsafe { reg::<F>(ud) }) else {
            return sys::UVP_EINVAL;
        };
        // SAFETY: the host's event and its data are valid for this call
        // (L7); the borrow ends with it.
        let Some(ev) = (unsafe { Event::from_raw(ev) }) else {
            return sys::UVP_EINVAL;
        };
        dispatch::<P>(&reg.core, "a subscriber", Report::Status, |p, cx| {
            // SAFETY: dispatch holds `busy` for this instance, so no other
            // handler of it (this closure included) is running: this is the
            // only &mut to the closure.
            let cb = unsafe { &mut *reg.cb.get() };
            cb(p, cx, &ev)
        })
    })
}

/// Repeating timer callback.
pub(crate) extern "C" fn on_timer<P, F>(_ctx: *mut sys::uvp_ctx, ud: *mut c_void) -> c_int
where
    P: Plugin,
    F: FnMut(&mut P, &mut Ctx<P>) -> Result<()> + 'static,
{
    catch_status(|| {
        // SAFETY: as in on_event: the Box<Reg<F>> of timer_start, live (L1).
        let Some(reg) = (unsafe { reg::<F>(ud) }) else {
            return sys::UVP_EINVAL;
        };
        dispatch::<P>(&reg.core, "a timer", Report::Status, |p, cx| {
            // SAFETY: as in on_event (`busy` held).
            let cb = unsafe { &mut *reg.cb.get() };
            cb(p, cx)
        })
    })
}

/// One-shot timer callback: takes the `FnOnce` on its only call.
pub(crate) extern "C" fn on_timer_once<P, F>(_ctx: *mut sys::uvp_ctx, ud: *mut c_void) -> c_int
where
    P: Plugin,
    F: FnOnce(&mut P, &mut Ctx<P>) -> Result<()> + 'static,
{
    catch_status(|| {
        // SAFETY: as in on_event: the Box<Reg<Once<F>>> of timer_start.
        let Some(reg) = (unsafe { reg::<Once<F>>(ud) }) else {
            return sys::UVP_EINVAL;
        };
        dispatch::<P>(&reg.core, "a timer", Report::Status, |p, cx| {
            // SAFETY: as in on_event (`busy` held).
            let once = unsafe { &mut *reg.cb.get() };
            match once.0.take() {
                Some(cb) => cb(p, cx),
                None => Ok(()),
            }
        })
    })
}

/// fd readiness callback: the handler gets the watched object (`()` for
/// [`Ctx::watch_raw_fd`]).
pub(crate) extern "C" fn on_fd_owned<P, T, F>(
    _ctx: *mut sys::uvp_ctx,
    _fd: c_int,
    status: c_int,
    events: c_int,
    ud: *mut c_void,
) -> c_int
where
    P: Plugin,
    T: 'static,
    F: FnMut(&mut P, &mut Ctx<P>, &mut T, Readiness) -> Result<()> + 'static,
{
    catch_status(|| {
        // SAFETY: as in on_event: the Box<Reg<OwnedWatch<F, T>>> of
        // fd_watch, live until destroy (L1).
        let Some(reg) = (unsafe { reg::<OwnedWatch<F, T>>(ud) }) else {
            return sys::UVP_EINVAL;
        };
        dispatch::<P>(&reg.core, "an fd watch", Report::Status, |p, cx| {
            // SAFETY: as in on_event (`busy` held).
            let w = unsafe { &mut *reg.cb.get() };
            (w.handler)(p, cx, &mut w.io, Readiness { status, events })
        })
    })
}

/// destroy: drops a registration's box, exactly once (L1). Guards the
/// closure owned cancel at once (calling the host from a destroy is
/// allowed, plugin.h).
pub(crate) extern "C" fn destroy<C>(ud: *mut c_void) {
    catch_void(|| {
        if ud.is_null() {
            return;
        }
        // SAFETY: `ud` is the Box<Reg<C>> leaked by Ctx::boxed; the host
        // calls destroy exactly once, after the last callback (L1).
        let reg = unsafe { Box::from_raw(ud.cast::<Reg<C>>()) };
        let core = reg.core.clone();
        drop_reporting(&core, reg, "a handler");
    })
}

/// Drops `value` (a box the host just gave back); a panic in its drop is
/// reported to the host as a fault (F7) instead of unwinding into C.
pub(crate) fn drop_reporting<B>(core: &Core, value: B, what: &str) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
        let msg = format!("panic while dropping {what}: {}", message(&*payload));
        discard(payload);
        core.fault(sys::UVP_EPANIC, &msg);
    }
}

/// Payload free function of `publish_owned`: gives the `Box<[u8]>` back to
/// Rust's allocator (never the host's `free`).
pub(crate) extern "C" fn free_boxed(data: *mut c_void, len: usize, _hint: *mut c_void) {
    catch_void(|| {
        if data.is_null() {
            return;
        }
        let ptr = std::ptr::slice_from_raw_parts_mut(data.cast::<u8>(), len);
        // SAFETY: (data, len) come from Box::<[u8]>::into_raw in
        // publish_owned, and the host calls free_fn exactly once (L8).
        drop(unsafe { Box::from_raw(ptr) });
    })
}
