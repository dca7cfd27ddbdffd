//! `faulty`: a plugin that misbehaves on command, for the host's tests.
//!
//! Subscribes to `faulty.cmd`; payloads:
//! - `panic`: panics (`faulty: asked to panic`); the SDK returns `UVP_EPANIC`;
//! - `error`: the handler returns `Error::Invalid` (`UVP_EINVAL`);
//! - `wrongthread`: a spawned thread calls the loop-only `publish` through
//!   the raw table; after joining it, publishes `wrongthread=<code>` on
//!   `faulty.out` (the host must answer `UVP_EWRONGTHREAD`, -4001).

use uvplug::prelude::*;

/// The faulty plugin's state.
pub struct Faulty {
    out: Topic,
    _cmd: Subscription,
}

fn command(me: &mut Faulty, ctx: &mut Ctx<Faulty>, ev: &Event) -> Result<()> {
    match ev.data() {
        b"panic" => panic!("faulty: asked to panic"),
        b"error" => Err(Error::Invalid),
        b"wrongthread" => {
            let raw = ctx.raw();
            let out = me.out;
            // SAFETY: the thread is joined before this handler returns, so
            // the instance (ctx and table) outlives every use of `raw`; the
            // call itself is the point: the host must refuse it (T2).
            let rc =
                std::thread::spawn(move || unsafe { raw.publish(out, b"from another thread") })
                    .join()
                    .unwrap_or(Error::Panic.code());
            ctx.publish(&me.out, format!("wrongthread={rc}").as_bytes())
        }
        other => {
            ctx.log_warn(format_args!(
                "faulty: unknown command {:?}",
                String::from_utf8_lossy(other)
            ));
            Ok(())
        }
    }
}

impl Plugin for Faulty {
    fn init(ctx: &mut Ctx<Self>, _config: &str) -> Result<Self> {
        let cmd = ctx.topic("faulty.cmd")?;
        let out = ctx.topic("faulty.out")?;
        let sub = ctx.subscribe(&cmd, command)?;
        Ok(Faulty { out, _cmd: sub })
    }
}

export_plugin!(Faulty, name = "faulty", version = env!("CARGO_PKG_VERSION"));

#[cfg(test)]
mod tests {
    use super::*;
    use uvplug::sys;
    use uvplug::testing::{FaultPolicy, TestHost};

    #[test]
    fn panic_is_caught_and_quarantines() {
        let mut h = TestHost::new();
        let p = h.load::<Faulty>("").unwrap();
        h.publish("faulty.cmd", b"panic").unwrap();
        h.run_until_idle();
        assert_eq!(h.stats(p.id()).panics, 1);
        assert!(h.logged("faulty: asked to panic"));
        assert!(!h.is_loaded(p.id()));
        assert_eq!(h.live_registrations(), 0);
        assert_eq!(h.destroy_calls(), 1);
    }

    #[test]
    fn error_is_counted_and_plugin_keeps_running() {
        let mut h = TestHost::new();
        h.set_fault_policy(FaultPolicy::Log);
        let p = h.load::<Faulty>("").unwrap();
        h.publish("faulty.cmd", b"error").unwrap();
        h.publish("faulty.cmd", b"panic").unwrap();
        h.publish("faulty.cmd", b"error").unwrap();
        h.run_until_idle();
        let st = h.stats(p.id());
        assert_eq!(
            (st.errors, st.panics, st.last_error),
            (3, 1, sys::UVP_EINVAL)
        );
        assert!(h.is_loaded(p.id()));
    }

    #[test]
    fn wrong_thread_call_gets_ewrongthread() {
        let mut h = TestHost::new();
        let p = h.load::<Faulty>("").unwrap();
        h.publish("faulty.cmd", b"wrongthread").unwrap();
        h.run_until_idle();
        assert_eq!(
            h.published("faulty.out"),
            vec![b"wrongthread=-4001".to_vec()]
        );
        assert_eq!(h.stats(p.id()).wrong_thread, 1);
    }
}
