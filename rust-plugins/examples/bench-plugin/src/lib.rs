//! `bench-plugin`: the Rust side of `bench/uvplug-bench`.
//!
//! Two things live here:
//!
//! * a plugin (`Bench`) that subscribes `subs` handlers to `topic` and
//!   counts every delivered event, so the bench can compare a Rust
//!   subscriber going through the SDK's trampolines with a C one;
//! * `uvp_bench_floor`, a bare `extern "C"` function whose body runs under
//!   `catch_unwind`: the Rust floor, what any Rust callback behind a C ABI
//!   costs at least.
//!
//! Config: `topic=bench.rust subs=1` (the defaults).
//!
//! The bench reads the count through the exported `uvp_bench_counter`
//! (dlsym on the same object the host loaded; an `AtomicU64` has the layout
//! of a `u64`) and checks it against what it published before it reports a
//! figure.

use std::os::raw::{c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};

use uvplug::prelude::*;

/// Events delivered to every `Bench` handler of this process. Only the loop
/// thread writes it; load + store (not fetch_add) keeps the increment as
/// cheap as a plain `+= 1`, as the C subscriber's is.
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static uvp_bench_counter: AtomicU64 = AtomicU64::new(0);

#[inline]
fn bump() {
    uvp_bench_counter.store(
        uvp_bench_counter.load(Ordering::Relaxed) + 1,
        Ordering::Relaxed,
    );
}

/// Events counted so far by the plugin's handlers.
#[no_mangle]
pub extern "C" fn uvp_bench_count() -> u64 {
    uvp_bench_counter.load(Ordering::Relaxed)
}

/// Sets the count back to 0 (between runs).
#[no_mangle]
pub extern "C" fn uvp_bench_reset() {
    uvp_bench_counter.store(0, Ordering::Relaxed);
}

/// The Rust floor: increments the `u64` that `user_data` points to, under
/// `catch_unwind`, as every SDK trampoline does. Returns 0, or
/// `UVP_EPANIC` if the body panicked (it does not). NULL is ignored.
#[no_mangle]
#[allow(clippy::not_unsafe_ptr_arg_deref)] // the bench passes a live u64
pub extern "C" fn uvp_bench_floor(user_data: *mut c_void) -> c_int {
    match catch_unwind(AssertUnwindSafe(|| {
        let p = user_data.cast::<u64>();
        if !p.is_null() {
            // SAFETY: the caller passes a valid, exclusively used u64.
            unsafe { *p += 1 };
        }
        0
    })) {
        Ok(rc) => rc,
        Err(_) => uvplug::sys::UVP_EPANIC,
    }
}

/// The benchmark subscriber's state.
pub struct Bench {
    _subs: Vec<Subscription>,
}

fn parse(config: &str) -> std::result::Result<(String, usize), String> {
    let mut topic = "bench.rust".to_owned();
    let mut subs = 1usize;
    for kv in config.split_whitespace() {
        match kv.split_once('=') {
            Some(("topic", v)) if !v.is_empty() => topic = v.to_owned(),
            Some(("subs", v)) => match v.parse::<usize>() {
                Ok(n) if (1..=65536).contains(&n) => subs = n,
                _ => return Err(format!("bad subs: {v:?}")),
            },
            _ => return Err(format!("bad config: {kv:?}")),
        }
    }
    Ok((topic, subs))
}

impl Plugin for Bench {
    fn init(ctx: &mut Ctx<Self>, config: &str) -> Result<Self> {
        let (topic, n) = match parse(config) {
            Ok(v) => v,
            Err(msg) => {
                ctx.log_error(format_args!("bench-plugin: {msg}"));
                return Err(Error::Invalid);
            }
        };
        let t = ctx.topic(&topic)?;
        let mut subs = Vec::with_capacity(n);
        for _ in 0..n {
            subs.push(ctx.subscribe(&t, |_me: &mut Bench, _ctx, _ev: &Event| {
                bump();
                Ok(())
            })?);
        }
        Ok(Bench { _subs: subs })
    }
}

export_plugin!(
    Bench,
    name = "bench-plugin",
    version = env!("CARGO_PKG_VERSION")
);

#[cfg(test)]
mod tests {
    use super::*;
    use uvplug::testing::TestHost;

    #[test]
    fn config_parses() {
        assert_eq!(parse("").unwrap(), ("bench.rust".to_owned(), 1));
        assert_eq!(parse("topic=t subs=8").unwrap(), ("t".to_owned(), 8));
        assert!(parse("subs=0").is_err());
        assert!(parse("nope").is_err());
    }

    #[test]
    fn floor_counts_and_ignores_null() {
        let mut n = 0u64;
        assert_eq!(uvp_bench_floor((&mut n as *mut u64).cast()), 0);
        assert_eq!(uvp_bench_floor((&mut n as *mut u64).cast()), 0);
        assert_eq!(n, 2);
        assert_eq!(uvp_bench_floor(std::ptr::null_mut()), 0);
    }

    #[test]
    fn every_handler_counts() {
        let mut h = TestHost::new();
        let before = uvp_bench_count();
        let _p = h.load::<Bench>("topic=b subs=3").unwrap();
        h.publish("b", b"x").unwrap();
        h.publish("b", b"y").unwrap();
        h.run_until_idle();
        assert_eq!(uvp_bench_count() - before, 6);
        assert_eq!(h.load::<Bench>("subs=x").err(), Some(Error::Init));
    }
}
