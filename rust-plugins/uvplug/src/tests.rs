//! Unit tests of the safe layer, driven through the fake host.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use crate::prelude::*;
use crate::testing::{FaultPolicy, TestHost};
use crate::{sys, Descriptor};

thread_local! {
    static DROPS: Cell<u32> = const { Cell::new(0) };
    static STATE_DROPS: Cell<u32> = const { Cell::new(0) };
    static STOPS: Cell<u32> = const { Cell::new(0) };
}

/// Counts its drops: captured by a closure, it counts destroys.
struct Tracker;
impl Drop for Tracker {
    fn drop(&mut self) {
        DROPS.with(|d| d.set(d.get() + 1));
    }
}

fn drops() -> u32 {
    DROPS.with(|d| d.get())
}

/// Records what it sees; commands on "cmd" exercise the SDK.
struct Rec {
    seen: Vec<Vec<u8>>,
    ticks: u32,
    sub: Option<Subscription>,
    timer: Option<Timer>,
    out: Topic,
    closed_on_stop: Option<Error>,
}

impl Drop for Rec {
    fn drop(&mut self) {
        STATE_DROPS.with(|d| d.set(d.get() + 1));
    }
}

impl Plugin for Rec {
    fn init(ctx: &mut Ctx<Self>, config: &str) -> Result<Self> {
        if config == "fail" {
            let t = ctx.topic("in")?;
            ctx.subscribe(&t, |_: &mut Self, _, _| Ok(()))?.detach();
            return Err(Error::Invalid);
        }
        if config == "panic" {
            panic!("rec: init panicked");
        }
        let input = ctx.topic("in")?;
        let cmd = ctx.topic("cmd")?;
        let out = ctx.topic("out")?;
        let t = Tracker;
        let sub = ctx.subscribe(&input, move |me: &mut Self, _ctx, ev: &Event| {
            let _keep = &t;
            me.seen.push(ev.data().to_vec());
            Ok(())
        })?;
        let t2 = Tracker;
        ctx.subscribe(&cmd, move |me: &mut Self, ctx, ev: &Event| {
            let _keep = &t2;
            match ev.data() {
                b"drop-sub" => me.sub = None,
                b"panic" => panic!("rec: asked to panic"),
                b"error" => return Err(Error::Busy),
                b"echo" => ctx.publish(&me.out, b"echo")?,
                b"owned" => ctx.publish_owned(&me.out, b"owned".to_vec())?,
                b"tick" => {
                    let t = Tracker;
                    me.timer = Some(ctx.every(
                        Duration::from_millis(10),
                        move |me: &mut Self, _| {
                            let _keep = &t;
                            me.ticks += 1;
                            if me.ticks == 3 {
                                me.timer = None; // cancel from inside its own callback (L2)
                            }
                            Ok(())
                        },
                    )?);
                }
                _ => {}
            }
            Ok(())
        })?
        .detach();
        Ok(Rec {
            seen: Vec::new(),
            ticks: 0,
            sub: Some(sub),
            timer: None,
            out,
            closed_on_stop: None,
        })
    }

    fn stop(&mut self, ctx: &mut Ctx<Self>) {
        STOPS.with(|s| s.set(s.get() + 1));
        let t = ctx.topic("in").unwrap();
        self.closed_on_stop = ctx.subscribe(&t, |_: &mut Self, _, _| Ok(())).err();
    }
}

#[test]
fn delivers_in_order_with_exact_counts() {
    let mut h = TestHost::new();
    let p = h.load::<Rec>("").unwrap();
    for i in 0..5u8 {
        h.publish("in", &[i]).unwrap();
    }
    assert_eq!(h.state(&p).seen.len(), 0, "publish only queues (D2)");
    h.run_until_idle();
    assert_eq!(
        h.state(&p).seen,
        (0..5u8).map(|i| vec![i]).collect::<Vec<_>>()
    );
    assert_eq!(h.live_registrations(), 2);
}

#[test]
fn dropping_a_guard_cancels_and_destroys_once() {
    let before = drops();
    let mut h = TestHost::new();
    let p = h.load::<Rec>("").unwrap();
    h.publish("cmd", b"drop-sub").unwrap();
    h.publish("in", b"late").unwrap();
    h.run_until_idle();
    assert!(
        h.state(&p).seen.is_empty(),
        "cancelled before its delivery (L3)"
    );
    assert_eq!(h.destroy_calls(), 1);
    assert_eq!(drops() - before, 1);
    h.unload(p.id()).unwrap();
    assert_eq!(h.destroy_calls(), 2);
    assert_eq!(drops() - before, 2);
    assert_eq!(h.live_registrations(), 0);
}

#[test]
fn timer_cancelled_from_its_own_callback() {
    let before = drops();
    let mut h = TestHost::new();
    let p = h.load::<Rec>("").unwrap();
    h.publish("cmd", b"tick").unwrap();
    h.run_until_idle();
    h.advance(Duration::from_millis(25));
    assert_eq!(h.state(&p).ticks, 2);
    h.advance(Duration::from_millis(100));
    assert_eq!(h.state(&p).ticks, 3);
    assert_eq!(
        drops() - before,
        1,
        "timer closure dropped once, after its last call"
    );
    assert_eq!(h.now_ms(), 125);
}

#[test]
fn publish_from_handler_is_queued_and_owned_payload_freed_once() {
    let mut h = TestHost::new();
    let _p = h.load::<Rec>("").unwrap();
    h.publish("cmd", b"echo").unwrap();
    h.publish("cmd", b"owned").unwrap();
    h.run_until_idle();
    assert_eq!(
        h.published("out"),
        vec![b"echo".to_vec(), b"owned".to_vec()]
    );
    assert_eq!(h.payload_frees(), 1);
}

#[test]
fn owned_payload_freed_at_close_when_never_dispatched() {
    struct P;
    impl Plugin for P {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            let t = ctx.topic("x")?;
            ctx.publish_owned(&t, vec![1u8; 100])?;
            ctx.publish_owned(&t, Vec::new())?;
            Ok(P)
        }
    }
    let mut h = TestHost::new();
    h.load::<P>("").unwrap();
    assert_eq!(h.queued(), 2);
    drop(h); // S2 frees queued payloads; a leak would show under valgrind/miri
}

#[test]
fn panic_becomes_epanic_is_logged_and_quarantines() {
    let before = drops();
    let mut h = TestHost::new();
    let p = h.load::<Rec>("").unwrap();
    h.publish("cmd", b"panic").unwrap();
    h.publish("in", b"after").unwrap();
    h.run_until_idle();
    assert!(
        h.logged("panic in a subscriber: rec: asked to panic"),
        "{:?}",
        h.logs()
    );
    let st = h.stats(p.id());
    assert_eq!((st.panics, st.last_error), (1, sys::UVP_EPANIC));
    assert!(!h.is_loaded(p.id()));
    assert_eq!(h.live_registrations(), 0);
    assert_eq!(drops() - before, 2);
}

#[test]
fn panic_with_log_policy_keeps_running() {
    let mut h = TestHost::new();
    h.set_fault_policy(FaultPolicy::Log);
    let p = h.load::<Rec>("").unwrap();
    h.publish("cmd", b"panic").unwrap();
    h.publish("cmd", b"error").unwrap();
    h.publish("in", b"after").unwrap();
    h.run_until_idle();
    let st = h.stats(p.id());
    assert_eq!(
        (st.panics, st.errors, st.last_error),
        (1, 2, sys::UVP_EBUSY)
    );
    assert_eq!(h.state(&p).seen, vec![b"after".to_vec()]);
}

#[test]
fn failed_init_destroys_registrations_and_never_unloads() {
    let (before, states) = (drops(), STATE_DROPS.with(|d| d.get()));
    let mut h = TestHost::new();
    assert_eq!(h.load::<Rec>("fail").err(), Some(Error::Init));
    assert_eq!(h.live_registrations(), 0);
    assert_eq!(h.destroy_calls(), 1);
    assert_eq!(drops(), before);
    assert_eq!(STATE_DROPS.with(|d| d.get()), states);
}

#[test]
fn panic_in_init_is_caught_and_logged() {
    let mut h = TestHost::new();
    assert_eq!(h.load::<Rec>("panic").err(), Some(Error::Init));
    assert!(h.logged("panic in init: rec: init panicked"));
    assert!(h.logged(&Error::Panic.to_string()));
}

static REC_DESC: Descriptor = Descriptor::new::<Rec>("rec\0", "1.2.3\0", false);
crate::export_plugin!(
    Rec,
    name = "rec-exported",
    version = env!("CARGO_PKG_VERSION")
);

#[test]
fn descriptor_fields() {
    let d = REC_DESC.raw();
    assert_eq!(d.magic, sys::UVP_PLUGIN_MAGIC);
    assert_eq!(u32::from(d.abi_major), sys::UVP_ABI_MAJOR);
    assert_eq!(d.size as usize, std::mem::size_of::<sys::uvp_plugin_desc>());
    assert_eq!(d.flags, 0);
    assert_eq!(REC_DESC.name(), "rec");
    assert_eq!(uvp_plugin_descriptor.name(), "rec-exported");
    assert!(d.on_init.is_some() && d.on_unload.is_some());
    let safe = Descriptor::new::<Rec>("x\0", "\0", true);
    assert_eq!(safe.raw().flags, sys::UVP_PLUGIN_UNLOAD_SAFE);
}

#[test]
fn invalid_utf8_config_fails_init() {
    let mut h = TestHost::new();
    assert_eq!(
        h.load_descriptor(&REC_DESC, b"\xff\xfe").err(),
        Some(Error::Init)
    );
    assert!(h.logged("config is not valid UTF-8"));
    let id = h.load_descriptor(&uvp_plugin_descriptor, b"").unwrap();
    assert!(h.is_loaded(id));
    assert_eq!(
        h.load_descriptor(&uvp_plugin_descriptor, b"").err(),
        Some(Error::DupName)
    );
}

#[test]
fn stop_runs_once_and_registrations_are_closed() {
    let (states, stops) = (STATE_DROPS.with(|d| d.get()), STOPS.with(|s| s.get()));
    let mut h = TestHost::new();
    let p = h.load::<Rec>("").unwrap();
    assert_eq!(h.with(&p, |me, _| me.seen.len()), Some(0));
    h.unload(p.id()).unwrap();
    assert_eq!(STOPS.with(|s| s.get()) - stops, 1);
    assert_eq!(STATE_DROPS.with(|d| d.get()) - states, 1);
    assert_eq!(h.unload(p.id()), Err(Error::Closed));
    assert_eq!(h.live_registrations(), 0);
}

#[test]
fn registering_in_stop_gets_closed() {
    struct S(Rc<Cell<Option<Error>>>);
    thread_local!(static SEEN: Rc<Cell<Option<Error>>> = Rc::new(Cell::new(None)));
    impl Plugin for S {
        fn init(_: &mut Ctx<Self>, _: &str) -> Result<Self> {
            Ok(S(SEEN.with(|s| s.clone())))
        }
        fn stop(&mut self, ctx: &mut Ctx<Self>) {
            let t = ctx.topic("t").unwrap();
            self.0
                .set(ctx.subscribe(&t, |_: &mut Self, _, _| Ok(())).err());
        }
    }
    let mut h = TestHost::new();
    let p = h.load::<S>("").unwrap();
    h.unload(p.id()).unwrap();
    assert_eq!(SEEN.with(|s| s.get()), Some(Error::Closed));
}

#[test]
fn one_shot_timers_fire_in_due_then_start_order() {
    struct T {
        order: Vec<u32>,
        _timers: Vec<Timer>,
    }
    impl Plugin for T {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            let mut timers = Vec::new();
            for (n, ms) in [(1u32, 30u64), (2, 10), (3, 10), (4, 0)] {
                timers.push(
                    ctx.after(Duration::from_millis(ms), move |me: &mut Self, ctx| {
                        me.order.push(n);
                        assert!(ctx.now_ms() >= ms);
                        Ok(())
                    })?,
                );
            }
            Ok(T {
                order: Vec::new(),
                _timers: timers,
            })
        }
    }
    let mut h = TestHost::new();
    let p = h.load::<T>("").unwrap();
    h.run_until_idle();
    assert_eq!(h.state(&p).order, vec![4]);
    h.advance(Duration::from_millis(10));
    assert_eq!(h.state(&p).order, vec![4, 2, 3]);
    h.advance(Duration::from_secs(1));
    assert_eq!(h.state(&p).order, vec![4, 2, 3, 1]);
    assert_eq!(
        h.live_registrations(),
        0,
        "one-shots end when they fire (L10)"
    );
    assert_eq!(h.destroy_calls(), 4);
    h.unload(p.id()).unwrap(); // dropping fired guards: stale, ignored
    assert_eq!(h.destroy_calls(), 4);
}

#[test]
fn argument_errors() {
    struct A;
    impl Plugin for A {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            assert_eq!(ctx.topic("").err(), Some(Error::Invalid));
            assert_eq!(ctx.topic(&"x".repeat(256)).err(), Some(Error::Invalid));
            assert_eq!(ctx.topic("a\0b").err(), Some(Error::Invalid));
            assert_eq!(
                ctx.every(Duration::ZERO, |_: &mut A, _| Ok(())).err(),
                Some(Error::Invalid)
            );
            assert_eq!(ctx.cancel(0), Err(Error::NoEnt));
            assert_eq!(ctx.cancel(u64::MAX), Err(Error::NoEnt));
            assert_eq!(
                ctx.watch_fd(-1, Interest::READABLE, |_: &mut A, _, _| Ok(()))
                    .err(),
                Some(Error::Invalid)
            );
            let t = ctx.topic("t")?;
            let s = ctx.subscribe(&t, |_: &mut A, _, _| Ok(()))?;
            let id = s.id();
            s.cancel()?;
            assert_eq!(ctx.cancel(id), Err(Error::Stale));
            Ok(A)
        }
    }
    let mut h = TestHost::new();
    h.load::<A>("").unwrap();
    assert_eq!(h.destroy_calls(), 1);
}

#[test]
fn wrong_thread_call_is_refused() {
    struct W;
    impl Plugin for W {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            let t = ctx.topic("t")?;
            let raw = ctx.raw();
            // SAFETY: the thread is joined before init returns, while the
            // instance is alive.
            let rc = std::thread::spawn(move || unsafe { raw.publish(t, b"x") })
                .join()
                .unwrap();
            assert_eq!(rc, sys::UVP_EWRONGTHREAD);
            Ok(W)
        }
    }
    let mut h = TestHost::new();
    let p = h.load::<W>("").unwrap();
    h.run_until_idle();
    assert_eq!(h.stats(p.id()).wrong_thread, 1);
    assert!(h.published("t").is_empty());
    assert!(h.logged("loop-only call from another thread"));
}

#[test]
fn guard_dropped_inside_destroy_is_deferred_not_lost() {
    struct G {
        outer: Option<Subscription>,
        hits: u32,
    }
    impl Plugin for G {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            let t = ctx.topic("t")?;
            let inner = ctx.subscribe(&t, |me: &mut G, _, _| {
                me.hits += 1;
                Ok(())
            })?;
            let c = ctx.topic("c")?;
            // The outer closure owns the inner guard; destroying the outer
            // drops the inner guard inside destroy.
            let outer = ctx.subscribe(&c, move |me: &mut G, _, _| {
                let _keep = &inner;
                me.outer = None;
                Ok(())
            })?;
            Ok(G {
                outer: Some(outer),
                hits: 0,
            })
        }
    }
    let mut h = TestHost::new();
    let p = h.load::<G>("").unwrap();
    h.publish("t", b"1").unwrap();
    h.publish("c", b"").unwrap();
    h.run_until_idle();
    h.publish("t", b"2").unwrap();
    h.run_until_idle();
    assert_eq!(h.state(&p).hits, 1);
    assert_eq!(h.live_registrations(), 0);
    assert_eq!(h.destroy_calls(), 2);
}

#[test]
fn reentrant_dispatch_is_refused() {
    let mut h = TestHost::new();
    let p = h.load::<Rec>("").unwrap();
    h.with(&p, |_, ctx| ctx.core.busy.set(true));
    // `with` reset busy on return; set it again from outside and deliver.
    let core = {
        let mut c = None;
        h.with(&p, |_, ctx| c = Some(ctx.core.clone()));
        c.unwrap()
    };
    core.busy.set(true);
    h.publish("in", b"x").unwrap();
    h.run_until_idle();
    core.busy.set(false);
    assert!(h.logged("re-entrant call of a subscriber refused"));
    assert_eq!(h.stats(p.id()).last_error, sys::UVP_EBUSY);
    assert!(h.state(&p).seen.is_empty());
}

#[test]
fn fd_watch_gets_readiness() {
    struct F {
        got: Vec<(bool, bool, Option<Error>)>,
        _w: FdWatch,
    }
    impl Plugin for F {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            let w = ctx.watch_fd(
                7,
                Interest::READABLE | Interest::WRITABLE,
                |me: &mut F, _, r| {
                    me.got.push((r.is_readable(), r.is_writable(), r.error()));
                    Ok(())
                },
            )?;
            Ok(F {
                got: Vec::new(),
                _w: w,
            })
        }
    }
    let mut h = TestHost::new();
    let p = h.load::<F>("").unwrap();
    h.fd_ready(7, sys::UVP_FD_READABLE as i32);
    h.fd_ready(8, sys::UVP_FD_READABLE as i32);
    h.fd_error(7, sys::UVP_EINVAL);
    assert_eq!(
        h.state(&p).got,
        vec![(true, false, None), (false, false, Some(Error::Invalid))]
    );
}

#[test]
fn loaded_handles_are_tied_to_their_host() {
    let mut a = TestHost::new();
    let mut b = TestHost::new();
    let pa = a.load::<Rec>("").unwrap();
    let _pb = b.load::<Rec>("").unwrap();
    assert!(b.with(&pa, |_, _| ()).is_none());
    assert!(a.with(&pa, |_, _| ()).is_some());
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| b.state(&pa).ticks));
    assert!(r.is_err());
}

#[test]
fn unload_self_finishes_after_the_callback() {
    struct U {
        _sub: Subscription,
    }
    impl Plugin for U {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            let t = ctx.topic("bye")?;
            let s = ctx.subscribe(&t, |_: &mut U, ctx, _| {
                ctx.unload_self()?;
                assert_eq!(ctx.unload_self(), Err(Error::Closed));
                ctx.log_info("still running");
                Ok(())
            })?;
            Ok(U { _sub: s })
        }
    }
    let mut h = TestHost::new();
    let p = h.load::<U>("").unwrap();
    h.publish("bye", b"").unwrap();
    h.publish("bye", b"").unwrap();
    h.run_until_idle();
    assert!(!h.is_loaded(p.id()));
    assert_eq!(
        h.logs().iter().filter(|l| l.msg == "still running").count(),
        1
    );
    assert_eq!(h.live_registrations(), 0);
}
