//! `ref-plugin` (`ref_plugin`): the Rust twin of the C reference plugin of
//! the conformance suite. Both follow this spec exactly:
//!
//! - init: intern `ref.in`, `ref.out`, `ref.cmd`; subscribe to `ref.in` and
//!   `ref.cmd`. The config is ignored.
//! - each `ref.in` event: count += 1, then publish a copy of the payload on
//!   `ref.out`.
//! - `ref.cmd` payloads (exact ASCII):
//!   - `count`: publish `count=<N>` on `ref.out`;
//!   - `unsub`: cancel the `ref.in` subscription and publish `unsub=<rc>`
//!     (0 on success, else the status code, e.g. -4003 the second time);
//!   - `fail`: the handler returns `UVP_EINVAL`;
//!   - `panic`: panics (the SDK returns `UVP_EPANIC`);
//!   - `timer <ms>`: a one-shot timer after `ms` publishes `timer` on
//!     `ref.out` (a bad number: the handler returns `UVP_EINVAL`);
//!   - `owned`: `publish_owned` of `owned` on `ref.out`;
//!   - `wrongthread`: a spawned thread calls `api->publish` on `ref.out`;
//!     after joining it, publish `wrongthread=<rc>` (rc must be -4001);
//!   - anything else: ignored (returns 0).
//! - exports `uint64_t uvp_ref_destroyed(void)` (destroy callbacks of its
//!   registrations run so far, process-wide) and `uint64_t
//!   uvp_ref_unloaded(void)` (on_unload calls so far).

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use uvplug::prelude::*;

static DESTROYED: AtomicU64 = AtomicU64::new(0);
static UNLOADED: AtomicU64 = AtomicU64::new(0);

/// Destroy callbacks of this plugin's registrations run so far.
#[no_mangle]
pub extern "C" fn uvp_ref_destroyed() -> u64 {
    DESTROYED.load(Ordering::SeqCst)
}

/// `on_unload` calls so far.
#[no_mangle]
pub extern "C" fn uvp_ref_unloaded() -> u64 {
    UNLOADED.load(Ordering::SeqCst)
}

/// Captured by every handler closure: the closure is dropped exactly when
/// its registration's destroy runs (L1), so this counts destroys. It is
/// armed only once the host accepted the registration: when a registration
/// fails the SDK drops the closure itself, and that is no destroy.
struct DestroyCount(Rc<Cell<bool>>);

impl Drop for DestroyCount {
    fn drop(&mut self) {
        if self.0.get() {
            DESTROYED.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn counted() -> (DestroyCount, Rc<Cell<bool>>) {
    let armed = Rc::new(Cell::new(false));
    (DestroyCount(armed.clone()), armed)
}

/// The reference plugin's state.
pub struct RefPlugin {
    count: u64,
    out: Topic,
    input: Option<Subscription>,
    input_id: u64,
    _cmd: Subscription,
}

impl Drop for RefPlugin {
    fn drop(&mut self) {
        // The SDK drops the state in on_unload, and only there.
        UNLOADED.fetch_add(1, Ordering::SeqCst);
    }
}

fn status(r: Result<()>) -> i32 {
    match r {
        Ok(()) => 0,
        Err(e) => e.code(),
    }
}

fn command(me: &mut RefPlugin, ctx: &mut Ctx<RefPlugin>, cmd: &[u8]) -> Result<()> {
    match cmd {
        b"count" => ctx.publish(&me.out, format!("count={}", me.count).as_bytes()),
        b"unsub" => {
            let rc = match me.input.take() {
                Some(sub) => status(sub.cancel()),
                None => status(ctx.cancel(me.input_id)),
            };
            ctx.publish(&me.out, format!("unsub={rc}").as_bytes())
        }
        b"fail" => Err(Error::Invalid),
        b"panic" => panic!("ref-plugin: asked to panic"),
        b"owned" => ctx.publish_owned(&me.out, b"owned".to_vec()),
        b"wrongthread" => {
            let raw = ctx.raw();
            let out = me.out;
            // SAFETY: joined before the handler returns, while the instance
            // is loaded; the host must refuse the call (T2).
            let rc = std::thread::spawn(move || unsafe { raw.publish(out, b"wrongthread") })
                .join()
                .unwrap_or(Error::Panic.code());
            ctx.publish(&me.out, format!("wrongthread={rc}").as_bytes())
        }
        _ => match cmd.strip_prefix(b"timer ") {
            Some(ms) => {
                let ms: u64 = std::str::from_utf8(ms)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or(Error::Invalid)?;
                let (dc, armed) = counted();
                let timer =
                    ctx.after(Duration::from_millis(ms), move |me: &mut RefPlugin, ctx| {
                        let _dc = &dc;
                        ctx.publish(&me.out, b"timer")
                    })?;
                armed.set(true);
                timer.detach();
                Ok(())
            }
            None => Ok(()),
        },
    }
}

impl Plugin for RefPlugin {
    fn init(ctx: &mut Ctx<Self>, _config: &str) -> Result<Self> {
        let input = ctx.topic("ref.in")?;
        let out = ctx.topic("ref.out")?;
        let cmd = ctx.topic("ref.cmd")?;

        let (dc, armed) = counted();
        let in_sub = ctx.subscribe(&input, move |me: &mut RefPlugin, ctx, ev: &Event| {
            let _dc = &dc;
            me.count += 1;
            ctx.publish(&me.out, ev.data())
        })?;
        armed.set(true);

        let (dc, armed) = counted();
        let cmd_sub = ctx.subscribe(&cmd, move |me: &mut RefPlugin, ctx, ev: &Event| {
            let _dc = &dc;
            command(me, ctx, ev.data())
        })?;
        armed.set(true);

        Ok(RefPlugin {
            count: 0,
            out,
            input_id: in_sub.id(),
            input: Some(in_sub),
            _cmd: cmd_sub,
        })
    }
}

export_plugin!(RefPlugin, name = "ref", version = env!("CARGO_PKG_VERSION"));

#[cfg(test)]
mod tests {
    use super::*;
    use uvplug::sys;
    use uvplug::testing::{FaultPolicy, TestHost};

    fn out(h: &TestHost) -> Vec<String> {
        h.published("ref.out")
            .into_iter()
            .map(|v| String::from_utf8(v).unwrap())
            .collect()
    }

    // The counters are process-wide; every assertion on them lives in this
    // one test so that parallel tests cannot disturb it.
    #[test]
    fn conformance_script() {
        let (d0, u0) = (uvp_ref_destroyed(), uvp_ref_unloaded());
        let mut h = TestHost::new();
        h.set_fault_policy(FaultPolicy::Log);
        let p = h.load::<RefPlugin>("ignored").unwrap();
        for m in ["a", "b", "c"] {
            h.publish("ref.in", m.as_bytes()).unwrap();
        }
        h.publish("ref.cmd", b"count").unwrap();
        h.run_until_idle();
        assert_eq!(out(&h), ["a", "b", "c", "count=3"]);

        h.clear_published();
        h.publish("ref.cmd", b"timer 30").unwrap();
        h.publish("ref.cmd", b"owned").unwrap();
        h.publish("ref.cmd", b"wrongthread").unwrap();
        h.run_until_idle();
        h.advance(Duration::from_millis(30));
        assert_eq!(out(&h), ["owned", "wrongthread=-4001", "timer"]);
        assert_eq!(h.payload_frees(), 1);
        assert_eq!(uvp_ref_destroyed() - d0, 1, "the fired one-shot timer");

        h.clear_published();
        h.publish("ref.cmd", b"unsub").unwrap();
        h.publish("ref.in", b"lost").unwrap();
        h.publish("ref.cmd", b"unsub").unwrap();
        h.publish("ref.cmd", b"count").unwrap();
        h.run_until_idle();
        assert_eq!(out(&h), ["unsub=0", "unsub=-4003", "count=3"]);
        assert_eq!(uvp_ref_destroyed() - d0, 2);

        h.publish("ref.cmd", b"fail").unwrap();
        h.publish("ref.cmd", b"panic").unwrap();
        h.publish("ref.cmd", b"timer x").unwrap();
        h.run_until_idle();
        let st = h.stats(p.id());
        assert_eq!((st.errors, st.panics), (3, 1));
        assert_eq!(st.last_error, sys::UVP_EINVAL);

        assert_eq!(uvp_ref_unloaded(), u0);
        h.unload(p.id()).unwrap();
        assert_eq!(uvp_ref_destroyed() - d0, 3);
        assert_eq!(uvp_ref_unloaded() - u0, 1);
        assert_eq!(h.live_registrations(), 0);
    }
}
