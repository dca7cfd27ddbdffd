//! Service scenarios (issue 13, V1-V6): the first instance `scn` exports
//! `scn.svc`; the peer imports it (and, for the busy scenario, exports
//! `scn.echo`, which `scn` imports back). The driver's unload of `scn`
//! then shows the revoke and the wait for the last reference.

use uvplug::prelude::*;
use uvplug::service::Client;

use crate::{finish, rec, st, Scn};

uvplug::service! {
    /// The scenarios' service: `scn.svc` 1.1.
    pub service Svc {
        name = "scn.svc", major = 1, minor = 1,
        provider = SvcProvider, client = SvcClient;
        /// `out = a + b`.
        fn add [SVC_ADD = 0] (AddArgs { a: u32, b: u32, out: u32 });
        /// The service's own error: always `UVP_ENOENT`.
        fn fail [SVC_FAIL = 1] (FailArgs { x: u32 });
        /// Panics.
        fn boom [SVC_BOOM = 2] (BoomArgs { x: u32 });
        /// Calls `scn.echo` back, into the caller (refused: busy).
        fn back [SVC_BACK = 3] (BackArgs { status: i32 });
    }
}

uvplug::service! {
    /// What the peer exports for the busy scenario: `scn.echo` 1.0.
    pub service Echo {
        name = "scn.echo", major = 1, minor = 0,
        provider = EchoProvider, client = EchoClient;
        /// Records that it ran (it must not: its caller is busy).
        fn ping [ECHO_PING = 0] (PingArgs { x: u32 });
    }
}

impl SvcProvider for Scn {
    fn add(&mut self, _: &mut Ctx<Self>, a: &mut AddArgs) -> Result<()> {
        rec(format!("add {} {}", a.a, a.b));
        a.out = a.a + a.b;
        Ok(())
    }
    fn fail(&mut self, _: &mut Ctx<Self>, _: &mut FailArgs) -> Result<()> {
        Err(Error::NoEnt)
    }
    fn boom(&mut self, _: &mut Ctx<Self>, _: &mut BoomArgs) -> Result<()> {
        rec("boom");
        panic!("scenario peer_service_panic: asked to panic");
    }
    fn back(&mut self, ctx: &mut Ctx<Self>, a: &mut BackArgs) -> Result<()> {
        if self.echo.is_none() {
            self.echo = Some(ctx.import::<EchoClient>(0, |me: &mut Scn, _, why| {
                rec(format!("echo revoke {why:?}"));
                me.echo = None;
                Ok(())
            })?);
        }
        let r = self.echo.as_ref().map(|e| e.ping(&mut PingArgs { x: 1 }));
        rec(format!("back: ping {}", st(r.unwrap_or(Err(Error::NoEnt)))));
        a.status = 0;
        Ok(())
    }
}

impl EchoProvider for Scn {
    fn ping(&mut self, _: &mut Ctx<Self>, _: &mut PingArgs) -> Result<()> {
        rec("peer ping ran");
        Ok(())
    }
}

/// V1: `scn` exports `scn.svc` (a second export of the name is refused).
pub(crate) fn exports(me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    me.svc = Some(ctx.export::<Svc>()?);
    rec(format!("export again {}", st(ctx.export::<Svc>())));
    Ok(())
}

/// The peer's import of `scn.svc`; its revoke is traced, and drops the
/// reference unless the scenario keeps it (V5).
fn import(ctx: &Ctx<Scn>) -> Result<SvcClient> {
    ctx.import::<SvcClient>(1, |me: &mut Scn, cx, why| {
        rec(format!("peer revoke {why:?}"));
        if me.finish_on_revoke {
            // Started here, not at start: however late the loop runs, the
            // provider's unload (next turn's first step) comes before it.
            cx.after(Duration::from_millis(1), |_: &mut Scn, _| {
                finish();
                Ok(())
            })?
            .detach();
        }
        if let Some(c) = &me.client {
            let mut a = AddArgs { a: 1, b: 1, out: 0 };
            rec(format!("peer add after revoke {}", st(c.add(&mut a))));
        }
        if !me.keep_ref {
            me.client = None;
        }
        Ok(())
    })
}

/// V2, V3: the peer imports (versions: older minor, other major, unknown
/// name refused; the provider's newer minor accepted) and calls: a typed
/// result, the service's own error, an index past the table is refused.
pub(crate) fn peer_calls(me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    let nop = |_: &mut Scn, _: &mut Ctx<Scn>, _| Ok(());
    rec(format!(
        "peer import minor 2 {}",
        st(ctx.import_service("scn.svc", 1, 2, nop))
    ));
    rec(format!(
        "peer import major 2 {}",
        st(ctx.import_service("scn.svc", 2, 0, nop))
    ));
    rec(format!(
        "peer import nope {}",
        st(ctx.import_service("nope", 1, 0, nop))
    ));
    let c = import(ctx)?;
    let i = c.info()?;
    rec(format!(
        "peer info {}.{} count {} revoked {} provider {}",
        i.major, i.minor, i.count, i.revoked, i.provider
    ));
    let mut a = AddArgs { a: 2, b: 3, out: 0 };
    rec(format!("peer add {} {}", st(c.add(&mut a)), a.out));
    rec(format!("peer fail {}", st(c.fail(&mut FailArgs { x: 0 }))));
    let mut x = FailArgs { x: 0 };
    // SAFETY: index 9 is past the table: the host refuses it before any
    // provider code could read the args (V3).
    rec(format!(
        "peer index 9 {}",
        st(unsafe { c.service_ref().call(9, &mut x) })
    ));
    me.client = Some(c);
    finish();
    Ok(())
}

/// V3: the peer exports `scn.echo`, imports `scn.svc` and, from a timer,
/// calls `back`, which calls `scn.echo` back while the peer is in its
/// call: refused with `Busy`, the peer's code not re-entered.
pub(crate) fn peer_busy(me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    me.echo_export = Some(ctx.export::<Echo>()?);
    me.client = Some(import(ctx)?);
    ctx.after(Duration::from_millis(1), |me: &mut Scn, _| {
        let mut b = BackArgs { status: 9 };
        if let Some(c) = &me.client {
            rec(format!("peer back {} {}", st(c.back(&mut b)), b.status));
        }
        finish();
        Ok(())
    })?
    .detach();
    Ok(())
}

/// V4, V5: a panic in the provider's function is `Panic` for the caller;
/// the provider is quarantined when the caller's callback returned, and
/// the peer's reference is revoked with `Panic`.
pub(crate) fn peer_panic(me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    me.finish_on_revoke = true;
    me.client = Some(import(ctx)?);
    ctx.after(Duration::from_millis(1), |me: &mut Scn, _| {
        if let Some(c) = &me.client {
            rec(format!("peer boom {}", st(c.boom(&mut BoomArgs { x: 0 }))));
        }
        Ok(())
    })?
    .detach();
    Ok(())
}

/// V5, V6: the peer keeps its reference after the revoke: calls through
/// it are stale, and `scn` stays draining (no state dropped) until the
/// host's close unloads the peer, which drops it.
pub(crate) fn peer_holds(me: &mut Scn, ctx: &mut Ctx<Scn>) -> Result<()> {
    me.keep_ref = true;
    me.client = Some(import(ctx)?);
    finish();
    Ok(())
}
