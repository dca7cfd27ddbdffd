//! `hostile`: the Rust half of the hostile-plugin corpus (issue 12). Its
//! config `case=NAME` picks one way to misbehave at the SDK level;
//! `tests/integration/test_hostile.c` loads it into the real host and
//! checks the host's reaction, the unit tests below check the same on the
//! fake host.
//!
//! Cases (the contract rules they exercise):
//! - `panic_init`, `panic_start`: `init` / `start` panic (A9: `UVP_EINIT`);
//! - `panic_stop`: `stop` panics (F7: reported through `api->fault`);
//! - `panic_handler`: a handler panics on `h.kick` (F1, F6);
//! - `never_ok`: a handler that never returns `Ok` (F2: counted, runs on);
//! - `panic_handler_drop`: a handler's captured value panics in `Drop`
//!   when the unload destroys it (F7);
//! - `panic_state_drop`: the state panics in `Drop` at `on_unload`;
//! - `leak_remote`: keeps a `Remote` forever, never released (U4, R5);
//! - `panic_work`: a work closure panics on the pool thread (W1, T5);
//! - `panic_post`: a posted closure panics on the loop (F1, R1).

use std::sync::Mutex;
use std::time::Duration;
use uvplug::prelude::*;

/// Remotes the `leak_remote` case never releases. Kept reachable (not
/// `mem::forget`) so that valgrind's leak check stays about the host.
static LEAKED: Mutex<Vec<Remote<Hostile>>> = Mutex::new(Vec::new());

/// Panics when dropped.
struct Bomb(&'static str);

impl Drop for Bomb {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("hostile: bomb in drop of {}", self.0);
        }
    }
}

/// The hostile plugin's state.
pub struct Hostile {
    case: String,
    _subs: Vec<Subscription>,
    _bomb: Option<Bomb>,
}

fn kick_handler(me: &mut Hostile, ctx: &mut Ctx<Hostile>, _ev: &Event) -> Result<()> {
    match me.case.as_str() {
        "panic_handler" => panic!("hostile: handler asked to panic"),
        "never_ok" => Err(Error::Invalid),
        "panic_post" => {
            let r = ctx.remote()?;
            r.post(
                |_me: &mut Hostile, _ctx: &mut Ctx<Hostile>| -> Result<()> {
                    panic!("hostile: posted closure panics")
                },
                PostMode::NonBlock,
            )
        }
        "panic_work" => {
            ctx.spawn_work(
                || -> u32 { panic!("hostile: work panics on the pool") },
                |_me: &mut Hostile, ctx: &mut Ctx<Hostile>, r: Result<u32>| {
                    ctx.log_info(format_args!("hostile: work done {:?}", r.err()));
                    Ok(())
                },
            )?;
            Ok(())
        }
        _ => Ok(()),
    }
}

impl Plugin for Hostile {
    fn init(ctx: &mut Ctx<Self>, config: &str) -> Result<Self> {
        let case = config.strip_prefix("case=").unwrap_or(config).to_owned();
        let kick = ctx.topic("h.kick")?;
        let mut subs = vec![ctx.subscribe(&kick, kick_handler)?];
        let mut bomb = None;
        match case.as_str() {
            "panic_init" => panic!("hostile: init asked to panic"),
            "panic_handler_drop" => {
                let b = Bomb("a handler");
                subs.push(
                    ctx.subscribe(&kick, move |_me: &mut Self, _ctx, _ev: &Event| {
                        let _keep = &b;
                        Ok(())
                    })?,
                );
            }
            "panic_state_drop" => bomb = Some(Bomb("the state")),
            "leak_remote" => LEAKED
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(ctx.remote()?),
            "timer_err" => {
                ctx.every(Duration::from_millis(1), |_me: &mut Self, _ctx| {
                    Err(Error::Busy)
                })?
                .detach();
            }
            _ => {}
        }
        Ok(Hostile {
            case,
            _subs: subs,
            _bomb: bomb,
        })
    }

    fn start(&mut self, _ctx: &mut Ctx<Self>) -> Result<()> {
        if self.case == "panic_start" {
            panic!("hostile: start asked to panic");
        }
        Ok(())
    }

    fn stop(&mut self, _ctx: &mut Ctx<Self>) {
        if self.case == "panic_stop" {
            panic!("hostile: stop asked to panic");
        }
    }
}

export_plugin!(
    Hostile,
    name = "hostile",
    version = env!("CARGO_PKG_VERSION")
);

#[cfg(test)]
mod tests {
    use super::*;
    use uvplug::sys;
    use uvplug::testing::{FaultPolicy, TestHost};

    fn kick(h: &mut TestHost) {
        h.publish("h.kick", b"k").unwrap();
        h.run_until_idle();
    }

    #[test]
    fn panic_init_fails_the_load() {
        let mut h = TestHost::new();
        assert_eq!(
            h.load::<Hostile>("case=panic_init").err(),
            Some(Error::Init)
        );
        assert!(h.logged("hostile: init asked to panic"));
        assert_eq!(h.live_registrations(), 0);
    }

    #[test]
    fn panic_start_fails_the_load() {
        let mut h = TestHost::new();
        assert_eq!(
            h.load::<Hostile>("case=panic_start").err(),
            Some(Error::Init)
        );
        assert_eq!(h.live_registrations(), 0);
        assert_eq!(h.destroy_calls(), 1);
    }

    #[test]
    fn panic_stop_is_reported_and_unload_finishes() {
        let mut h = TestHost::new();
        let p = h.load::<Hostile>("case=panic_stop").unwrap();
        h.unload(p.id()).unwrap();
        h.run_until_idle();
        assert!(h.logged("hostile: stop asked to panic"));
        assert!(!h.is_loaded(p.id()));
        assert_eq!(h.live_registrations(), 0);
    }

    #[test]
    fn panic_handler_quarantines() {
        let mut h = TestHost::new();
        let p = h.load::<Hostile>("case=panic_handler").unwrap();
        kick(&mut h);
        assert_eq!(h.stats(p.id()).panics, 1);
        assert!(!h.is_loaded(p.id()));
    }

    #[test]
    fn never_ok_is_counted_and_keeps_running() {
        let mut h = TestHost::new();
        let p = h.load::<Hostile>("case=never_ok").unwrap();
        for _ in 0..3 {
            kick(&mut h);
        }
        let st = h.stats(p.id());
        assert_eq!(
            (st.errors, st.panics, st.last_error),
            (3, 0, sys::UVP_EINVAL)
        );
        assert!(h.is_loaded(p.id()));
    }

    #[test]
    fn panic_in_handler_drop_is_reported() {
        let mut h = TestHost::new();
        let p = h.load::<Hostile>("case=panic_handler_drop").unwrap();
        h.unload(p.id()).unwrap();
        h.run_until_idle();
        assert!(h.logged("panic while dropping a handler"));
        assert_eq!(h.live_registrations(), 0);
        assert_eq!(h.destroy_calls(), 2);
    }

    #[test]
    fn panic_in_state_drop_is_contained() {
        let mut h = TestHost::new();
        let p = h.load::<Hostile>("case=panic_state_drop").unwrap();
        h.unload(p.id()).unwrap();
        h.run_until_idle();
        assert!(!h.is_loaded(p.id()));
        assert_eq!(h.live_registrations(), 0);
    }

    #[test]
    fn leaked_remote_keeps_a_reference() {
        let mut h = TestHost::new();
        let p = h.load::<Hostile>("case=leak_remote").unwrap();
        assert_eq!(h.remote_refs(p.id()), 1);
        h.unload(p.id()).unwrap();
        h.run_until_idle();
        assert!(!h.is_loaded(p.id()));
    }

    #[test]
    fn panic_in_work_reaches_done_as_an_error() {
        let mut h = TestHost::new();
        h.set_fault_policy(FaultPolicy::Log);
        let p = h.load::<Hostile>("case=panic_work").unwrap();
        h.publish("h.kick", b"k").unwrap();
        for _ in 0..100 {
            h.run_until_idle();
            if h.logged("hostile: work done") {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        assert!(h.logged("hostile: work done Some(Panic)"));
        assert!(h.is_loaded(p.id()));
    }

    #[test]
    fn panic_in_post_quarantines() {
        let mut h = TestHost::new();
        let p = h.load::<Hostile>("case=panic_post").unwrap();
        kick(&mut h);
        assert!(h.logged("hostile: posted closure panics"));
        assert_eq!(h.stats(p.id()).panics, 1);
        assert!(!h.is_loaded(p.id()));
    }

    #[test]
    fn failing_timer_is_counted_every_tick() {
        let mut h = TestHost::new();
        let p = h.load::<Hostile>("case=timer_err").unwrap();
        for _ in 0..3 {
            h.advance(Duration::from_millis(1));
            h.run_until_idle();
        }
        let st = h.stats(p.id());
        assert_eq!(
            (st.errors, st.panics, st.last_error),
            (3, 0, sys::UVP_EBUSY)
        );
        assert!(h.is_loaded(p.id()));
    }
}
