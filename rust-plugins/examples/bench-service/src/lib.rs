//! `bench-service`: the Rust provider of `bench.add` 1.0 for uvplug-bench's
//! service cases (bench/service.c: `service.rust` against `service.c`).
//!
//! The service has the shape of the C provider's (bench/svc_plugin_c.c):
//! one function, index 0, taking `{ uint64_t a, b, out; }` and setting
//! `out = a + b`. Declared with the SDK's `service!`, so every call runs
//! through the generated thunk: `catch_unwind`, the busy check and the
//! `&mut` borrow of the state; that is what the case measures against the
//! bare C function.

use uvplug::prelude::*;

uvplug::service! {
    /// `bench.add` 1.0.
    pub service BenchAdd {
        name = "bench.add", major = 1, minor = 0,
        provider = BenchAddProvider, client = BenchAddClient;
        /// `out = a + b` (wrapping, as the C provider's).
        fn add [BENCH_ADD = 0] (AddArgs { a: u64, b: u64, out: u64 });
    }
}

/// The provider's state: only the export, so that the function does what
/// the C provider's does and nothing more.
pub struct Provider {
    _export: ServiceExport,
}

impl BenchAddProvider for Provider {
    fn add(&mut self, _ctx: &mut Ctx<Self>, args: &mut AddArgs) -> Result<()> {
        args.out = args.a.wrapping_add(args.b);
        Ok(())
    }
}

impl Plugin for Provider {
    fn init(ctx: &mut Ctx<Self>, _config: &str) -> Result<Self> {
        Ok(Provider {
            _export: ctx.export::<BenchAdd>()?,
        })
    }
}

export_plugin!(
    Provider,
    name = "bench-svc-rust",
    version = env!("CARGO_PKG_VERSION"),
    unload_safe = true
);

#[cfg(test)]
mod tests {
    use super::*;
    use uvplug::testing::TestHost;

    /// What the bench's loop checks: each call adds, through the host.
    #[test]
    fn adds_through_the_host() {
        struct Caller(u64);
        impl Plugin for Caller {
            fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
                let c = ctx.import::<BenchAddClient>(0, |_: &mut Caller, _, _| Ok(()))?;
                let mut sum = 0;
                for i in 0..10 {
                    let mut a = AddArgs { a: i, b: 1, out: 0 };
                    c.add(&mut a)?;
                    sum += a.out;
                }
                Ok(Caller(sum))
            }
        }
        let mut h = TestHost::new();
        let p = h.load::<Provider>("").unwrap();
        let c = h.load::<Caller>("").unwrap();
        assert_eq!(h.state(&c).0, 55);
        assert_eq!(h.stats(p.id()).errors, 0);
    }
}
