//! `scenarios`: one plugin, many scenarios, one trace format, two hosts.
//!
//! The config `scenario=NAME` picks a scenario; the plugin runs it and
//! records a trace: one line per observable thing (a handler ran and with
//! what, the status an SDK call returned, a closure or the state dropped,
//! `stop`, a work item's result). The trace lives in this library (per
//! thread: only the loop thread records), so lines written after the
//! instance is gone (destroys, the state's drop) are kept too, and both
//! hosts read it the same way:
//!
//! - the fake host (`uvplug::testing`, tests/golden.rs) through [`trace`];
//! - the real host (tests/integration/test_scenarios.c) through the
//!   exported `uvp_scn_*` functions of the cdylib.
//!
//! Each driver does the same steps, noting each in the trace: load the
//! instance `scn` with `scenario=NAME` (`load <status>`), run the loop
//! until [`finished`] (a scenario says so, or the state was dropped),
//! note whether the instance is still loaded (`loaded <0|1>`), and if it
//! is, its counters (`errors N panics M registrations R`) and unload it
//! (`unload`)
//! unless the scenario asked to [`keep_loaded`], close the host (`close`)
//! and note `end`. The loop runs one turn at a time (the fake host's
//! `run_once`, the real host's `uv_run(UV_RUN_ONCE)`), checking
//! [`finished`] after each. The trace
//! is then compared with tests/scenarios/NAME.trace.
//!
//! Every instance records `start` and `stop` when those hooks run, and
//! `state dropped` when its state is dropped.

use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_void, CStr, CString};
use std::io::{Read, Write};
use std::os::raw::c_int;
use std::os::unix::io::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::sync::mpsc;

use uvplug::prelude::*;
use uvplug::RawCtx;

mod services;

thread_local! {
    static TRACE: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    static FINISHED: Cell<bool> = const { Cell::new(false) };
    static KEEP: Cell<bool> = const { Cell::new(false) };
    static TEXT: RefCell<CString> = RefCell::new(CString::default());
    /// The instance's raw ctx, for code the host calls without one (a
    /// payload's free_fn).
    static RAW: Cell<Option<RawCtx>> = const { Cell::new(None) };
}

/// Appends a line to this thread's trace.
pub fn rec(line: impl Into<String>) {
    TRACE.with(|t| t.borrow_mut().push(line.into()));
}

/// Marks the scenario finished: the driver stops running the loop.
pub fn finish() {
    FINISHED.with(|f| f.set(true));
}

/// Asks the driver not to unload the instance: the host's close does.
pub fn keep_loaded() {
    KEEP.with(|k| k.set(true));
}

/// Whether the driver leaves the unload to the host's close.
pub fn kept() -> bool {
    KEEP.with(|k| k.get())
}

/// Whether the scenario finished (or its state was dropped).
pub fn finished() -> bool {
    FINISHED.with(|f| f.get())
}

/// This thread's trace so far.
pub fn trace() -> Vec<String> {
    TRACE.with(|t| t.borrow().clone())
}

/// Forgets the trace and the finished mark (before a scenario).
pub fn reset() {
    TRACE.with(|t| t.borrow_mut().clear());
    FINISHED.with(|f| f.set(false));
    KEEP.with(|k| k.set(false));
}

/// Whether scenario `name` has a peer: a second instance, `scn-peer`,
/// loaded right after the first with `scenario=NAME;peer` and left to the
/// host's close. Its trace lines start with `peer `.
pub fn has_peer(name: &str) -> bool {
    PEERS.iter().any(|p| p.0 == name)
}

/// `has_peer` for the C driver: 1 or 0.
///
/// # Safety
///
/// `name` is NULL or a valid NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn uvp_scn_has_peer(name: *const c_char) -> u64 {
    if name.is_null() {
        return 0;
    }
    // SAFETY: per this function's contract.
    let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
    u64::from(has_peer(&name))
}

/// The scenarios' names, in a fixed order.
pub fn names() -> Vec<&'static str> {
    SCENARIOS.iter().map(|s| s.0).collect()
}

/// `reset` for the C driver.
#[no_mangle]
pub extern "C" fn uvp_scn_reset() {
    reset();
}

/// `rec` for the C driver: `line` is NUL-terminated UTF-8.
///
/// # Safety
///
/// `line` is NULL or a valid NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn uvp_scn_note(line: *const c_char) {
    if line.is_null() {
        return;
    }
    // SAFETY: per this function's contract.
    rec(unsafe { CStr::from_ptr(line) }
        .to_string_lossy()
        .into_owned());
}

/// 1 if the driver leaves the unload to the host's close, else 0.
#[no_mangle]
pub extern "C" fn uvp_scn_kept() -> u64 {
    u64::from(kept())
}

/// 1 once the scenario finished, else 0.
#[no_mangle]
pub extern "C" fn uvp_scn_finished() -> u64 {
    u64::from(finished())
}

/// The trace as lines ending in `\n`; valid until the next call.
#[no_mangle]
pub extern "C" fn uvp_scn_trace() -> *const c_char {
    let mut text = String::new();
    for l in trace() {
        text.push_str(&l);
        text.push('\n');
    }
    let c = CString::new(text.replace('\0', "\\0")).unwrap_or_default();
    TEXT.with(|t| {
        *t.borrow_mut() = c;
        t.borrow().as_ptr()
    })
}

/// The scenario names, one per line ending in `\n`; valid until the next
/// call of this or `uvp_scn_trace`.
#[no_mangle]
pub extern "C" fn uvp_scn_names() -> *const c_char {
    let mut text = String::new();
    for n in names() {
        text.push_str(n);
        text.push('\n');
    }
    let c = CString::new(text).unwrap_or_default();
    TEXT.with(|t| {
        *t.borrow_mut() = c;
        t.borrow().as_ptr()
    })
}

/// Records `drop NAME` when dropped: captured by a closure, it shows when
/// the host destroyed the registration (L1).
struct Note(&'static str);

impl Drop for Note {
    fn drop(&mut self) {
        rec(format!("drop {}", self.0));
    }
}

/// A status as the trace shows it: `ok` or the error's name.
fn st<T>(r: Result<T>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => format!("{e:?}"),
    }
}

fn text(ev: &Event<'_>) -> String {
    String::from_utf8_lossy(ev.data()).into_owned()
}

/// When a scenario's body runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum When {
    Init,
    Start,
}

type Body = fn(&mut Scn, &mut Ctx<Scn>) -> Result<()>;

const SCENARIOS: &[(&str, When, Body)] = &[
    ("cancel_resubscribe", When::Start, cancel_resubscribe),
    ("quarantine", When::Start, quarantine),
    ("work_post_wait", When::Start, work_post_wait),
    ("unload_self_init", When::Init, unload_self_init),
    ("unload_self_start", When::Start, unload_self_start),
    ("self_cancel_once", When::Start, self_cancel_once),
    ("self_cancel_every", When::Start, self_cancel_every),
    ("self_cancel_sub", When::Start, self_cancel_sub),
    ("self_cancel_work", When::Start, self_cancel_work),
    ("guard_drop_in_destroy", When::Start, guard_drop_in_destroy),
    ("owned_before_unload", When::Start, owned_before_unload),
    ("unload_queued_posts", When::Start, unload_queued_posts),
    ("zero_ms_rearm", When::Start, zero_ms_rearm),
    ("two_topics_order", When::Start, two_topics_order),
    ("fd_socketpair", When::Start, fd_socketpair),
    ("timer_round", When::Start, timer_round),
    ("unload_mid_fanout", When::Start, unload_mid_fanout),
    ("panic_in_destroy", When::Start, panic_in_destroy),
    ("panic_in_stop", When::Start, panic_in_stop),
    (
        "quarantine_running_work",
        When::Start,
        quarantine_running_work,
    ),
    ("repeat_rearm_order", When::Start, repeat_rearm_order),
    ("remote_order", When::Start, remote_order),
    (
        "owned_in_flight_unload",
        When::Start,
        owned_in_flight_unload,
    ),
    ("work_cancel_waiting", When::Start, work_cancel_waiting),
    ("batch_timer", When::Start, batch_timer),
    ("unload_self_in_free", When::Start, unload_self_in_free),
    ("errors_counted", When::Start, errors_counted),
    ("close_with_queued", When::Start, close_with_queued),
    ("bad_input", When::Start, bad_input),
    ("stop_calls", When::Start, stop_calls),
    ("init_fails", When::Init, init_fails),
    ("start_fails", When::Start, start_fails),
    ("init_panics", When::Init, init_panics),
    ("queues_full", When::Start, queues_full),
    ("fd_rules", When::Start, fd_rules),
    ("peer_close_order", When::Start, close_order),
    ("peer_unload_drains", When::Start, unload_drains),
    ("peer_unload_posts", When::Start, unload_posts),
    ("peer_owned_copy", When::Start, owned_copy),
    ("peer_quarantine", When::Start, quarantine_beside_peer),
    ("peer_service_calls", When::Start, services::exports),
    ("peer_service_busy", When::Start, services::exports),
    ("peer_service_panic", When::Start, services::exports),
    ("peer_service_held", When::Start, services::exports),
];

/// The peers' bodies, run in the peer instance's start.
const PEERS: &[(&str, Body)] = &[
    ("peer_close_order", peer_close_order),
    ("peer_owned_copy", peer_listens),
    ("peer_quarantine", peer_listens),
    ("peer_unload_drains", peer_listens),
    ("peer_unload_posts", peer_listens),
    ("peer_service_calls", services::peer_calls),
    ("peer_service_busy", services::peer_busy),
    ("peer_service_panic", services::peer_panic),
    ("peer_service_held", services::peer_holds),
];

/// The plugin: the scenario's name and whatever its handlers keep.
pub struct Scn {
    /// The second instance of a scenario with a peer.
    is_peer: bool,
    /// Whether dropping the state finishes the scenario (not by default
    /// when it has a peer: the peer may still have things to show).
    finish_on_drop: bool,
    body: Body,
    when: When,
    subs: Vec<Option<Subscription>>,
    timers: Vec<Option<Timer>>,
    n: u32,
    peer: Option<UnixStream>,
    work: Vec<WorkHandle>,
    remote: Option<Remote<Scn>>,
    /// Lets a waiting work function return (sent by stop).
    release: Option<mpsc::Sender<()>>,
    /// The watched end of a socketpair (fd_rules).
    mine: Option<UnixStream>,
    /// `scn.svc`, exported by the first instance (services.rs).
    svc: Option<ServiceExport>,
    /// `scn.echo`, exported by the peer (peer_service_busy).
    echo_export: Option<ServiceExport>,
    /// The peer's reference to `scn.svc`.
    client: Option<services::SvcClient>,
    /// The first instance's reference to `scn.echo`.
    echo: Option<services::EchoClient>,
    /// The peer keeps its reference after the revoke (peer_service_held).
    keep_ref: bool,
    /// The peer's revoke finishes the scenario, a turn later
    /// (peer_service_panic).
    finish_on_revoke: bool,
}

impl Drop for Scn {
    fn drop(&mut self) {
        if self.is_peer {
            rec("peer state dropped");
        } else {
            rec("state dropped");
            if self.finish_on_drop {
                finish();
            }
        }
    }
}

impl Plugin for Scn {
    fn init(ctx: &mut Ctx<Self>, config: &str) -> Result<Self> {
        let name = config.strip_prefix("scenario=").ok_or(Error::Invalid)?;
        let (name, is_peer) = match name.strip_suffix(";peer") {
            Some(name) => (name, true),
            None => (name, false),
        };
        let &(_, mut when, mut body) = SCENARIOS
            .iter()
            .find(|s| s.0 == name)
            .ok_or(Error::Invalid)?;
        if is_peer {
            when = When::Start;
            body = PEERS.iter().find(|p| p.0 == name).ok_or(Error::Invalid)?.1;
        }
        let mut me = Scn {
            is_peer,
            finish_on_drop: !has_peer(name),
            body,
            when,
            subs: Vec::new(),
            timers: Vec::new(),
            n: 0,
            peer: None,
            work: Vec::new(),
            remote: None,
            release: None,
            mine: None,
            svc: None,
            echo_export: None,
            client: None,
            echo: None,
            keep_ref: false,
            finish_on_revoke: false,
        };
        if when == When::Init {
            body(&mut me, ctx)?;
        }
        Ok(me)
    }

    fn start(&mut self, ctx: &mut Ctx<Self>) -> Result<()> {
        rec(if self.is_peer { "peer start" } else { "start" });
        if self.when == When::Start {
            (self.body)(self, ctx)?;
        }
        Ok(())
    }

    fn stop(&mut self, ctx: &mut Ctx<Self>) {
        rec(if self.is_peer { "peer stop" } else { "stop" });
        if let Some(tx) = self.release.take() {
            let _ = tx.send(());
        }
        if self.n == 77 {
            stop_calls_in_stop(self, ctx);
        }
        if self.n == 99 {
            panic!("scenario panic_in_stop: asked to panic");
        }
    }
}

/// D3, L3: A cancels B, later in the same round, and subscribes C to
/// another topic and D to the same one (B's slot is reused): none of them
/// gets the event in flight.
fn cancel_resubscribe(me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let (t, u) = (ctx.topic("t")?, ctx.topic("u")?);
    let a = ctx.subscribe(&t, move |me: &mut Scn, ctx, ev: &Event| {
        rec(format!("A {} {}", ev.topic_name(), text(ev)));
        if let Some(b) = me.subs[1].take() {
            rec(format!("cancel B {}", st(b.cancel())));
            let c = ctx.subscribe(&u, |_: &mut Scn, _, ev: &Event| {
                rec(format!("C {} {}", ev.topic_name(), text(ev)));
                finish();
                Ok(())
            })?;
            let d = ctx.subscribe(&t, |_: &mut Scn, _, ev: &Event| {
                rec(format!("D {} {}", ev.topic_name(), text(ev)));
                Ok(())
            })?;
            me.subs.push(Some(c));
            me.subs.push(Some(d));
            ctx.publish(&t, b"2")?;
            ctx.publish(&u, b"3")?;
        }
        Ok(())
    })?;
    let b = ctx.subscribe(&t, |_: &mut Scn, _, ev: &Event| {
        rec(format!("B {} {}", ev.topic_name(), text(ev)));
        Ok(())
    })?;
    me.subs = vec![Some(a), Some(b)];
    ctx.publish(&t, b"1")
}

/// F1: a panicking handler quarantines its plugin: the rest of the round
/// skips it, every registration is destroyed at once, no `stop`, then the
/// state is dropped.
fn quarantine(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let t = ctx.topic("t")?;
    let n = Note("panicking handler");
    ctx.subscribe(&t, move |_: &mut Scn, ctx, ev: &Event| {
        let _n = &n;
        rec(format!("handler {}", text(ev)));
        ctx.publish(&t, b"never")?;
        panic!("scenario quarantine: asked to panic");
    })?
    .detach();
    let n = Note("other handler");
    ctx.subscribe(&t, move |_: &mut Scn, _, ev: &Event| {
        let _n = &n;
        rec(format!("other {}", text(ev)));
        Ok(())
    })?
    .detach();
    let n = Note("timer");
    ctx.every(Duration::from_secs(3600), move |_: &mut Scn, _| {
        let _n = &n;
        rec("tick");
        Ok(())
    })?
    .detach();
    ctx.publish(&t, b"first")
}

/// W1, T5: a work function posts (blocking) and waits until the loop ran
/// the post; its done sees that it did.
fn work_post_wait(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let remote = ctx.remote()?;
    ctx.spawn_work(
        move || {
            let (tx, rx) = mpsc::channel::<()>();
            let posted = remote.post(
                move |_: &mut Scn, _| {
                    rec("post ran");
                    let _ = tx.send(());
                    Ok(())
                },
                PostMode::Block,
            );
            posted.is_ok() && rx.recv_timeout(Duration::from_secs(5)).is_ok()
        },
        |_: &mut Scn, _, r: Result<bool>| {
            rec(format!("done {r:?}"));
            finish();
            Ok(())
        },
    )?;
    Ok(())
}

/// U6, S3: unload_self during init is accepted; start still runs, then
/// the unload (with stop) as loading returns.
fn unload_self_init(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    rec(format!("unload_self {}", st(ctx.unload_self())));
    rec(format!("unload_self again {}", st(ctx.unload_self())));
    Ok(())
}

/// U6, S3: unload_self during start: the unload runs as loading returns,
/// before the event start published is delivered.
fn unload_self_start(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let t = ctx.topic("t")?;
    let n = Note("sub");
    ctx.subscribe(&t, move |_: &mut Scn, _, ev: &Event| {
        let _n = &n;
        rec(format!("sub got {}", text(ev)));
        Ok(())
    })?
    .detach();
    ctx.publish(&t, b"x")?;
    rec(format!("unload_self {}", st(ctx.unload_self())));
    Ok(())
}

/// L2, L10: a one-shot timer cancels itself in its only call: 0.
fn self_cancel_once(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let id = Rc::new(Cell::new(0u64));
    let own = id.clone();
    let n = Note("once");
    let t = ctx.after(Duration::from_millis(1), move |_: &mut Scn, ctx| {
        let _n = &n;
        rec(format!("once cancel {}", st(ctx.cancel(own.get()))));
        rec(format!("once cancel again {}", st(ctx.cancel(own.get()))));
        finish();
        Ok(())
    })?;
    id.set(t.id());
    t.detach();
    Ok(())
}

/// L2: a repeating timer cancels itself on its second call.
fn self_cancel_every(me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let id = Rc::new(Cell::new(0u64));
    let own = id.clone();
    let n = Note("every");
    let t = ctx.every(Duration::from_millis(1), move |me: &mut Scn, ctx| {
        let _n = &n;
        me.n += 1;
        rec(format!("tick {}", me.n));
        if me.n == 2 {
            rec(format!("every cancel {}", st(ctx.cancel(own.get()))));
            finish();
        }
        Ok(())
    })?;
    id.set(t.id());
    me.timers.push(Some(t));
    Ok(())
}

/// L2, L3: a subscription cancels itself; the next event, already
/// queued, is not delivered.
fn self_cancel_sub(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let t = ctx.topic("t")?;
    let id = Rc::new(Cell::new(0u64));
    let own = id.clone();
    let n = Note("sub");
    let s = ctx.subscribe(&t, move |_: &mut Scn, ctx, ev: &Event| {
        let _n = &n;
        rec(format!(
            "sub {} cancel {}",
            text(ev),
            st(ctx.cancel(own.get()))
        ));
        // a later turn shows that "2" never came
        ctx.after(Duration::from_millis(1), |_: &mut Scn, _| {
            rec("later");
            finish();
            Ok(())
        })?
        .detach();
        Ok(())
    })?;
    id.set(s.id());
    s.detach();
    ctx.publish(&t, b"1")?;
    ctx.publish(&t, b"2")
}

/// W1, W3, L2: a work item's done cancels its own id: 0, then stale.
fn self_cancel_work(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let id = Rc::new(Cell::new(0u64));
    let own = id.clone();
    let w = ctx.spawn_work(
        || 7u32,
        move |_: &mut Scn, ctx, r: Result<u32>| {
            rec(format!("done {r:?}"));
            rec(format!("done cancel {}", st(ctx.cancel(own.get()))));
            rec(format!("done cancel again {}", st(ctx.cancel(own.get()))));
            finish();
            Ok(())
        },
    )?;
    id.set(w.id());
    Ok(())
}

/// Owns another registration's guard; fields drop in order.
struct Holder {
    _note: Note,
    _guard: Subscription,
}

/// L1: cancelling X drops X's closure, which owns Y's guard: Y ends at
/// once, inside X's destroy, and never sees a later event.
fn guard_drop_in_destroy(me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let (x, y) = (ctx.topic("x")?, ctx.topic("y")?);
    let n = Note("Y handler");
    let gy = ctx.subscribe(&y, move |_: &mut Scn, _, ev: &Event| {
        let _n = &n;
        rec(format!("Y got {}", text(ev)));
        Ok(())
    })?;
    let holder = Holder {
        _note: Note("X handler"),
        _guard: gy,
    };
    let gx = ctx.subscribe(&x, move |_: &mut Scn, _, _: &Event| {
        let _h = &holder;
        Ok(())
    })?;
    me.subs.push(Some(gx));
    ctx.after(Duration::from_millis(1), move |me: &mut Scn, ctx| {
        let gx = me.subs[0].take().ok_or(Error::Invalid)?;
        rec(format!("cancel X {}", st(gx.cancel())));
        rec("after cancel");
        ctx.publish(&y, b"late")?;
        ctx.after(Duration::from_millis(1), |_: &mut Scn, _| {
            rec("end");
            finish();
            Ok(())
        })?
        .detach();
        Ok(())
    })?
    .detach();
    Ok(())
}

extern "C" fn note_free(_data: *mut c_void, len: usize, _hint: *mut c_void) {
    rec(format!("free {len}"));
}

static OWNED: [u8; 5] = *b"owned";

/// L8: an owned payload still queued when its publisher unloads is freed
/// before the publisher's on_unload (state dropped).
fn owned_before_unload(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    ctx.after(Duration::from_millis(1), |_: &mut Scn, ctx| {
        let t = ctx.topic("o")?;
        let raw = ctx.raw();
        // SAFETY: the instance is loaded for this call; OWNED is static and
        // never written, so it outlives the host's use of it.
        let rc = unsafe {
            match raw.api().publish_owned {
                Some(f) => f(
                    raw.ctx,
                    t.id(),
                    OWNED.as_ptr() as *mut c_void,
                    OWNED.len(),
                    Some(note_free),
                    std::ptr::null_mut(),
                ),
                None => -1,
            }
        };
        rec(format!("publish_owned {rc}"));
        rec(format!("unload_self {}", st(ctx.unload_self())));
        Ok(())
    })?
    .detach();
    Ok(())
}

/// R4: posts still queued when the plugin unloads never run; their
/// closures are dropped after stop, before the state.
fn unload_queued_posts(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    ctx.after(Duration::from_millis(1), |_: &mut Scn, ctx| {
        let remote = ctx.remote()?;
        for (i, name) in ["post 0", "post 1"].into_iter().enumerate() {
            let n = Note(name);
            let r = remote.post(
                move |_: &mut Scn, _| {
                    let _n = &n;
                    rec(format!("ran {i}"));
                    Ok(())
                },
                PostMode::NonBlock,
            );
            rec(format!("post {i} {}", st(r)));
        }
        rec(format!("unload_self {}", st(ctx.unload_self())));
        Ok(())
    })?
    .detach();
    Ok(())
}

fn arm(ctx: &mut Ctx<Scn>, z: Topic, i: u32) -> Result<()> {
    ctx.after(Duration::ZERO, move |_: &mut Scn, ctx| {
        rec(format!("timer {i}"));
        ctx.publish(&z, i.to_string().as_bytes())?;
        if i < 3 {
            arm(ctx, z, i + 1)?;
        }
        Ok(())
    })?
    .detach();
    Ok(())
}

/// D2, D6: a 0 ms timer re-armed from its own callback fires on a later
/// turn; the event it published is delivered in between.
fn zero_ms_rearm(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let z = ctx.topic("z")?;
    ctx.subscribe(&z, |_: &mut Scn, _, ev: &Event| {
        rec(format!("event {}", text(ev)));
        if ev.data() == b"3" {
            finish();
        }
        Ok(())
    })?
    .detach();
    arm(ctx, z, 1)
}

/// D1, D2: one FIFO across topics; an event published by a handler comes
/// after those already queued.
fn two_topics_order(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let (a, b) = (ctx.topic("a")?, ctx.topic("b")?);
    ctx.subscribe(&a, move |_: &mut Scn, ctx, ev: &Event| {
        rec(format!("a {}", text(ev)));
        match ev.data() {
            b"a1" => ctx.publish(&a, b"a3")?,
            b"a3" => finish(),
            _ => {}
        }
        Ok(())
    })?
    .detach();
    ctx.subscribe(&b, |_: &mut Scn, _, ev: &Event| {
        rec(format!("b {}", text(ev)));
        Ok(())
    })?
    .detach();
    for (t, d) in [(a, "a1"), (b, "b1"), (a, "a2"), (b, "b2")] {
        ctx.publish(&t, d.as_bytes())?;
    }
    Ok(())
}

/// D7, L2: a watch on one end of a socketpair reads what the other end
/// wrote, then cancels itself (0); the socket is dropped with the watch.
fn fd_socketpair(me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let (mine, mut theirs) = UnixStream::pair().map_err(|_| Error::Invalid)?;
    theirs.write_all(b"ping").map_err(|_| Error::Invalid)?;
    me.peer = Some(theirs);
    let id = Rc::new(Cell::new(0u64));
    let own = id.clone();
    let n = Note("watch");
    let w = ctx.watch_fd(
        mine,
        Interest::READABLE,
        move |_: &mut Scn, ctx, io: &mut UnixStream, ready: Readiness| {
            let _n = &n;
            let mut buf = [0u8; 16];
            let got = io.read(&mut buf).map_err(|_| Error::Invalid)?;
            rec(format!(
                "readable {} read {}",
                ready.is_readable(),
                String::from_utf8_lossy(&buf[..got])
            ));
            rec(format!("watch cancel {}", st(ctx.cancel(own.get()))));
            finish();
            Ok(())
        },
    )?;
    id.set(w.id());
    w.detach();
    Ok(())
}

/// D6, D5: timers due at the same time fire in one round, in start order;
/// the events they publish are delivered after the round.
fn timer_round(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let e = ctx.topic("e")?;
    ctx.subscribe(&e, |_: &mut Scn, _, ev: &Event| {
        rec(format!("event {}", text(ev)));
        if ev.data() == b"T2" {
            finish();
        }
        Ok(())
    })?
    .detach();
    for name in ["T1", "T2"] {
        ctx.after(Duration::from_millis(3), move |_: &mut Scn, ctx| {
            rec(format!("timer {name}"));
            ctx.publish(&e, name.as_bytes())
        })?
        .detach();
    }
    Ok(())
}

/// S3, U1: unload_self in the first of two subscribers of one event: the
/// unload runs as that callback returns; the second never runs.
fn unload_mid_fanout(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let t = ctx.topic("t")?;
    let n = Note("first");
    ctx.subscribe(&t, move |_: &mut Scn, ctx, ev: &Event| {
        let _n = &n;
        rec(format!("first {}", text(ev)));
        rec(format!("unload_self {}", st(ctx.unload_self())));
        Ok(())
    })?
    .detach();
    let n = Note("second");
    ctx.subscribe(&t, move |_: &mut Scn, _, ev: &Event| {
        let _n = &n;
        rec(format!("second {}", text(ev)));
        Ok(())
    })?
    .detach();
    ctx.publish(&t, b"x")
}

/// Panics when dropped: a panic inside a destroy.
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        rec("drop panics");
        panic!("scenario: panic in a destroy");
    }
}

/// F7: a panic in a destroy is reported as a fault: the plugin is
/// quarantined once the callback that cancelled returns (no stop).
fn panic_in_destroy(me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let t = ctx.topic("t")?;
    let p = PanicOnDrop;
    let s = ctx.subscribe(&t, move |_: &mut Scn, _, _: &Event| {
        let _p = &p;
        Ok(())
    })?;
    me.subs.push(Some(s));
    let n = Note("other");
    ctx.every(Duration::from_secs(3600), move |_: &mut Scn, _| {
        let _n = &n;
        Ok(())
    })?
    .detach();
    ctx.after(Duration::from_millis(1), |me: &mut Scn, ctx| {
        let s = me.subs[0].take().ok_or(Error::Invalid)?;
        let r = s.cancel();
        rec(format!("cancel {}", st(r)));
        let t = ctx.topic("t")?;
        ctx.publish(&t, b"late")?;
        rec("callback returns");
        Ok(())
    })?
    .detach();
    Ok(())
}

/// F7: a panic in stop is reported as a fault and only counted: the
/// unload goes on (destroys, state dropped).
fn panic_in_stop(me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let n = Note("timer");
    ctx.every(Duration::from_secs(3600), move |_: &mut Scn, _| {
        let _n = &n;
        Ok(())
    })?
    .detach();
    me.n = 99; // stop panics
    finish();
    Ok(())
}

/// F1, W2, U3: a plugin panics while its work runs: its registrations end
/// at once, the work's done hears Canceled once the work returned, then
/// the state is dropped (no stop).
fn quarantine_running_work(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let (tx, rx) = mpsc::channel::<()>();
    let n = Note("done closure");
    ctx.spawn_work(
        move || rx.recv_timeout(Duration::from_secs(5)).is_ok(),
        move |_: &mut Scn, _, r: Result<bool>| {
            let _n = &n;
            rec(format!("done {r:?}"));
            Ok(())
        },
    )?;
    let t = ctx.topic("t")?;
    let n = Note("handler");
    let tx = std::sync::Mutex::new(Some(tx));
    ctx.subscribe(&t, move |_: &mut Scn, _, _: &Event| {
        let _n = &n;
        rec("handler panics");
        // let the work return, but only after this callback panicked
        let tx = tx.lock().ok().and_then(|mut g| g.take());
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            if let Some(t) = tx {
                let _ = t.send(());
            }
        });
        panic!("scenario: quarantine while work runs");
    })?
    .detach();
    ctx.publish(&t, b"x")
}

/// D6: a repeating timer is re-queued after each call with a new start
/// order: at a tie it comes after a timer started before that call.
fn repeat_rearm_order(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let id = Rc::new(Cell::new(0u64));
    let own = id.clone();
    let r = ctx.every(Duration::from_millis(2), move |me: &mut Scn, ctx| {
        me.n += 1;
        rec(format!("R {}", me.n));
        if me.n == 2 {
            rec(format!("R cancel {}", st(ctx.cancel(own.get()))));
            finish();
        }
        Ok(())
    })?;
    id.set(r.id());
    r.detach();
    ctx.after(Duration::from_millis(4), |_: &mut Scn, _| {
        rec("O");
        Ok(())
    })?
    .detach();
    Ok(())
}

/// R1, D2: posts and remote publishes of one thread run in order on the
/// loop: a remote publish is delivered as the post queue is run, between
/// the posts around it; a local event queued before is delivered first.
fn remote_order(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let r = ctx.topic("r")?;
    ctx.subscribe(&r, |_: &mut Scn, _, ev: &Event| {
        rec(format!("event {}", text(ev)));
        Ok(())
    })?
    .detach();
    ctx.publish(&r, b"local")?;
    let remote = ctx.remote()?;
    let posted = std::thread::spawn(move || {
        let p1 = remote.post(
            |_: &mut Scn, _| {
                rec("p1");
                Ok(())
            },
            PostMode::NonBlock,
        );
        let e1 = remote.publish(&r, b"remote", PostMode::NonBlock);
        let p2 = remote.post(
            |_: &mut Scn, _| {
                rec("p2");
                finish();
                Ok(())
            },
            PostMode::NonBlock,
        );
        p1.and(e1).and(p2)
    })
    .join()
    .map_err(|_| Error::Panic)?;
    rec(format!("posted {}", st(posted)));
    Ok(())
}

/// L8, S3: the plugin unloads itself while its own owned payload is being
/// delivered: the rest of the fan-out skips it, and the payload is freed
/// when the delivery ends, before on_unload (state dropped).
fn owned_in_flight_unload(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let o = ctx.topic("o")?;
    let n = Note("sub");
    ctx.subscribe(&o, move |_: &mut Scn, ctx, ev: &Event| {
        let _n = &n;
        rec(format!("got {}", text(ev)));
        rec(format!("unload_self {}", st(ctx.unload_self())));
        Ok(())
    })?
    .detach();
    let n = Note("second sub");
    ctx.subscribe(&o, move |_: &mut Scn, _, ev: &Event| {
        let _n = &n;
        rec(format!("second got {}", text(ev)));
        Ok(())
    })?
    .detach();
    let raw = ctx.raw();
    // SAFETY: the instance is loaded for this call; OWNED is static and
    // never written.
    let rc = unsafe {
        match raw.api().publish_owned {
            Some(f) => f(
                raw.ctx,
                o.id(),
                OWNED.as_ptr() as *mut c_void,
                OWNED.len(),
                Some(note_free),
                std::ptr::null_mut(),
            ),
            None => -1,
        }
    };
    rec(format!("publish_owned {rc}"));
    Ok(())
}

/// W4, W5: with the default bound of 2 held by A and B (waiting for a
/// signal), C waits; cancelled, it never runs and its done hears Canceled
/// on a later turn; then A and B are let go in turn.
fn work_cancel_waiting(me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let (txa, rxa) = mpsc::channel::<()>();
    let (txb, rxb) = mpsc::channel::<()>();
    ctx.spawn_work(
        move || rxa.recv_timeout(Duration::from_secs(5)).is_ok(),
        move |_: &mut Scn, _, r: Result<bool>| {
            rec(format!("A done {r:?}"));
            let _ = txb.send(());
            Ok(())
        },
    )?;
    ctx.spawn_work(
        move || rxb.recv_timeout(Duration::from_secs(5)).is_ok(),
        |_: &mut Scn, _, r: Result<bool>| {
            rec(format!("B done {r:?}"));
            finish();
            Ok(())
        },
    )?;
    let ran = Arc::new(AtomicBool::new(false));
    let ran2 = ran.clone();
    let c = ctx.spawn_work(
        move || ran2.store(true, Ordering::SeqCst),
        move |_: &mut Scn, _, r: Result<()>| {
            rec(format!("C done {r:?} ran {}", ran.load(Ordering::SeqCst)));
            let _ = txa.send(());
            Ok(())
        },
    )?;
    me.work.push(c);
    ctx.after(Duration::from_millis(1), |me: &mut Scn, _| {
        let c = me.work.pop().ok_or(Error::Invalid)?;
        rec(format!("cancel C {}", st(c.cancel())));
        Ok(())
    })?
    .detach();
    Ok(())
}

/// D5: at most `batch` (1024 by default) events per loop turn: a 0 ms
/// timer started by the first of 1100 events fires after the first batch.
fn batch_timer(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let e = ctx.topic("e")?;
    ctx.subscribe(&e, |me: &mut Scn, ctx, _: &Event| {
        me.n += 1;
        if me.n == 1 {
            ctx.after(Duration::ZERO, |me: &mut Scn, _| {
                rec(format!("timer after {} events", me.n));
                Ok(())
            })?
            .detach();
        }
        if me.n == 1100 {
            rec("event 1100");
            finish();
        }
        Ok(())
    })?
    .detach();
    for _ in 0..1100 {
        ctx.publish(&e, b"")?;
    }
    Ok(())
}

extern "C" fn free_and_unload(_data: *mut c_void, len: usize, _hint: *mut c_void) {
    rec(format!("free {len}"));
    if let Some(raw) = RAW.with(|r| r.take()) {
        // SAFETY: the instance is still loaded: a free_fn runs before its
        // publisher's on_unload (L8).
        let rc = unsafe {
            match raw.api().unload_self {
                Some(f) => f(raw.ctx),
                None => -1,
            }
        };
        rec(format!("unload_self in free {rc}"));
    }
}

/// S3: unload_self from a payload's free_fn, which returns into no
/// callback: the unload starts on the next loop turn, so the events
/// queued behind the payload are still delivered in this one.
fn unload_self_in_free(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let t = ctx.topic("t")?;
    let n = Note("sub");
    ctx.subscribe(&t, move |_: &mut Scn, _, ev: &Event| {
        let _n = &n;
        rec(format!("got {}", text(ev)));
        Ok(())
    })?
    .detach();
    RAW.with(|r| r.set(Some(ctx.raw())));
    let raw = ctx.raw();
    // SAFETY: the instance is loaded for this call; OWNED is static and
    // never written.
    let rc = unsafe {
        match raw.api().publish_owned {
            Some(f) => f(
                raw.ctx,
                t.id(),
                OWNED.as_ptr() as *mut c_void,
                OWNED.len(),
                Some(free_and_unload),
                std::ptr::null_mut(),
            ),
            None => -1,
        }
    };
    rec(format!("publish_owned {rc}"));
    ctx.publish(&t, b"e1")?;
    ctx.publish(&t, b"e2")
}

/// Reports a non-panic fault through `api->fault` when dropped (F7).
struct FaultOnDrop;

impl Drop for FaultOnDrop {
    fn drop(&mut self) {
        let Some(raw) = RAW.with(|r| r.get()) else {
            return;
        };
        let msg = "scenario: fault from a destroy";
        // SAFETY: dropped by a destroy, while the instance is loaded.
        let rc = unsafe {
            match raw.api().fault {
                Some(f) => f(raw.ctx, Error::Busy.code(), msg.as_ptr().cast(), msg.len()),
                None => -1,
            }
        };
        rec(format!("fault {rc}"));
    }
}

/// F2, F7: a failing subscriber, post, work done and timer are each
/// counted in errors, and so is a fault reported from a destroy; the
/// plugin keeps running. Each step starts the next, so the order is the
/// same on every host.
fn errors_counted(me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    RAW.with(|r| r.set(Some(ctx.raw())));
    let t = ctx.topic("t")?;
    let f = FaultOnDrop;
    let s = ctx.subscribe(&t, move |_: &mut Scn, ctx, ev: &Event| {
        let _f = &f;
        rec(format!("sub {} fails", text(ev)));
        ctx.remote()?.post(
            |_: &mut Scn, ctx| {
                rec("post fails");
                ctx.spawn_work(
                    || (),
                    |_: &mut Scn, ctx, _: Result<()>| {
                        rec("done fails");
                        ctx.after(Duration::from_millis(1), |me: &mut Scn, ctx| {
                            rec("timer cancels the sub, then fails");
                            drop(me.subs[0].take());
                            ctx.after(Duration::from_millis(1), |_: &mut Scn, _| {
                                rec("end");
                                finish();
                                Ok(())
                            })?
                            .detach();
                            Err(Error::NoEnt)
                        })?
                        .detach();
                        Err(Error::Invalid)
                    },
                )?;
                Err(Error::Again)
            },
            PostMode::NonBlock,
        )?;
        Err(Error::Busy)
    })?;
    me.subs.push(Some(s));
    ctx.publish(&t, b"x")
}

/// S2, L8: the host closes with the instance loaded and an owned payload
/// of it still queued: stop, every destroy, the payload freed (the event
/// dropped: no delivery after close), then the state.
fn close_with_queued(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let o = ctx.topic("o")?;
    let n = Note("sub");
    ctx.subscribe(&o, move |_: &mut Scn, _, ev: &Event| {
        let _n = &n;
        rec(format!("got {}", text(ev)));
        Ok(())
    })?
    .detach();
    // The last step of a turn is its posts: what this post publishes is
    // still queued when the driver stops.
    ctx.remote()?.post(
        move |_: &mut Scn, ctx| {
            let n = Note("timer");
            ctx.every(Duration::from_secs(3600), move |_: &mut Scn, _| {
                let _n = &n;
                Ok(())
            })?
            .detach();
            let raw = ctx.raw();
            // SAFETY: the instance is loaded for this call; OWNED is static
            // and never written.
            let rc = unsafe {
                match raw.api().publish_owned {
                    Some(f) => f(
                        raw.ctx,
                        o.id(),
                        OWNED.as_ptr() as *mut c_void,
                        OWNED.len(),
                        Some(note_free),
                        std::ptr::null_mut(),
                    ),
                    None => -1,
                }
            };
            rec(format!("publish_owned {rc}"));
            keep_loaded();
            finish();
            Ok(())
        },
        PostMode::NonBlock,
    )?;
    Ok(())
}

/// F3, F4, L4, L5: bad input gets its status, the same on both hosts: bad
/// topic names, an oversized payload, ids never issued, a stale id and the
/// free slot's next generation (never issued).
fn bad_input(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    rec(format!("topic empty {}", st(ctx.topic(""))));
    rec(format!("topic 256 {}", st(ctx.topic(&"a".repeat(256)))));
    rec(format!("topic 255 {}", st(ctx.topic(&"a".repeat(255)))));
    rec(format!("topic nul {}", st(ctx.topic("a\0b"))));
    let t = ctx.topic("t")?;
    rec(format!(
        "publish 1 MiB {}",
        st(ctx.publish(&t, &vec![0; 1 << 20]))
    ));
    rec(format!(
        "publish 1 MiB + 1 {}",
        st(ctx.publish(&t, &vec![0; (1 << 20) + 1]))
    ));
    rec(format!("cancel 0 {}", st(ctx.cancel(0))));
    rec(format!("cancel max {}", st(ctx.cancel(u64::MAX))));
    rec(format!(
        "cancel slot 4000 {}",
        st(ctx.cancel((1 << 32) | 4000))
    ));
    let s = ctx.subscribe(&t, |_: &mut Scn, _, _: &Event| Ok(()))?;
    let id = s.id();
    rec(format!("cancel live {}", st(ctx.cancel(id))));
    rec(format!("cancel again {}", st(ctx.cancel(id))));
    rec(format!(
        "cancel next gen {}",
        st(ctx.cancel(id + (1 << 32)))
    ));
    rec(format!("cancel gen + 2 {}", st(ctx.cancel(id + (2 << 32)))));
    rec(format!("drop guard {}", st(s.cancel())));
    rec(format!(
        "every 0 {}",
        st(ctx.every(Duration::ZERO, |_: &mut Scn, _| Ok(())))
    ));
    // T2: a loop-only call from another thread is refused.
    let raw = ctx.raw();
    let rc = std::thread::spawn(move || {
        // SAFETY: the instance stays loaded: this thread is joined at once.
        unsafe { raw.publish(t, b"from a thread") }
    })
    .join()
    .map_err(|_| Error::Panic)?;
    rec(format!("publish from a thread {rc}"));
    // D8: copied payloads arrive aligned to max_align_t (16 here).
    ctx.subscribe(&t, |_: &mut Scn, _, ev: &Event| {
        let aligned = ev.data().is_empty() || ev.data().as_ptr() as usize % 16 == 0;
        rec(format!("got {} bytes, aligned {aligned}", ev.data().len()));
        if ev.data().len() == 1000 {
            finish();
        }
        Ok(())
    })?
    .detach();
    for len in [0, 1, 7, 40, 41, 1000] {
        ctx.publish(&t, &vec![1u8; len])?;
    }
    Ok(())
}

/// S1, U1: during stop, registrations are refused (Closed), publish and
/// cancel still work, unload_self and remote are refused, and a post is
/// accepted (until stop returns) and then destroyed unrun (R4, U4).
fn stop_calls(me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let t = ctx.topic("t")?;
    let n = Note("sub");
    let s = ctx.subscribe(&t, move |_: &mut Scn, _, ev: &Event| {
        let _n = &n;
        rec(format!("got {}", text(ev)));
        Ok(())
    })?;
    me.subs.push(Some(s));
    let n = Note("other sub");
    ctx.subscribe(&t, move |_: &mut Scn, _, _: &Event| {
        let _n = &n;
        Ok(())
    })?
    .detach();
    me.remote = Some(ctx.remote()?);
    me.n = 77;
    finish();
    Ok(())
}

fn stop_calls_in_stop(me: &mut Scn, ctx: &mut Ctx<Scn>) {
    let t = ctx.topic("t").expect("topic");
    rec(format!(
        "subscribe in stop {}",
        st(ctx.subscribe(&t, |_: &mut Scn, _, _: &Event| Ok(())))
    ));
    rec(format!(
        "timer in stop {}",
        st(ctx.after(Duration::ZERO, |_: &mut Scn, _| Ok(())))
    ));
    rec(format!("publish in stop {}", st(ctx.publish(&t, b"late"))));
    let s = me.subs[0].take().expect("sub");
    rec(format!("cancel in stop {}", st(s.cancel())));
    rec(format!("unload_self in stop {}", st(ctx.unload_self())));
    rec(format!("remote in stop {}", st(ctx.remote())));
    if let Some(remote) = &me.remote {
        let n = Note("post made in stop");
        let r = remote.post(
            move |_: &mut Scn, _| {
                let _n = &n;
                rec("post made in stop ran");
                Ok(())
            },
            PostMode::NonBlock,
        );
        rec(format!("post in stop {}", st(r)));
    }
}

/// S2: the host closes newest first: the peer (loaded second) stops and
/// is dropped before the first instance.
fn close_order(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let n = Note("timer");
    ctx.every(Duration::from_secs(3600), move |_: &mut Scn, _| {
        let _n = &n;
        Ok(())
    })?
    .detach();
    keep_loaded();
    finish();
    Ok(())
}

fn peer_close_order(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let n = Note("peer timer");
    ctx.every(Duration::from_secs(3600), move |_: &mut Scn, _| {
        let _n = &n;
        Ok(())
    })?
    .detach();
    Ok(())
}

/// The peer records every event on `t` and `o`.
fn peer_listens(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    for name in ["t", "o"] {
        let t = ctx.topic(name)?;
        let n = Note("peer sub");
        ctx.subscribe(&t, move |_: &mut Scn, _, ev: &Event| {
            let _n = &n;
            rec(format!("peer got {} {}", ev.topic_name(), text(ev)));
            if text(ev) == "last" {
                finish();
            }
            Ok(())
        })?
        .detach();
    }
    Ok(())
}

/// L8, U2: the first instance publishes an owned payload and unloads
/// itself in the same callback: the payload is freed before its state is
/// dropped, and the peer still gets the event, from the host's copy.
fn owned_copy(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    // a timer: the peer is loaded (and subscribed) by the time it fires
    ctx.after(Duration::from_millis(1), |_: &mut Scn, ctx| {
        let o = ctx.topic("o")?;
        let raw = ctx.raw();
        // SAFETY: the instance is loaded for this call; OWNED is static and
        // never written.
        let rc = unsafe {
            match raw.api().publish_owned {
                Some(f) => f(
                    raw.ctx,
                    o.id(),
                    OWNED.as_ptr() as *mut c_void,
                    OWNED.len(),
                    Some(note_free),
                    std::ptr::null_mut(),
                ),
                None => -1,
            }
        };
        rec(format!("publish_owned {rc}"));
        ctx.publish(&o, b"last")?;
        rec(format!("unload_self {}", st(ctx.unload_self())));
        Ok(())
    })?
    .detach();
    Ok(())
}

/// F6, F1: the first instance panics; the peer keeps getting every event,
/// those the quarantined instance published before its panic included.
fn quarantine_beside_peer(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    ctx.after(Duration::from_millis(1), |_: &mut Scn, ctx| {
        let t = ctx.topic("t")?;
        ctx.publish(&t, b"before")?;
        ctx.publish(&t, b"last")?;
        panic!("scenario peer_quarantine: asked to panic");
    })?
    .detach();
    Ok(())
}

/// A9, U6: init registers, asks for its unload, then fails: the load
/// fails with EINIT, the registration is destroyed, the unload request is
/// void, no start, stop or state.
fn init_fails(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let t = ctx.topic("t")?;
    let n = Note("sub of init");
    ctx.subscribe(&t, move |_: &mut Scn, _, _: &Event| {
        let _n = &n;
        Ok(())
    })?
    .detach();
    rec(format!("unload_self {}", st(ctx.unload_self())));
    finish();
    Err(Error::Busy)
}

/// A9: start fails: the load fails with EINIT, registrations are
/// destroyed, no stop, the state is dropped.
fn start_fails(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let t = ctx.topic("t")?;
    let n = Note("sub of start");
    ctx.subscribe(&t, move |_: &mut Scn, _, _: &Event| {
        let _n = &n;
        Ok(())
    })?
    .detach();
    Err(Error::Again)
}

/// A9, F1: a panic in init fails the load (EINIT), it quarantines
/// nothing: the registration made before it is destroyed.
fn init_panics(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let t = ctx.topic("t")?;
    let n = Note("sub of init");
    ctx.subscribe(&t, move |_: &mut Scn, _, _: &Event| {
        let _n = &n;
        Ok(())
    })?
    .detach();
    finish();
    panic!("scenario init_panics: asked to panic");
}

/// D4, R2: the event queue (65536 by default) and the post queue (65536)
/// refuse the next one with Again; every accepted one is then run. The
/// topic table (65536) refuses the next new name with NoSpace.
fn queues_full(_me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let t = ctx.topic("t")?;
    let mut n = 0u32;
    let err = loop {
        match ctx.publish(&t, b"") {
            Ok(()) => n += 1,
            Err(e) => break e,
        }
    };
    rec(format!("published {n}, then {err:?}"));
    let remote = ctx.remote()?;
    let mut n = 0u32;
    let err = loop {
        let r = remote.post(
            |me: &mut Scn, _| {
                me.n += 1;
                if me.n == 65536 {
                    rec("post 65536 ran");
                    finish();
                }
                Ok(())
            },
            PostMode::NonBlock,
        );
        match r {
            Ok(()) => n += 1,
            Err(e) => break e,
        }
    };
    rec(format!("posted {n}, then {err:?}"));
    // F3: the topic table (max_topics, 65536 by default; `t` is one)
    let mut n = 1u32;
    let err = loop {
        match ctx.topic(&format!("topic-{n}")) {
            Ok(_) => n += 1,
            Err(e) => break e,
        }
    };
    rec(format!("topics {n}, then {err:?}"));
    rec(format!("known topic still {}", st(ctx.topic("t"))));
    Ok(())
}

/// U1, U3, S3: the first instance unloads itself in its handler of an
/// event the peer also gets, later in the same fan-out. The unload starts
/// at once (stop, destroys) but drains: the peer still gets the event,
/// then the running work's done hears Canceled, and only then is the
/// state dropped.
fn unload_drains(me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let (tx, rx) = mpsc::channel::<()>();
    me.release = Some(tx);
    let n = Note("done closure");
    ctx.spawn_work(
        move || rx.recv_timeout(Duration::from_secs(5)).is_ok(),
        move |_: &mut Scn, _, r: Result<bool>| {
            let _n = &n;
            rec(format!("done {r:?}"));
            finish();
            Ok(())
        },
    )?;
    unload_in_handler(ctx, false)
}

/// R4, U2: as peer_unload_drains with a queued post instead of work: the
/// post is destroyed unrun after the fan-out, then the state is dropped.
fn unload_posts(me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    me.finish_on_drop = true;
    unload_in_handler(ctx, true)
}

/// Subscribes the first instance to `t` with a handler that (optionally
/// posts, then) unloads it; publishes `go` on `t`.
fn unload_in_handler(ctx: &mut Ctx<Scn>, post: bool) -> Result<()> {
    let t = ctx.topic("t")?;
    let n = Note("main sub");
    ctx.subscribe(&t, move |_: &mut Scn, ctx, ev: &Event| {
        let _n = &n;
        rec(format!("main got {}", text(ev)));
        if post {
            let n = Note("post");
            let r = ctx.remote()?.post(
                move |_: &mut Scn, _| {
                    let _n = &n;
                    rec("post ran");
                    Ok(())
                },
                PostMode::NonBlock,
            );
            rec(format!("post {}", st(r)));
        }
        rec(format!("unload_self {}", st(ctx.unload_self())));
        Ok(())
    })?
    .detach();
    ctx.publish(&t, b"go")
}

extern "C" {
    fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
}

/// Whether `fd` is non-blocking (`O_NONBLOCK`, Linux value).
fn nonblocking(fd: RawFd) -> bool {
    // SAFETY: F_GETFL (3) only reads the flags of an open fd.
    let fl = unsafe { fcntl(fd, 3) };
    fl >= 0 && fl & 0o4000 != 0
}

/// D7: a watched fd is non-blocking while watched (a handler reads until
/// WouldBlock) and blocking again once the watch ends; a second watch of
/// it is Busy; a regular file and a closed fd are Invalid.
fn fd_rules(me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let (mine, mut theirs) = UnixStream::pair().map_err(|_| Error::Invalid)?;
    theirs.write_all(b"ping").map_err(|_| Error::Invalid)?;
    let fd = mine.as_raw_fd();
    me.mine = Some(mine);
    me.peer = Some(theirs);
    rec(format!("nonblocking before {}", nonblocking(fd)));
    let id = Rc::new(Cell::new(0u64));
    let own = id.clone();
    // SAFETY: the fd is the state's `mine`, open until the state is
    // dropped, after every destroy.
    let w = unsafe {
        ctx.watch_raw_fd(
            fd,
            Interest::READABLE,
            move |me: &mut Scn, ctx, _: Readiness| {
                let io = me.mine.as_mut().ok_or(Error::Invalid)?;
                let mut buf = [0u8; 16];
                let mut got = Vec::new();
                let end = loop {
                    match io.read(&mut buf) {
                        Ok(0) => break "eof".to_string(),
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                        Err(e) => break format!("{:?}", e.kind()),
                    }
                };
                rec(format!(
                    "read {}, then {end}",
                    String::from_utf8_lossy(&got)
                ));
                rec(format!("watch cancel {}", st(ctx.cancel(own.get()))));
                rec(format!("nonblocking after {}", nonblocking(io.as_raw_fd())));
                finish();
                Ok(())
            },
        )?
    };
    id.set(w.id());
    w.detach();
    rec(format!("nonblocking while watched {}", nonblocking(fd)));
    // SAFETY: as above; a refused watch keeps nothing.
    let again = unsafe { ctx.watch_raw_fd(fd, Interest::READABLE, |_: &mut Scn, _, _| Ok(())) };
    rec(format!("watch again {}", st(again)));
    let file = std::fs::File::open("/proc/self/exe").map_err(|_| Error::Invalid)?;
    // SAFETY: the file is open for the call; a refused watch keeps nothing.
    let reg = unsafe {
        ctx.watch_raw_fd(file.as_raw_fd(), Interest::READABLE, |_: &mut Scn, _, _| {
            Ok(())
        })
    };
    rec(format!("watch regular file {}", st(reg)));
    // SAFETY: an fd number no process has open; a refused watch keeps
    // nothing.
    let closed =
        unsafe { ctx.watch_raw_fd(1 << 20, Interest::READABLE, |_: &mut Scn, _, _| Ok(())) };
    rec(format!("watch closed fd {}", st(closed)));
    Ok(())
}

export_plugin!(Scn, name = "scenarios", version = env!("CARGO_PKG_VERSION"));
