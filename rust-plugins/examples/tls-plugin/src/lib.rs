//! `tls-plugin` (`libtls_plugin.so`): a plugin whose code must outlive its
//! unload, demonstrating contract A10.
//!
//! On start it queues one work item ([`Ctx::spawn_work`]). Its pool-side
//! closure touches a `thread_local!` that holds a [`Canary`], a value with a
//! `Drop` impl: std registers that destructor with the pool thread, and it
//! runs only when that thread exits — for libuv's pool, usually at process
//! exit, long after the plugin unloaded. When the work's `done` closure
//! runs on the loop thread, the plugin publishes on `tls.ready` the text
//! `ready` (or `error=<code>` if the work was cancelled or panicked).
//!
//! The destructor's code (`Canary::drop`) lives in this object. Had the
//! host `dlclose`d it at unload, the pool thread's exit would call into
//! unmapped pages (rust-lang/rust#91979, #59629, #88737, #52138). So the
//! descriptor does **not** set `UVP_PLUGIN_UNLOAD_SAFE`: the host keeps the
//! object mapped after unload (A10, `RTLD_NODELETE` semantics), and the
//! destructor still finds its code when it runs. A Rust plugin that uses
//! thread-locals on threads it does not own (the pool's, the loop's) or
//! starts threads that may outlive it must never claim to be unload-safe.
//!
//! Exports, readable after unload (the object stays mapped):
//! `uint64_t uvp_tls_drops(void)` (Canary destructors run so far) and
//! `uint64_t uvp_tls_touches(void)` (thread-local initialisations so far).
//! A test can unload the plugin, then make the pool threads exit (close
//! the loop's host and let the process end, or run the check in a child)
//! and see `uvp_tls_drops` reach `uvp_tls_touches` with no crash.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use uvplug::prelude::*;

static DROPS: AtomicU64 = AtomicU64::new(0);
static TOUCHES: AtomicU64 = AtomicU64::new(0);

/// Thread-local destructors of [`Canary`] run so far, process-wide.
#[no_mangle]
pub extern "C" fn uvp_tls_drops() -> u64 {
    DROPS.load(Ordering::SeqCst)
}

/// Thread-local [`Canary`] values created so far (one per pool thread that
/// ran the work), process-wide.
#[no_mangle]
pub extern "C" fn uvp_tls_touches() -> u64 {
    TOUCHES.load(Ordering::SeqCst)
}

/// The thread-local value: its drop runs when its thread exits.
pub struct Canary {
    uses: Cell<u64>,
}

impl Canary {
    fn new() -> Canary {
        TOUCHES.fetch_add(1, Ordering::SeqCst);
        Canary { uses: Cell::new(0) }
    }
}

impl Drop for Canary {
    fn drop(&mut self) {
        DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

thread_local! {
    static CANARY: Canary = Canary::new();
}

/// The plugin state.
pub struct Tls {
    ready: Topic,
}

impl Plugin for Tls {
    fn init(ctx: &mut Ctx<Self>, _config: &str) -> Result<Self> {
        Ok(Tls {
            ready: ctx.topic("tls.ready")?,
        })
    }

    fn start(&mut self, ctx: &mut Ctx<Self>) -> Result<()> {
        // The handle is dropped: that does not cancel (work always ends
        // through done). Unload cancels it if it is still queued.
        ctx.spawn_work(
            || {
                // Pool thread: registers Canary's destructor with it.
                CANARY.with(|c| {
                    c.uses.set(c.uses.get() + 1);
                    c.uses.get()
                })
            },
            |me: &mut Tls, ctx, r: Result<u64>| {
                let text = match r {
                    Ok(_) => "ready".to_owned(),
                    Err(e) => format!("error={}", e.code()),
                };
                ctx.publish(&me.ready, text.as_bytes())
            },
        )?;
        Ok(())
    }
}

// unload_safe = false (the default), on purpose: see the crate docs (A10).
uvplug::export_plugin!(Tls, name = "tls", version = "1.0.0");

#[cfg(test)]
mod tests {
    use super::*;
    use uvplug::testing::TestHost;

    #[test]
    fn ready_after_work_and_the_destructor_runs_when_the_thread_exits() {
        let mut h = TestHost::new();
        let p = h.load::<Tls>("").unwrap();
        h.run_until_idle(); // the fake runs the work on a helper thread, joined
        assert_eq!(h.published("tls.ready"), vec![b"ready".to_vec()]);
        assert_eq!(uvp_tls_touches(), 1);
        // The fake's helper thread has exited: its TLS destructor ran.
        assert_eq!(uvp_tls_drops(), 1);
        h.unload(p.id()).unwrap();
        assert_eq!(
            uvp_plugin_descriptor.raw().flags,
            0,
            "not unload-safe (A10)"
        );
    }
}
