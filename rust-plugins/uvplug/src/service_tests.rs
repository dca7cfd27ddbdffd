//! Services (contract V1-V7) and counters through the SDK and the fake
//! host: the rules the C host keeps too (tests/integration/ checks those).

// The declarations below generate a full API per service (consts, client
// methods) of which each test uses a part.
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use crate::prelude::*;
use crate::testing::{FaultPolicy, TestHost};
use crate::{sys, Descriptor};

crate::service! {
    /// A small test service.
    pub service Calc {
        name = "calc", major = 1, minor = 1,
        provider = CalcProvider, client = CalcClient;
        /// `out = a + b`; `Error::Invalid` on overflow.
        fn add [CALC_ADD = 0] (AddArgs { a: u32, b: u32, out: u32 });
        /// Panics when `boom` is not 0; else counts calls into `calls`.
        fn poke [CALC_POKE = 1] (PokeArgs { boom: u32, calls: u64 });
        /// Calls the "echo" service back (re-entry test): its status.
        fn back [CALC_BACK = 2] (BackArgs { status: i32 });
    }
}

crate::service! {
    /// `calc` as an old importer knows it: minor 0, two functions.
    pub service CalcV10 {
        name = "calc", major = 1, minor = 0,
        provider = CalcV10Provider, client = CalcV10Client;
        /// as Calc.add
        fn add [CALC10_ADD = 0] (Add10Args { a: u32, b: u32, out: u32 });
        /// as Calc.poke
        fn poke [CALC10_POKE = 1] (Poke10Args { boom: u32, calls: u64 });
    }
}

crate::service! {
    /// `calc` of a later, incompatible major.
    pub service CalcV2 {
        name = "calc", major = 2, minor = 0,
        provider = CalcV2Provider, client = CalcV2Client;
        /// anything
        fn nop [CALC2_NOP = 0] (NopArgs { x: u32 });
    }
}

crate::service! {
    /// What the importer exports for the re-entry test.
    pub service Echo {
        name = "echo", major = 1, minor = 0,
        provider = EchoProvider, client = EchoClient;
        /// Calls calc.add from inside (must be refused: calc is busy).
        fn ping [ECHO_PING = 0] (PingArgs { status: i32 });
    }
}

thread_local! {
    /// What happened, in order: "stop:<name>", "revoke:<reason>", ...
    static EVENTS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn event(s: impl Into<String>) {
    EVENTS.with(|e| e.borrow_mut().push(s.into()));
}

fn events() -> Vec<String> {
    EVENTS.with(|e| std::mem::take(&mut *e.borrow_mut()))
}

/// The provider of `calc` 1.1 (config "generation" tags the instance).
struct Prov {
    calls: u64,
    generation: u32,
    echo: Option<EchoClient>,
    export: Option<ServiceExport>,
}

impl CalcProvider for Prov {
    fn add(&mut self, _: &mut Ctx<Self>, a: &mut AddArgs) -> Result<()> {
        self.calls += 1;
        a.out =
            a.a.checked_add(a.b)
                .ok_or(Error::Invalid)?
                .wrapping_add(self.generation * 1000);
        Ok(())
    }
    fn poke(&mut self, _: &mut Ctx<Self>, a: &mut PokeArgs) -> Result<()> {
        self.calls += 1;
        if a.boom != 0 {
            panic!("poked");
        }
        a.calls = self.calls;
        Ok(())
    }
    fn back(&mut self, _: &mut Ctx<Self>, a: &mut BackArgs) -> Result<()> {
        let mut p = PingArgs { status: 1 };
        a.status = match &self.echo {
            Some(e) => e.ping(&mut p).err().map_or(0, |e| e.code()),
            None => sys::UVP_ENOENT,
        };
        Ok(())
    }
}

impl Plugin for Prov {
    fn init(ctx: &mut Ctx<Self>, cfg: &str) -> Result<Self> {
        if cfg == "fail" {
            return Err(Error::msg("asked to fail"));
        }
        let export = Some(ctx.export::<Calc>()?);
        let t = ctx.topic("withdraw")?;
        ctx.subscribe(&t, |me: &mut Prov, _, _| {
            me.export = None; // dropping the guard withdraws (V5)
            Ok(())
        })?
        .detach();
        Ok(Prov {
            calls: 0,
            generation: cfg.parse().unwrap_or(0),
            echo: None,
            export,
        })
    }
    fn stop(&mut self, ctx: &mut Ctx<Self>) {
        event(format!("stop:{}", ctx.instance_name()));
    }
}

impl Drop for Prov {
    fn drop(&mut self) {
        event(format!("drop:prov{}", self.generation));
    }
}

/// Imports `calc`; on "go" adds 2 + 3; config "keep" keeps the reference
/// after a revoke (dropped on "drop"), "reimport" imports again from the
/// revoke.
struct User {
    calc: Option<CalcClient>,
    sums: Vec<std::result::Result<u32, Error>>,
    revokes: Vec<Error>,
    mode: String,
}

impl User {
    fn import(ctx: &Ctx<Self>) -> Result<CalcClient> {
        ctx.import::<CalcClient>(1, |me: &mut User, cx, why| {
            event(format!("revoke:{why:?}"));
            me.revokes.push(why.clone());
            if me.mode == "keep" {
                return Ok(());
            }
            me.calc = None; // drops the reference
            if me.mode == "reimport" && why == Error::Stale {
                me.calc = Some(User::import(cx)?);
            }
            Ok(())
        })
    }
}

impl Plugin for User {
    fn init(ctx: &mut Ctx<Self>, cfg: &str) -> Result<Self> {
        let calc = Some(User::import(ctx)?);
        let go = ctx.topic("go")?;
        ctx.subscribe(&go, |me: &mut User, _, _| {
            let mut a = AddArgs { a: 2, b: 3, out: 0 };
            let r = match &me.calc {
                Some(c) => c.add(&mut a).map(|()| a.out),
                None => Err(Error::NoEnt),
            };
            me.sums.push(r);
            Ok(())
        })?
        .detach();
        let drop_t = ctx.topic("drop")?;
        ctx.subscribe(&drop_t, |me: &mut User, _, _| {
            me.calc = None;
            Ok(())
        })?
        .detach();
        Ok(User {
            calc,
            sums: Vec::new(),
            revokes: Vec::new(),
            mode: cfg.to_owned(),
        })
    }
}

/// V2, V3: a typed call returns the provider's answer; service_info
/// describes the reference; a service's own error comes back unchanged.
#[test]
fn export_import_call_and_info() {
    let mut h = TestHost::new();
    let p = h.load_as::<Prov>("calc-1", "").unwrap();
    let u = h.load::<User>("").unwrap();
    h.publish("go", b"").unwrap();
    h.run_until_idle();
    assert_eq!(h.state(&u).sums, vec![Ok(5)]);
    assert_eq!(h.state(&p).calls, 1);
    assert_eq!(h.services(), vec!["calc".to_owned()]);
    let info = h.state(&u).calc.as_ref().unwrap().info().unwrap();
    assert_eq!(
        info,
        crate::ServiceInfo {
            major: 1,
            minor: 1,
            count: 3,
            revoked: false,
            provider: "calc-1".into()
        }
    );
    let r = h.with(&u, |me, _| {
        let mut a = AddArgs {
            a: u32::MAX,
            b: 1,
            out: 7,
        };
        let r = me.calc.as_ref().unwrap().add(&mut a);
        (r, a.out)
    });
    assert_eq!(r, Some((Err(Error::Invalid), 7)));
    // A service's own status counts against nobody (V4).
    assert_eq!(h.stats(p.id()).errors, 0);
    assert_eq!(h.stats(u.id()).errors, 0);
}

/// V1: a name is exported once; bad descriptors are refused.
#[test]
fn duplicate_and_bad_exports_are_refused() {
    struct Second(Option<Error>);
    impl CalcProvider for Second {
        fn add(&mut self, _: &mut Ctx<Self>, _: &mut AddArgs) -> Result<()> {
            Ok(())
        }
        fn poke(&mut self, _: &mut Ctx<Self>, _: &mut PokeArgs) -> Result<()> {
            Ok(())
        }
        fn back(&mut self, _: &mut Ctx<Self>, _: &mut BackArgs) -> Result<()> {
            Ok(())
        }
    }
    impl Plugin for Second {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            Ok(Second(ctx.export::<Calc>().err()))
        }
    }
    let mut h = TestHost::new();
    h.load::<Prov>("").unwrap();
    let s = h.load::<Second>("").unwrap();
    assert_eq!(h.state(&s).0, Some(Error::ServiceDuplicate));

    unsafe extern "C" fn f(_: *mut std::os::raw::c_void, _: *mut std::os::raw::c_void) -> i32 {
        0
    }
    let table: [sys::uvp_service_fn; 2] = [Some(f), None];
    let rcs = h
        .with(&s, |_, cx| {
            let raw = cx.raw();
            let try_export = |name: &[u8], fns: &[sys::uvp_service_fn], size: u32| {
                let desc = sys::uvp_service_export {
                    size,
                    major: 1,
                    minor: 0,
                    name: name.as_ptr().cast(),
                    fns: fns.as_ptr(),
                    count: fns.len() as u32,
                    instance: std::ptr::null_mut(),
                    destroy: None,
                };
                let mut id = 0;
                // SAFETY: the instance is loaded (inside `with`); desc and
                // the name live for the call.
                unsafe { raw.api().service_export.unwrap()(raw.ctx, &desc, &mut id) }
            };
            let full = std::mem::size_of::<sys::uvp_service_export>() as u32;
            vec![
                try_export(b"ok.name-1\0", &table[..1], full),
                try_export(b"\0", &table[..1], full),
                try_export(b"has space\0", &table[..1], full),
                try_export(b"nulls\0", &table, full),
                try_export(b"empty\0", &table[..0], full),
                try_export(b"short\0", &table[..1], full - 8),
            ]
        })
        .unwrap();
    let e = sys::UVP_EINVAL;
    assert_eq!(rcs, vec![0, e, e, e, e, e]);
}

/// V2: name, then major exactly, then minor at least; a newer minor (a
/// longer table) is accepted; a plugin cannot import its own export.
#[test]
fn import_matches_name_major_and_minor() {
    struct Importer(Vec<String>);
    impl Plugin for Importer {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            let nop = |_: &mut Importer, _: &mut Ctx<Importer>, _| Ok(());
            let v10 = ctx.import::<CalcV10Client>(0, nop);
            let v11 = ctx.import::<CalcClient>(1, nop);
            let v12 = ctx.import_service("calc", 1, 2, nop);
            let v2 = ctx.import::<CalcV2Client>(0, nop);
            let none = ctx.import_service("nope", 1, 0, nop);
            let mut calls = String::new();
            if let Ok(c) = &v10 {
                let mut a = Add10Args { a: 1, b: 1, out: 0 };
                c.add(&mut a)?;
                calls = format!("{} {:?}", a.out, c.info().map(|i| i.minor));
            }
            Ok(Importer(vec![
                format!("{:?}", v10.err()),
                format!("{:?}", v11.err()),
                format!("{:?}", v12.err()),
                format!("{:?}", v2.err()),
                format!("{:?}", none.err()),
                calls,
            ]))
        }
    }
    struct SelfImport(Option<Error>, Option<ServiceExport>);
    impl CalcV2Provider for SelfImport {
        fn nop(&mut self, _: &mut Ctx<Self>, _: &mut NopArgs) -> Result<()> {
            Ok(())
        }
    }
    impl Plugin for SelfImport {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            let ex = ctx.export::<CalcV2>()?;
            let own = ctx.import::<CalcV2Client>(0, |_: &mut SelfImport, _, _| Ok(()));
            Ok(SelfImport(own.err(), Some(ex)))
        }
    }
    let mut h = TestHost::new();
    h.load::<Prov>("").unwrap();
    let i = h.load::<Importer>("").unwrap();
    assert_eq!(
        h.state(&i).0,
        vec![
            "None",
            "None",
            "Some(ServiceMinor)",
            "Some(ServiceMajor)",
            "Some(NoEnt)",
            "2 Ok(1)"
        ]
    );
    let mut h2 = TestHost::new();
    let s = h2.load::<SelfImport>("").unwrap();
    assert_eq!(h2.state(&s).0, Some(Error::Invalid));
}

/// V3: a call into a provider that is running a callback is refused with
/// `UVP_EBUSY` and never re-enters it: calc.back calls echo.ping, whose
/// provider (the user) is in its own call into calc.
#[test]
fn reentrant_call_is_busy() {
    struct EchoUser {
        calc: Option<CalcClient>,
        got: Option<std::result::Result<i32, Error>>,
        pings: u32,
        _ex: ServiceExport,
    }
    impl EchoProvider for EchoUser {
        fn ping(&mut self, _: &mut Ctx<Self>, a: &mut PingArgs) -> Result<()> {
            self.pings += 1;
            let mut add = AddArgs { a: 1, b: 1, out: 0 };
            a.status = match &self.calc {
                Some(c) => c.add(&mut add).err().map_or(0, |e| e.code()),
                None => sys::UVP_ENOENT,
            };
            Ok(())
        }
    }
    impl Plugin for EchoUser {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            let calc = ctx.import::<CalcClient>(0, |_: &mut EchoUser, _, _| Ok(()))?;
            let t = ctx.topic("back")?;
            ctx.subscribe(&t, |me: &mut EchoUser, _, _| {
                let mut b = BackArgs { status: 99 };
                me.got = Some(me.calc.as_ref().unwrap().back(&mut b).map(|()| b.status));
                Ok(())
            })?
            .detach();
            Ok(EchoUser {
                calc: Some(calc),
                got: None,
                pings: 0,
                _ex: ctx.export::<Echo>()?,
            })
        }
    }
    let mut h = TestHost::new();
    let p = h.load::<Prov>("").unwrap();
    let u = h.load::<EchoUser>("").unwrap();
    h.with(&p, |me, cx| {
        me.echo = Some(
            cx.import::<EchoClient>(0, |me: &mut Prov, _, _| {
                me.echo = None;
                Ok(())
            })
            .unwrap(),
        )
    });
    h.publish("back", b"").unwrap();
    h.run_until_idle();
    // calc.back ran; its call into echo was refused: EchoUser is busy.
    assert_eq!(h.state(&u).got, Some(Ok(sys::UVP_EBUSY)));
    assert_eq!(h.state(&u).pings, 0);
    assert_eq!(h.stats(p.id()).errors, 0);
    assert_eq!(h.stats(u.id()).errors, 0);
}

/// V4: a panic in a provider's function is `UVP_EPANIC` for the caller,
/// counted against the provider, which is quarantined once the caller's
/// callback returned; its importers are revoked with `Panic` (V5) and
/// later calls are stale.
#[test]
fn provider_panic_is_contained_and_quarantines() {
    events();
    struct Poker {
        calc: Option<CalcClient>,
        got: Vec<Error>,
    }
    impl Plugin for Poker {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            let calc = ctx.import::<CalcClient>(0, |me: &mut Poker, _, why| {
                event(format!("revoke:{why:?}"));
                me.got.push(why);
                Ok(()) // keeps the reference: calls must be stale
            })?;
            let t = ctx.topic("poke")?;
            ctx.subscribe(&t, |me: &mut Poker, _, ev| {
                let mut a = PokeArgs {
                    boom: u32::from(ev.data() == b"boom"),
                    calls: 0,
                };
                if let Err(e) = me.calc.as_ref().unwrap().poke(&mut a) {
                    me.got.push(e);
                }
                Ok(())
            })?
            .detach();
            Ok(Poker {
                calc: Some(calc),
                got: Vec::new(),
            })
        }
    }
    let mut h = TestHost::new();
    let p = h.load::<Prov>("").unwrap();
    let k = h.load::<Poker>("").unwrap();
    h.publish("poke", b"boom").unwrap();
    h.run_until_idle();
    assert_eq!(h.stats(p.id()).panics, 1);
    assert_eq!(h.stats(k.id()).panics, 0);
    assert!(h.logged("panic in service calc.poke: poked"));
    assert!(!h.is_loaded(p.id()));
    assert_eq!(h.state(&k).got, vec![Error::Panic, Error::Panic]);
    assert_eq!(events(), vec!["revoke:Panic"]); // quarantine: no on_stop
    h.publish("poke", b"").unwrap();
    h.run_until_idle();
    assert_eq!(h.state(&k).got.last(), Some(&Error::Stale));
    assert_eq!(h.service_refs(p.id()), 1);
    // Dropping the reference lets the quarantined provider finish (V6).
    h.with(&k, |me, _| me.calc = None);
    h.run_until_idle();
    assert_eq!(h.service_refs(p.id()), 0);
    assert_eq!(events(), vec!["drop:prov0"]);
}

/// Under FaultPolicy::Log a provider's panic is counted, not quarantined.
#[test]
fn provider_panic_under_log_policy_keeps_it() {
    let mut h = TestHost::new();
    h.set_fault_policy(FaultPolicy::Log);
    let p = h.load::<Prov>("").unwrap();
    let u = h.load::<User>("").unwrap();
    let r = h.with(&u, |me, _| {
        let mut a = PokeArgs { boom: 1, calls: 0 };
        me.calc.as_ref().unwrap().poke(&mut a)
    });
    assert_eq!(r, Some(Err(Error::Panic)));
    assert_eq!(h.stats(p.id()).panics, 1);
    assert!(h.is_loaded(p.id()));
    h.publish("go", b"").unwrap();
    h.run_until_idle();
    assert_eq!(h.state(&u).sums, vec![Ok(5)]);
}

/// V5, V6: unloading a provider revokes each reference once, before its
/// on_stop; calls through a revoked reference are stale and never reach
/// it; it stays draining while a reference is held (warned about once
/// after the grace time) and finishes after the last drop.
#[test]
fn unload_revokes_and_waits_for_the_last_reference() {
    events();
    let mut h = TestHost::new();
    h.set_service_grace(Duration::from_millis(100));
    let p = h.load_as::<Prov>("calc-p", "").unwrap();
    let keep = h.load_as::<User>("keeper", "keep").unwrap();
    let gone = h.load_as::<User>("dropper", "").unwrap();
    h.unload(p.id()).unwrap();
    assert_eq!(
        events(),
        vec!["revoke:Closed", "revoke:Closed", "stop:calc-p"]
    );
    assert_eq!(
        h.state(&keep).calc.as_ref().unwrap().revoked(),
        Some(Error::Closed)
    );
    assert!(h.state(&gone).calc.is_none());
    assert_eq!(h.service_refs(p.id()), 1);
    h.publish("go", b"").unwrap();
    h.run_until_idle();
    assert_eq!(h.state(&keep).sums, vec![Err(Error::Stale)]);
    assert_eq!(h.state(&gone).sums, vec![Err(Error::NoEnt)]);
    assert!(
        h.state(&keep)
            .calc
            .as_ref()
            .unwrap()
            .info()
            .unwrap()
            .revoked
    );
    assert_eq!(events(), Vec::<String>::new()); // not dropped yet: draining
    assert!(!h.logged("still referenced"));
    h.advance(Duration::from_millis(100));
    h.run_until_idle();
    assert!(
        h.logged("plugin calc-p: service calc still referenced 100 ms after its revoke by: keeper")
    );
    h.publish("drop", b"").unwrap();
    h.run_until_idle();
    assert_eq!(events(), vec!["drop:prov0"]);
    assert_eq!(h.service_refs(p.id()), 0);
    // The revoke ran once per reference.
    assert_eq!(h.state(&keep).revokes, vec![Error::Closed]);
    assert_eq!(h.state(&gone).revokes, vec![Error::Closed]);
}

/// V5: cancelling an export revokes its references (`Closed`); the
/// provider keeps running; a reference dropped before gets no revoke; an
/// importer that unloads drops its references without one.
#[test]
fn withdraw_and_importer_unload() {
    events();
    let mut h = TestHost::new();
    let p = h.load::<Prov>("").unwrap();
    let early = h.load::<User>("").unwrap();
    let late = h.load::<User>("").unwrap();
    let leaver = h.load::<User>("").unwrap();
    h.publish("drop", b"").unwrap(); // every User drops: early's too...
    h.run_until_idle();
    assert_eq!(h.service_refs(p.id()), 0);
    // ...so import again for late and leaver only.
    for u in [&late, &leaver] {
        h.with(u, |me, cx| me.calc = Some(User::import(cx).unwrap()));
    }
    assert_eq!(h.service_refs(p.id()), 2);
    h.unload(leaver.id()).unwrap();
    assert_eq!(h.service_refs(p.id()), 1);
    assert_eq!(events(), Vec::<String>::new());
    h.publish("withdraw", b"").unwrap();
    h.run_until_idle();
    assert_eq!(events(), vec!["revoke:Closed"]);
    assert!(h.is_loaded(p.id()));
    assert_eq!(h.state(&early).revokes, Vec::<Error>::new());
    assert_eq!(h.state(&late).revokes, vec![Error::Closed]);
    assert!(h.services().is_empty());
    // The withdrawn export's destroy ran: a new one may take the name.
    let again = h.with(&p, |me, cx| {
        me.export = Some(cx.export::<Calc>()?);
        Ok::<_, Error>(())
    });
    assert_eq!(again, Some(Ok(())));
}

/// V7: a reload revokes the old instance's importers with `Stale` once the
/// new one runs, so the revoke can import the new version at once; a
/// failed reload leaves the old exports alone.
#[test]
fn reload_lets_importers_reimport() {
    events();
    let mut h = TestHost::new();
    let p = h.load_as::<Prov>("calc", "1").unwrap();
    let u = h.load::<User>("reimport").unwrap();
    h.publish("go", b"").unwrap();
    h.run_until_idle();
    assert!(h.reload::<Prov>(p.id(), "fail").is_err());
    h.publish("go", b"").unwrap();
    h.run_until_idle();
    assert_eq!(h.state(&u).sums, vec![Ok(1005), Ok(1005)]);
    assert!(h.is_loaded(p.id()));
    events();
    let p2 = h.reload::<Prov>(p.id(), "2").unwrap();
    assert_eq!(events(), vec!["revoke:Stale", "stop:calc", "drop:prov1"]);
    h.publish("go", b"").unwrap();
    h.run_until_idle();
    assert_eq!(h.state(&u).sums[2], Ok(2005));
    assert_eq!(h.state(&p2).calls, 1);
    assert_eq!(h.service_refs(p2.id()), 1);
}

/// O4, counters: the same name gives the same counter, from 0; names are
/// `[a-z0-9_]`, 1..=63 bytes; at most `UVP_COUNTERS_MAX` per instance.
#[test]
fn counters() {
    struct C(Vec<String>, Counter);
    impl Plugin for C {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            let a = ctx.counter("sent")?;
            let b = ctx.counter("sent")?;
            a.inc();
            b.add(41);
            let mut seen = vec![b.get().to_string()];
            for bad in ["", "Sent", "a-b", &"x".repeat(64)] {
                seen.push(format!("{:?}", ctx.counter(bad).err()));
            }
            for i in 1..sys::UVP_COUNTERS_MAX {
                ctx.counter(&format!("c{i}"))?;
            }
            seen.push(format!("{:?}", ctx.counter("one_more").err()));
            seen.push(format!("{:?}", ctx.counter("sent").map(|c| c.get())));
            Ok(C(seen, a))
        }
    }
    let mut h = TestHost::new();
    let c = h.load::<C>("").unwrap();
    assert_eq!(
        h.state(&c).0,
        vec![
            "42",
            "Some(Invalid)",
            "Some(Invalid)",
            "Some(Invalid)",
            "Some(Invalid)",
            "Some(NoSpace)",
            "Ok(42)"
        ]
    );
    assert_eq!(h.counter(c.id(), "sent"), Some(42));
    assert_eq!(h.counter(c.id(), "c31"), Some(0));
    assert_eq!(h.counter(c.id(), "nope"), None);
    h.unload(c.id()).unwrap();
    assert_eq!(h.counter(c.id(), "sent"), Some(42));
}

/// A host of ABI 1.2 (a table that ends after `instance_name`): every
/// service entry and `counter` give `Error::Invalid`; nothing past the
/// table is read (it is a heap copy of exactly that many bytes).
#[test]
fn older_host_refuses_services() {
    thread_local!(static RAW: Cell<Option<crate::RawCtx>> = const { Cell::new(None) });
    struct Grab;
    impl Plugin for Grab {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            RAW.with(|r| r.set(Some(ctx.raw())));
            Ok(Grab)
        }
    }
    struct Old(Vec<String>);
    impl CalcV2Provider for Old {
        fn nop(&mut self, _: &mut Ctx<Self>, _: &mut NopArgs) -> Result<()> {
            Ok(())
        }
    }
    impl Plugin for Old {
        fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
            Ok(Old(vec![
                format!("{:?}", ctx.export::<CalcV2>().err()),
                format!(
                    "{:?}",
                    ctx.import::<CalcClient>(0, |_: &mut Old, _, _| Ok(()))
                        .err()
                ),
                format!("{:?}", ctx.counter("x").err()),
            ]))
        }
    }
    let mut h = TestHost::new();
    h.load::<Grab>("").unwrap();
    h.load::<Prov>("").unwrap();
    let raw = RAW.with(|r| r.get()).unwrap();
    let len = {
        let api = std::mem::MaybeUninit::<sys::uvp_api>::uninit();
        let base = api.as_ptr();
        // SAFETY: addr_of! only computes the field's address.
        let f = unsafe { std::ptr::addr_of!((*base).instance_name) };
        f as usize - base as usize + std::mem::size_of::<usize>()
    };
    let mut short = vec![0u8; len].into_boxed_slice();
    // SAFETY: the fake's table is a full uvp_api, longer than `len`.
    unsafe { std::ptr::copy_nonoverlapping(raw.api.cast::<u8>(), short.as_mut_ptr(), len) };
    short[..4].copy_from_slice(&(len as u32).to_ne_bytes());
    let desc = Descriptor::new::<Old>("old\0", "1\0", false);
    let mut state: *mut std::os::raw::c_void = std::ptr::null_mut();
    // SAFETY: Grab's ctx is live; the table is a valid prefix with a
    // matching size; config is empty.
    let rc = unsafe {
        desc.raw().on_init.unwrap()(
            raw.ctx,
            short.as_ptr().cast(),
            std::ptr::null(),
            0,
            &mut state,
        )
    };
    assert_eq!(rc, 0);
    let core = state.cast::<Rc<crate::ctx::Core>>();
    // SAFETY: on_init succeeded: `state` is the SDK's Box<Rc<Core>>.
    let old = unsafe { &*(&*core).state.get().cast::<Old>() };
    assert_eq!(old.0, vec!["Some(Invalid)"; 3]);
    // SAFETY: the state of the on_init above, freed once.
    unsafe { desc.raw().on_unload.unwrap()(state) };
}
