//! Unit tests of the safe layer, driven through the fake host.

use std::cell::Cell;
use std::io::Read;
use std::os::unix::io::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::net::UnixStream;
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
    assert_eq!(SEEN.with(|s| s.take()), Some(Error::Closed));
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
            // SAFETY: -1 is never an open fd; the host refuses it (F3)
            // before watching anything.
            let bad = unsafe { ctx.watch_raw_fd(-1, Interest::READABLE, |_: &mut A, _, _| Ok(())) };
            assert_eq!(bad.err(), Some(Error::Invalid));
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
fn guard_dropped_inside_own_handlers_destroy_ends_the_other() {
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
        fd: i32,
        _w: FdWatch,
    }
    impl Plugin for F {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            let (a, _b) = UnixStream::pair()?;
            let fd = a.as_raw_fd();
            let w = ctx.watch_fd(
                a,
                Interest::READABLE | Interest::WRITABLE,
                |me: &mut F, _, _a: &mut UnixStream, r| {
                    me.got.push((r.is_readable(), r.is_writable(), r.error()));
                    Ok(())
                },
            )?;
            Ok(F {
                got: Vec::new(),
                fd,
                _w: w,
            })
        }
    }
    let mut h = TestHost::new();
    let p = h.load::<F>("").unwrap();
    let fd = h.state(&p).fd;
    h.fd_ready(fd, sys::UVP_FD_READABLE as i32);
    h.fd_ready(fd + 1000, sys::UVP_FD_READABLE as i32);
    h.fd_error(fd, sys::UVP_EINVAL);
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

// ---- remotes (R1-R5) and work (W1-W3) through the fake host -------------

use crate::{PostMode, Remote};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Counts drops from any thread (posted closures are Send).
struct SendTracker(Arc<AtomicUsize>);
impl Drop for SendTracker {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

struct Poster {
    remote: Option<Remote<Poster>>,
    got: Vec<(u32, u32)>,
    events: u32,
    items: Topic,
    _sub: Subscription,
}

impl Plugin for Poster {
    fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
        let items = ctx.topic("items")?;
        let sub = ctx.subscribe(&items, |me: &mut Poster, _, _| {
            me.events += 1;
            Ok(())
        })?;
        Ok(Poster {
            remote: Some(ctx.remote()?),
            got: Vec::new(),
            events: 0,
            items,
            _sub: sub,
        })
    }
}

fn remote_of(h: &mut TestHost, p: &crate::testing::Loaded<Poster>) -> Remote<Poster> {
    h.with(p, |me, _| me.remote.clone().unwrap()).unwrap()
}

#[test]
fn remote_posts_from_threads_run_in_order_on_the_loop() {
    let mut h = TestHost::new();
    let p = h.load::<Poster>("").unwrap();
    let loop_thread = std::thread::current().id();
    let remote = remote_of(&mut h, &p);
    assert_eq!(h.remote_refs(p.id()), 2, "the state's and ours");
    let threads: Vec<_> = (0..3u32)
        .map(|t| {
            let r = remote.clone();
            std::thread::spawn(move || {
                for i in 0..100u32 {
                    r.post(
                        move |me: &mut Poster, _ctx| {
                            assert_eq!(std::thread::current().id(), loop_thread);
                            me.got.push((t, i));
                            Ok(())
                        },
                        PostMode::Block,
                    )
                    .unwrap();
                }
                let items = Topic(1);
                r.publish(&items, b"x", PostMode::NonBlock).unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    drop(remote);
    assert_eq!(h.remote_refs(p.id()), 1, "clones released on drop");
    assert_eq!(h.queued_posts(), 303);
    h.run_until_idle();
    let st = h.state(&p);
    assert_eq!(st.got.len(), 300);
    assert_eq!(st.events, 3);
    for t in 0..3 {
        let mine: Vec<u32> = st.got.iter().filter(|g| g.0 == t).map(|g| g.1).collect();
        assert_eq!(mine, (0..100).collect::<Vec<_>>(), "R1: per-thread order");
    }
    assert_eq!(st.items, Topic(1));
}

#[test]
fn full_queue_gives_again_and_try_post_returns_the_closure() {
    let drops = Arc::new(AtomicUsize::new(0));
    let mut h = TestHost::new();
    h.set_remote_limit(1);
    let p = h.load::<Poster>("").unwrap();
    let remote = remote_of(&mut h, &p);
    let d = drops.clone();
    std::thread::spawn(move || {
        let t = SendTracker(d.clone());
        remote
            .post(
                move |me: &mut Poster, _| {
                    let _keep = &t;
                    me.events += 10;
                    Ok(())
                },
                PostMode::NonBlock,
            )
            .unwrap();
        let t2 = SendTracker(d.clone());
        let err = remote
            .try_post(
                move |_: &mut Poster, _| {
                    let _keep = &t2;
                    Ok(())
                },
                PostMode::NonBlock,
            )
            .unwrap_err();
        assert_eq!(err.error(), Error::Again);
        assert_eq!(d.load(Ordering::SeqCst), 0, "R3: still the caller's");
        drop(err.into_inner());
        assert_eq!(d.load(Ordering::SeqCst), 1);
        let t3 = SendTracker(d.clone());
        assert_eq!(
            remote.post(
                move |_: &mut Poster, _| {
                    let _k = &t3;
                    Ok(())
                },
                PostMode::NonBlock
            ),
            Err(Error::Again)
        );
        assert_eq!(d.load(Ordering::SeqCst), 2, "post drops it on failure");
    })
    .join()
    .unwrap();
    h.run_until_idle();
    assert_eq!(h.state(&p).events, 10);
    assert_eq!(drops.load(Ordering::SeqCst), 3);
}

#[test]
fn block_mode_from_the_loop_thread_is_invalid() {
    let mut h = TestHost::new();
    let p = h.load::<Poster>("").unwrap();
    let r = h
        .with(&p, |me, _| {
            let remote = me.remote.as_ref().unwrap();
            (
                remote.post(|_: &mut Poster, _| Ok(()), PostMode::Block),
                remote.post(
                    |me: &mut Poster, _| {
                        me.events += 1;
                        Ok(())
                    },
                    PostMode::NonBlock,
                ),
            )
        })
        .unwrap();
    assert_eq!(r, (Err(Error::Invalid), Ok(())));
    assert_eq!(h.state(&p).events, 1, "posted from the loop: runs later");
}

#[test]
fn queued_posts_are_dropped_unrun_after_stop_and_later_posts_closed() {
    let drops = Arc::new(AtomicUsize::new(0));
    let ran = Arc::new(AtomicUsize::new(0));
    let mut h = TestHost::new();
    let p = h.load::<Poster>("").unwrap();
    let remote = remote_of(&mut h, &p);
    for _ in 0..5 {
        let t = SendTracker(drops.clone());
        let ran = ran.clone();
        let r = remote.clone();
        std::thread::spawn(move || {
            r.post(
                move |_: &mut Poster, _| {
                    let _keep = &t;
                    ran.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                },
                PostMode::Block,
            )
        })
        .join()
        .unwrap()
        .unwrap();
    }
    h.unload(p.id()).unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert_eq!(drops.load(Ordering::SeqCst), 5, "R4: every destroy ran");
    assert_eq!(h.queued_posts(), 0);
    assert_eq!(h.remote_refs(p.id()), 1, "ours outlives the plugin (R5)");
    let t = SendTracker(drops.clone());
    let e = remote
        .try_post(
            move |_: &mut Poster, _| {
                let _k = &t;
                Ok(())
            },
            PostMode::NonBlock,
        )
        .unwrap_err();
    assert_eq!(e.error(), Error::Closed);
    assert_eq!(
        remote.publish(&Topic(1), b"x", PostMode::NonBlock),
        Err(Error::Closed)
    );
    drop(e);
    assert_eq!(drops.load(Ordering::SeqCst), 6);
    drop(h);
    // R5: the last release after the host is gone, from another thread.
    std::thread::spawn(move || drop(remote)).join().unwrap();
}

#[test]
fn remote_after_stop_is_closed_and_panicking_post_quarantines() {
    struct Q(Option<Error>);
    impl Plugin for Q {
        fn init(_: &mut Ctx<Self>, _: &str) -> Result<Self> {
            Ok(Q(None))
        }
        fn stop(&mut self, ctx: &mut Ctx<Self>) {
            self.0 = ctx.remote().err();
        }
    }
    let mut h = TestHost::new();
    let q = h.load::<Q>("").unwrap();
    let remote = h.with(&q, |_, ctx| ctx.remote().unwrap()).unwrap();
    let r2 = remote.clone();
    std::thread::spawn(move || {
        r2.post(|_: &mut Q, _| panic!("boom in post"), PostMode::Block)
            .unwrap()
    })
    .join()
    .unwrap();
    h.run_until_idle();
    assert!(h.logged("panic in a remote post: boom in post"));
    assert!(!h.is_loaded(q.id()), "F1: quarantined");
    assert_eq!(h.stats(q.id()).panics, 1);
}

struct Worker {
    results: Vec<std::result::Result<u64, Error>>,
    handle: Option<WorkHandle>,
    pool_thread: Option<std::thread::ThreadId>,
}

impl Plugin for Worker {
    fn init(_: &mut Ctx<Self>, _: &str) -> Result<Self> {
        Ok(Worker {
            results: Vec::new(),
            handle: None,
            pool_thread: None,
        })
    }
}

fn spawn(
    h: &mut TestHost,
    w: &crate::testing::Loaded<Worker>,
    work: impl FnOnce() -> u64 + Send + 'static,
) -> u64 {
    h.with(w, |me, ctx| {
        let handle = ctx
            .spawn_work(work, |me: &mut Worker, _ctx, r: Result<u64>| {
                me.results.push(r);
                Ok(())
            })
            .unwrap();
        let id = handle.id();
        me.handle = Some(handle);
        id
    })
    .unwrap()
}

#[test]
fn work_runs_off_the_loop_and_done_on_it() {
    let mut h = TestHost::new();
    let w = h.load::<Worker>("").unwrap();
    let loop_thread = std::thread::current().id();
    let seen = Arc::new(std::sync::Mutex::new(None));
    let s2 = seen.clone();
    // spawn_work from inside a handler; `with` runs until idle afterwards.
    spawn(&mut h, &w, move || {
        *s2.lock().unwrap() = Some(std::thread::current().id());
        41 + 1
    });
    assert_eq!(h.state(&w).results, vec![Ok(42)]);
    assert_ne!(seen.lock().unwrap().unwrap(), loop_thread, "T5");
    assert_eq!(h.pending_work(), 0);
    let id = h.state(&w).handle.as_ref().unwrap().id();
    let r = h.with(&w, |me, ctx| {
        (me.handle.as_ref().unwrap().cancel(), ctx.cancel(id))
    });
    assert_eq!(r, Some((Err(Error::Stale), Err(Error::Stale))), "W3");
    assert!(h.state(&w).pool_thread.is_none());
}

#[test]
fn work_cancelled_before_it_starts_never_runs() {
    let mut h = TestHost::new();
    let w = h.load::<Worker>("").unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let r2 = ran.clone();
    let cancelled = h
        .with(&w, move |me, ctx| {
            let handle = ctx
                .spawn_work(
                    move || {
                        r2.fetch_add(1, Ordering::SeqCst);
                        7u64
                    },
                    |me: &mut Worker, _, r| {
                        me.results.push(r);
                        Ok(())
                    },
                )
                .unwrap();
            let first = handle.cancel();
            let second = handle.cancel();
            me.results.clear();
            (first, second)
        })
        .unwrap();
    assert_eq!(cancelled, (Ok(()), Err(Error::Stale)));
    assert_eq!(h.state(&w).results, vec![Err(Error::Canceled)], "W2");
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert_eq!(h.destroy_calls(), 1, "destroy after done");
}

#[test]
fn work_cancelled_while_running_finishes_and_reports_canceled() {
    let mut h = TestHost::new();
    let w = h.load::<Worker>("").unwrap();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    let value = Arc::new(AtomicUsize::new(0));
    let v2 = value.clone();
    // Queue it without `with` (which would run it to the end at once).
    let core = {
        let mut c = None;
        h.with(&w, |_, ctx| c = Some(ctx.core.clone()));
        c.unwrap()
    };
    let mut ctx = Ctx::<Worker>::new(core);
    let handle = ctx
        .spawn_work(
            move || {
                started_tx.send(()).unwrap();
                go_rx.recv().unwrap();
                v2.fetch_add(1, Ordering::SeqCst);
                5u64
            },
            |me: &mut Worker, _, r| {
                me.results.push(r);
                Ok(())
            },
        )
        .unwrap();
    let _ = &mut ctx;
    assert_eq!(h.start_work(), 1);
    started_rx.recv().unwrap();
    assert_eq!(handle.cancel(), Ok(()));
    go_tx.send(()).unwrap();
    h.run_until_idle();
    assert_eq!(value.load(Ordering::SeqCst), 1, "it ran to the end");
    assert_eq!(h.state(&w).results, vec![Err(Error::Canceled)]);
    drop(handle); // dropping never cancels; it is stale anyway
}

#[test]
fn work_panic_reaches_done_as_panic_and_is_logged() {
    let mut h = TestHost::new();
    let w = h.load::<Worker>("").unwrap();
    spawn(&mut h, &w, || panic!("pool boom"));
    assert_eq!(h.state(&w).results, vec![Err(Error::Panic)]);
    assert!(h.logged("panic in work: pool boom"));
    assert!(h.is_loaded(w.id()), "the plugin itself did not panic");
}

#[test]
fn dropping_the_handle_does_not_cancel_and_unload_cancels_queued_work() {
    let mut h = TestHost::new();
    let w = h.load::<Worker>("").unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let r2 = ran.clone();
    h.with(&w, move |_, ctx| {
        // handle dropped at once
        let _ = ctx.spawn_work(
            move || r2.fetch_add(1, Ordering::SeqCst) as u64,
            |me: &mut Worker, _, r| {
                me.results.push(r);
                Ok(())
            },
        );
    });
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    assert_eq!(h.state(&w).results, vec![Ok(0)]);

    // Queued when the plugin unloads: done gets Canceled, after stop.
    let before = drops();
    let core = {
        let mut c = None;
        h.with(&w, |_, ctx| c = Some(ctx.core.clone()));
        c.unwrap()
    };
    let ctx = Ctx::<Worker>::new(core);
    let t = Tracker;
    ctx.spawn_work(
        || 1u64,
        move |_: &mut Worker, _, r| {
            let _keep = &t;
            assert_eq!(r, Err(Error::Canceled));
            Ok(())
        },
    )
    .unwrap();
    drop(ctx);
    assert_eq!(h.pending_work(), 1);
    h.unload(w.id()).unwrap();
    assert_eq!(h.pending_work(), 0);
    assert_eq!(drops() - before, 1, "done closure dropped once");
    assert_eq!(h.stats(w.id()).errors, 0);
}

#[test]
fn work_holds_a_remote_and_posts_back() {
    struct WR {
        posted: u32,
        done: u32,
    }
    impl Plugin for WR {
        fn init(_: &mut Ctx<Self>, _: &str) -> Result<Self> {
            Ok(WR { posted: 0, done: 0 })
        }
        fn start(&mut self, ctx: &mut Ctx<Self>) -> Result<()> {
            let remote = ctx.remote()?;
            ctx.spawn_work(
                move || {
                    for _ in 0..3 {
                        remote
                            .post(
                                |me: &mut WR, _| {
                                    me.posted += 1;
                                    Ok(())
                                },
                                PostMode::Block,
                            )
                            .unwrap();
                    }
                },
                |me: &mut WR, _, r: Result<()>| {
                    r?;
                    me.done += 1;
                    Ok(())
                },
            )?;
            Ok(())
        }
    }
    let mut h = TestHost::new();
    let p = h.load::<WR>("").unwrap();
    h.run_until_idle();
    assert_eq!((h.state(&p).posted, h.state(&p).done), (3, 1));
    assert_eq!(
        h.remote_refs(p.id()),
        0,
        "the work closure's remote dropped"
    );
}

#[test]
fn unload_self_from_a_posted_closure() {
    let mut h = TestHost::new();
    let p = h.load::<Poster>("").unwrap();
    let remote = remote_of(&mut h, &p);
    std::thread::spawn(move || {
        remote
            .post(|_: &mut Poster, ctx| ctx.unload_self(), PostMode::Block)
            .unwrap()
    })
    .join()
    .unwrap();
    h.run_until_idle();
    assert!(!h.is_loaded(p.id()), "U6");
    assert_eq!(h.remote_refs(p.id()), 0);
}

// ---------------------------------------------------------------------
// Issue 10: holes safe code could reach, and the conveniences.
// ---------------------------------------------------------------------

/// An I/O object that counts its drop (the fd closes with it).
struct CountedStream(UnixStream);
impl AsFd for CountedStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}
impl Drop for CountedStream {
    fn drop(&mut self) {
        DROPS.with(|d| d.set(d.get() + 1));
    }
}

/// Item 2 (I/O safety): the watched object belongs to the watch and is
/// closed by its destroy, after the host stopped watching (L1, D7): the
/// peer sees EOF only once the guard is gone, so safe code can no longer
/// close a socket under a live watch.
#[test]
fn watched_object_closes_when_its_watch_ends() {
    struct W {
        watch: Option<FdWatch>,
    }
    thread_local!(static PEER: Cell<Option<UnixStream>> = const { Cell::new(None) });
    impl Plugin for W {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            let (ours, peer) = UnixStream::pair()?;
            PEER.with(|p| p.set(Some(peer)));
            let watch = ctx.watch_fd(
                CountedStream(ours),
                Interest::READABLE,
                |_: &mut W, _, _: &mut CountedStream, _| Ok(()),
            )?;
            Ok(W { watch: Some(watch) })
        }
    }
    let before = drops();
    let mut h = TestHost::new();
    let p = h.load::<W>("").unwrap();
    let mut peer = PEER.with(|p| p.take()).unwrap();
    peer.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 1];
    let open = peer.read(&mut buf).unwrap_err().kind();
    assert_eq!(
        open,
        std::io::ErrorKind::WouldBlock,
        "still open while watched"
    );
    assert_eq!(drops(), before);
    h.with(&p, |me, _| me.watch = None).unwrap();
    assert_eq!(drops(), before + 1, "destroy dropped the object");
    assert_eq!(peer.read(&mut buf).unwrap(), 0, "EOF: the fd is closed");
    assert_eq!(h.live_registrations(), 0);
}

/// Item 3: a guard owned by a closure that a destroy drops cancels at once
/// (calling the host from a destroy is allowed), not at the instance's
/// next callback, which may never come.
#[test]
fn guard_dropped_in_destroy_cancels_at_once() {
    struct G {
        outer: Option<Subscription>,
    }
    impl Plugin for G {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            let t = ctx.topic("g")?;
            let inner = ctx.every(Duration::from_secs(3600), {
                let tr = Tracker;
                move |_: &mut G, _| {
                    let _ = &tr;
                    Ok(())
                }
            })?;
            // The subscription's closure owns the timer's guard.
            let outer = ctx.subscribe(&t, move |_: &mut G, _, _| {
                let _ = &inner;
                Ok(())
            })?;
            Ok(G { outer: Some(outer) })
        }
    }
    let before = drops();
    let mut h = TestHost::new();
    let p = h.load::<G>("").unwrap();
    assert_eq!(h.live_registrations(), 2);
    h.with(&p, |me, _| me.outer = None).unwrap();
    assert_eq!(
        h.live_registrations(),
        0,
        "the timer ended with the destroy"
    );
    assert_eq!(drops(), before + 1, "the timer's closure was dropped");
    h.advance(Duration::from_secs(7200));
    assert_eq!(h.stats(p.id()).errors, 0);
}

thread_local!(static WORK_DONE_RAN: Cell<bool> = const { Cell::new(false) });

/// Item 5, the documented exception to "done runs exactly once": work
/// spawned by an `init` that then fails has no state to give `done`, so
/// `done` is dropped unrun (on the loop thread, once); the failure's
/// message reaches the host's log.
#[test]
fn work_of_a_failed_init_drops_done_unrun() {
    struct I;
    impl Plugin for I {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            let tr = Tracker;
            ctx.spawn_work(
                || 7u32,
                move |_: &mut I, _, _r: Result<u32>| {
                    let _ = &tr;
                    WORK_DONE_RAN.with(|r| r.set(true));
                    Ok(())
                },
            )?;
            Err(Error::msg("no upstream configured"))
        }
    }
    let before = drops();
    let mut h = TestHost::new();
    assert_eq!(h.load::<I>("").err(), Some(Error::Init));
    h.run_until_idle();
    assert!(!WORK_DONE_RAN.with(|r| r.get()));
    assert_eq!(drops(), before + 1, "done dropped exactly once");
    assert!(h.logged("init failed: no upstream configured"));
}

/// Panics in its drop.
struct PanicOnDrop;
impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("drop of PanicOnDrop");
    }
}

/// Item 6: a panic in `stop` reaches the host's counters (F7), not only a
/// log line.
#[test]
fn panic_in_stop_is_counted() {
    struct S;
    impl Plugin for S {
        fn init(_: &mut Ctx<Self>, _: &str) -> Result<Self> {
            Ok(S)
        }
        fn stop(&mut self, _: &mut Ctx<Self>) {
            panic!("stop went wrong");
        }
    }
    let mut h = TestHost::new();
    let p = h.load::<S>("").unwrap();
    h.unload(p.id()).unwrap();
    assert_eq!(h.stats(p.id()).panics, 1);
    assert!(h.logged("panic in stop: stop went wrong"));
}

/// Item 6: a panic while dropping a posted closure that never ran (R4) is
/// counted too.
#[test]
fn panic_dropping_a_posted_closure_is_counted() {
    struct R;
    impl Plugin for R {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            let remote = ctx.remote()?;
            let bomb = PanicOnDrop;
            remote.post(
                move |_: &mut R, _| {
                    let _ = &bomb;
                    Ok(())
                },
                PostMode::NonBlock,
            )?;
            Ok(R)
        }
    }
    let mut h = TestHost::new();
    let p = h.load::<R>("").unwrap();
    h.unload(p.id()).unwrap(); // the post is dropped unrun (R4)
    assert_eq!(h.stats(p.id()).panics, 1);
    assert!(h.logged("panic while dropping a posted closure: drop of PanicOnDrop"));
}

/// Item 6, F7: a panic while a destroy drops a handler of a running plugin
/// quarantines it, as a panic in the handler would.
#[test]
fn panic_dropping_a_handler_quarantines() {
    struct D {
        sub: Option<Subscription>,
    }
    impl Plugin for D {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            let t = ctx.topic("d")?;
            let bomb = PanicOnDrop;
            let sub = ctx.subscribe(&t, move |_: &mut D, _, _| {
                let _ = &bomb;
                Ok(())
            })?;
            Ok(D { sub: Some(sub) })
        }
    }
    let mut h = TestHost::new();
    let p = h.load::<D>("").unwrap();
    h.with(&p, |me, _| me.sub = None).unwrap();
    h.run_until_idle();
    assert_eq!(h.stats(p.id()).panics, 1);
    assert!(!h.is_loaded(p.id()), "quarantined and unloaded");
}

/// The SDK no longer prefixes its own name: the host tags every line with
/// the instance name already.
#[test]
fn sdk_lines_carry_no_prefix() {
    struct B;
    impl Plugin for B {
        fn init(_: &mut Ctx<Self>, _: &str) -> Result<Self> {
            Ok(B)
        }
    }
    let mut h = TestHost::new();
    let desc = Descriptor::new::<B>("b\0", "1\0", false);
    assert!(h.load_descriptor(&desc, b"\xff").is_err());
    assert!(h.logged("config is not valid UTF-8"));
    assert!(!h.logs().iter().any(|l| l.msg.starts_with("uvplug:")));
}

/// The log macros format through `Ctx::log` at their level.
#[test]
fn log_macros_format_at_their_level() {
    struct L;
    impl Plugin for L {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            crate::error!(ctx, "e{}", 1);
            crate::warn!(ctx, "w{}", 2);
            crate::info!(ctx, "i{}", 3);
            crate::debug!(ctx, "d{}", 4);
            Ok(L)
        }
    }
    let mut h = TestHost::new();
    h.load::<L>("").unwrap();
    let got: Vec<(Level, String)> = h
        .logs()
        .into_iter()
        .filter(|l| l.msg.len() == 2)
        .map(|l| (l.level, l.msg))
        .collect();
    assert_eq!(
        got,
        vec![
            (Level::Error, "e1".to_owned()),
            (Level::Warn, "w2".to_owned()),
            (Level::Info, "i3".to_owned()),
            (Level::Debug, "d4".to_owned()),
        ]
    );
}

/// A handler's own error message is logged with what failed; the host
/// still gets the status (F2).
#[test]
fn handler_error_message_is_logged() {
    struct E;
    impl Plugin for E {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            let t = ctx.topic("e")?;
            ctx.subscribe(&t, |_: &mut E, _, ev: &Event| {
                let n: u32 = std::str::from_utf8(ev.data())?.parse()?;
                assert!(n > 0);
                Ok(())
            })?
            .detach();
            Ok(E)
        }
    }
    let mut h = TestHost::new();
    let p = h.load::<E>("").unwrap();
    h.publish("e", b"12").unwrap();
    h.publish("e", b"x").unwrap();
    h.run_until_idle();
    assert_eq!(h.stats(p.id()).errors, 1);
    assert_eq!(h.stats(p.id()).last_error, sys::UVP_EINVAL);
    assert!(h.logged("a subscriber failed: invalid digit found in string"));
}

/// Item 4: a host whose table ends after the ABI 1.0 entries (an older
/// host) gets only field-by-field reads up to its `size`: the 1.0 entries
/// work, every later one is refused with `Invalid` (or is empty), and
/// nothing past the table is read. The table here is a heap copy of
/// exactly that many bytes, so a read past it is a heap overflow.
#[test]
fn short_host_table_is_read_field_by_field() {
    thread_local!(static RAW: Cell<Option<crate::RawCtx>> = const { Cell::new(None) });
    struct Grab;
    impl Plugin for Grab {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            RAW.with(|r| r.set(Some(ctx.raw())));
            Ok(Grab)
        }
    }
    struct Old {
        seen: Vec<String>,
    }
    impl Plugin for Old {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            let t = ctx.topic("old")?;
            ctx.publish(&t, b"1.0 entry")?;
            let seen = vec![
                format!("{:?}", ctx.remote().err()),
                format!("{:?}", ctx.unload_self().err()),
                format!(
                    "{:?}",
                    ctx.spawn_work(|| (), |_: &mut Old, _, _| Ok(())).err()
                ),
                format!("{:?}", ctx.instance_name()),
            ];
            Ok(Old { seen })
        }
    }
    let mut h = TestHost::new();
    h.load::<Grab>("").unwrap();
    let raw = RAW.with(|r| r.get()).unwrap();
    let len = crate::ctx::api_v1_0_len();
    let mut short = vec![0u8; len].into_boxed_slice();
    // SAFETY: the fake's table is a full `uvp_api`, at least `len` bytes;
    // `short` has exactly `len` bytes.
    unsafe { std::ptr::copy_nonoverlapping(raw.api.cast::<u8>(), short.as_mut_ptr(), len) };
    short[..4].copy_from_slice(&(len as u32).to_ne_bytes()); // `size` is first
    let desc = Descriptor::new::<Old>("old\0", "1\0", false);
    let mut state: *mut std::os::raw::c_void = std::ptr::null_mut();
    let on_init = desc.raw().on_init.unwrap();
    // SAFETY: the Grab instance's ctx is live; the table is a valid prefix
    // of the fake's table with a matching size; config is empty.
    let rc = unsafe {
        on_init(
            raw.ctx,
            short.as_ptr().cast(),
            std::ptr::null(),
            0,
            &mut state,
        )
    };
    assert_eq!(rc, 0);
    let core = state.cast::<Rc<crate::ctx::Core>>();
    // SAFETY: on_init succeeded, so `state` is the SDK's Box<Rc<Core>>
    // holding a Box<Old> that only on_unload below frees.
    let old = unsafe { &*(&*core).state.get().cast::<Old>() };
    assert_eq!(
        old.seen,
        vec!["Some(Invalid)", "Some(Invalid)", "Some(Invalid)", "\"\""]
    );
    // SAFETY: the state of the successful on_init above, freed once.
    unsafe { desc.raw().on_unload.unwrap()(state) };
    h.run_until_idle();
    assert_eq!(h.published("old"), vec![b"1.0 entry".to_vec()]);
}
