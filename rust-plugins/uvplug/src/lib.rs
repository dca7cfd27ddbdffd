//! Safe Rust SDK for [uvplug](https://example.invalid/uvplug) plugins.
//!
//! A plugin is a `cdylib` that implements [`Plugin`] and names it with
//! [`export_plugin!`]. The SDK turns the C ABI of `include/uvplug/plugin.h`
//! into types: the loop-thread [`Ctx`] is neither `Send` nor `Sync`,
//! registrations return guards that cancel on drop, handler closures are
//! boxed into `user_data` and dropped by the host's destroy callback exactly
//! once, and no panic ever crosses the boundary (it becomes `UVP_EPANIC`,
//! with the message logged through the host). The rules the host keeps are
//! numbered in `docs/contract.md` (T1, L1, ... below refer to them).
//!
//! Everything a plugin does happens on the host's loop thread, except the
//! pool side of [`Ctx::spawn_work`] and whatever threads the plugin starts
//! itself; those reach the loop through a [`Remote`] (see "Threads" below).
//!
//! ```
//! use std::time::Duration;
//! use uvplug::prelude::*;
//!
//! struct Counter { seen: u64, _sub: Subscription }
//!
//! impl Plugin for Counter {
//!     fn init(ctx: &mut Ctx<Self>, _config: &str) -> Result<Self> {
//!         let ticks = ctx.topic("ticks")?;
//!         let sub = ctx.subscribe(&ticks, |me: &mut Self, _ctx, _ev: &Event| {
//!             me.seen += 1;
//!             Ok(())
//!         })?;
//!         Ok(Counter { seen: 0, _sub: sub })
//!     }
//! }
//! uvplug::export_plugin!(Counter, name = "counter", version = "0.1.0");
//!
//! // Driven by the in-process fake host of `uvplug::testing`:
//! let mut host = uvplug::testing::TestHost::new();
//! let counter = host.load::<Counter>("").unwrap();
//! host.publish("ticks", b"x").unwrap();
//! host.publish("ticks", b"y").unwrap();
//! host.run_until_idle();
//! assert_eq!(host.state(&counter).seen, 2);
//! host.advance(Duration::from_millis(100));
//! ```
//!
//! # Threads: what runs where
//!
//! | Code | Thread |
//! |------|--------|
//! | [`Plugin::init`], [`Plugin::start`], [`Plugin::stop`] | loop thread |
//! | handlers: [`Ctx::subscribe`], [`Ctx::after`], [`Ctx::every`], [`Ctx::watch_fd`] | loop thread |
//! | closures posted with [`Remote::post`] / [`Remote::try_post`] | loop thread |
//! | the `done` closure of [`Ctx::spawn_work`] | loop thread |
//! | every drop of a closure the host owned (destroy), of the plugin state (`on_unload`), of an owned payload | loop thread |
//! | the `work` closure of [`Ctx::spawn_work`] | a pool thread (no `Ctx`, T5) |
//! | [`Remote`]: `clone`, `drop`, `post`, `try_post`, `publish` | any thread |
//! | [`Ctx::unload_self`] | loop thread (a `Ctx` method); the unload starts after the current callback returns (U6, S3) |
//!
//! The types enforce the table: [`Ctx`], guards and [`WorkHandle`] are
//! `!Send`; a [`Remote`] is `Send + Sync + Clone`; work closures and posted
//! closures must be `Send`, `done` closures need not be. The loop-thread
//! closures all get `&mut P` and the `Ctx`, never two at a time (a
//! re-entrant call is refused with `UVP_EBUSY`, D2).
//!
//! Lifetimes across threads:
//!
//! - A post made before the plugin stops runs; one still queued when it
//!   stops is dropped unrun, on the loop thread, before the state (R4).
//!   After that, posts fail with [`Error::Closed`] and the closure comes
//!   back (or is dropped) on the posting thread (R3).
//! - Work always ends through its `done` closure (W1): with `Ok(T)`, or
//!   `Err(Canceled)` after [`WorkHandle::cancel`] or during unload (W2), or
//!   `Err(Panic)` if the work closure panicked. Unload waits for running
//!   work (U3), so `done` may run after `stop`.
//! - A thread the plugin starts must end on its own once its remote says
//!   [`Error::Closed`]: do not join it in [`Plugin::stop`] (the remote is
//!   closed only after `stop` returns, so a blocked producer would never
//!   see `Closed`); join it when the state is dropped.
//! - A plugin whose threads or thread-locals outlive its unload must not
//!   be unload-safe (contract A10): the host then keeps it mapped, so the
//!   thread-local destructors that run when a pool thread exits still have
//!   their code. See `examples/tls-plugin`.
//!
//! ```
//! use uvplug::prelude::*;
//!
//! struct Hasher { sum: u64, work: Option<WorkHandle> }
//!
//! impl Plugin for Hasher {
//!     fn init(_: &mut Ctx<Self>, _: &str) -> Result<Self> {
//!         Ok(Hasher { sum: 0, work: None })
//!     }
//!     fn start(&mut self, ctx: &mut Ctx<Self>) -> Result<()> {
//!         let remote = ctx.remote()?;
//!         self.work = Some(ctx.spawn_work(
//!             move || {
//!                 // Pool thread: no Ctx, but the remote reaches the loop.
//!                 remote
//!                     .post(|me: &mut Hasher, _| { me.sum += 1; Ok(()) }, PostMode::NonBlock)
//!                     .ok();
//!                 (1..=10u64).sum::<u64>()
//!             },
//!             |me: &mut Hasher, _ctx, r: Result<u64>| {
//!                 me.sum += r?; // loop thread
//!                 Ok(())
//!             },
//!         )?);
//!         Ok(())
//!     }
//! }
//!
//! let mut host = uvplug::testing::TestHost::new();
//! let h = host.load::<Hasher>("").unwrap();
//! host.run_until_idle(); // runs the work, its post and its done
//! assert_eq!(host.state(&h).sum, 56);
//! ```

#![deny(unsafe_op_in_unsafe_fn)]
#![deny(missing_docs)]

// The SDK keeps panics from crossing `extern "C"` with `catch_unwind`,
// which does nothing under `panic = "abort"`: the first panic would take
// the whole host down (tests still pass, as `cargo test` always unwinds).
#[cfg(panic = "abort")]
compile_error!(
    "uvplug plugins must be built with panic = \"unwind\": under \"abort\" a panic in \
     a plugin aborts the whole host process instead of becoming UVP_EPANIC. Set \
     `panic = \"unwind\"` (the default) in [profile.dev] and [profile.release]."
);

pub mod config;
mod ctx;
mod error;
mod event;
mod guard;
mod logging;
mod panic;
mod remote;
pub mod service;
mod service_macro;
#[cfg(test)]
mod service_tests;
pub mod testing;
#[cfg(test)]
mod tests;
mod work;

/// Raw bindings generated by bindgen from `include/uvplug/plugin.h`
/// (`gen-sys.sh`; do not edit). Prefer the safe layer.
#[allow(
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    missing_docs,
    dead_code,
    clippy::all
)]
pub mod sys;

pub use crate::ctx::{Ctx, Level, RawCtx};
pub use crate::error::{Error, Result};
pub use crate::event::{Event, Interest, Readiness, Topic};
pub use crate::guard::{FdWatch, ServiceExport, Subscription, Timer};
pub use crate::logging::LogSink;
pub use crate::remote::{PostError, PostMode, Remote};
pub use crate::service::{Counter, ServiceInfo, ServiceRef};
pub use crate::work::WorkHandle;

/// What a plugin implements. One value of the type is one plugin instance's
/// state; handlers registered through [`Ctx`] receive `&mut` to it.
///
/// All methods run on the host's loop thread (T1), never concurrently with
/// each other or with a handler of the same instance.
pub trait Plugin: Sized + 'static {
    /// Creates the instance from its config string (the host's `on_init`).
    /// Registrations made here are live once it returns; no handler runs
    /// before it returns. On `Err`, the load fails with `UVP_EINIT` and the
    /// host destroys every registration made so far (A9).
    ///
    /// Called on the loop thread.
    fn init(ctx: &mut Ctx<Self>, config: &str) -> Result<Self>;

    /// The host is ready to deliver events (`on_start`). On `Err` the load
    /// fails and the instance is unloaded (`stop` is not called).
    ///
    /// Called on the loop thread. Default: `Ok(())`.
    fn start(&mut self, ctx: &mut Ctx<Self>) -> Result<()> {
        let _ = ctx;
        Ok(())
    }

    /// Unload begins (`on_stop`): new registrations now fail with
    /// `Error::Closed`, publishing still works. After it returns the host
    /// cancels every registration; the state is dropped last (`on_unload`).
    ///
    /// Called on the loop thread. Default: nothing.
    fn stop(&mut self, ctx: &mut Ctx<Self>) {
        let _ = ctx;
    }
}

/// The plugin descriptor, exported as the data symbol
/// `uvp_plugin_descriptor` by [`export_plugin!`]. A transparent wrapper over
/// [`sys::uvp_plugin_desc`] that may live in a `static`.
#[repr(transparent)]
pub struct Descriptor(sys::uvp_plugin_desc);

// SAFETY: the descriptor is immutable; its pointers are to 'static strings
// and its function pointers to code, all of which any thread may read.
unsafe impl Sync for Descriptor {}

const fn name_ok(name: &[u8]) -> bool {
    let n = name.len();
    if n < 2 || n > sys::UVP_NAME_MAX as usize + 1 || name[n - 1] != 0 {
        return false;
    }
    let mut i = 0;
    while i < n - 1 {
        let c = name[i];
        if !(c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-') {
            return false;
        }
        i += 1;
    }
    true
}

const fn cstr_ok(s: &[u8]) -> bool {
    let n = s.len();
    if n == 0 || s[n - 1] != 0 {
        return false;
    }
    let mut i = 0;
    while i < n - 1 {
        if s[i] == 0 {
            return false;
        }
        i += 1;
    }
    true
}

impl Descriptor {
    /// Builds the descriptor of plugin type `P`. `name` and `version` must
    /// end with a NUL byte (the macro appends it); `name` is 1..=63 bytes of
    /// `[A-Za-z0-9_.-]` (A7). Checked at compile time in a `static`.
    /// `unload_safe` sets `UVP_PLUGIN_UNLOAD_SAFE` (see contract A10: leave
    /// it false unless the plugin has no threads and no thread-locals).
    pub const fn new<P: Plugin>(
        name: &'static str,
        version: &'static str,
        unload_safe: bool,
    ) -> Descriptor {
        assert!(
            name_ok(name.as_bytes()),
            "uvplug: plugin name must be 1..=63 bytes of [A-Za-z0-9_.-]"
        );
        assert!(
            cstr_ok(version.as_bytes()),
            "uvplug: version must not contain NUL"
        );
        Descriptor(sys::uvp_plugin_desc {
            magic: sys::UVP_PLUGIN_MAGIC,
            abi_major: sys::UVP_ABI_MAJOR as u16,
            abi_minor: sys::UVP_ABI_MINOR as u16,
            size: std::mem::size_of::<sys::uvp_plugin_desc>() as u32,
            flags: if unload_safe {
                sys::UVP_PLUGIN_UNLOAD_SAFE
            } else {
                0
            },
            name: name.as_ptr().cast(),
            version: version.as_ptr().cast(),
            on_init: Some(panic::on_init::<P>),
            on_start: Some(panic::on_start::<P>),
            on_stop: Some(panic::on_stop::<P>),
            on_unload: Some(panic::on_unload::<P>),
        })
    }

    /// The raw descriptor the host reads.
    pub fn raw(&self) -> &sys::uvp_plugin_desc {
        &self.0
    }

    /// The plugin name (without the NUL).
    pub fn name(&self) -> &str {
        // SAFETY: `name` always points to the 'static, NUL-terminated str
        // given to `new` (checked there), so it is valid UTF-8 for 'static.
        let c = unsafe { std::ffi::CStr::from_ptr(self.0.name) };
        c.to_str().unwrap_or("")
    }
}

/// Exports `$ty` (a [`Plugin`]) as this shared object's plugin: emits the
/// `#[no_mangle]` data symbol `uvp_plugin_descriptor` the host reads before
/// running any plugin code (A8).
///
/// ```ignore
/// uvplug::export_plugin!(Ticker, name = "ticker", version = env!("CARGO_PKG_VERSION"));
/// uvplug::export_plugin!(Ticker, name = "ticker", version = "1.0", unload_safe = true);
/// ```
///
/// `name` and `version` are string literals (or `env!`/`concat!`); the macro
/// NUL-terminates them. Use it once per crate.
#[macro_export]
macro_rules! export_plugin {
    ($ty:ty, name = $name:expr, version = $version:expr $(,)?) => {
        $crate::export_plugin!($ty, name = $name, version = $version, unload_safe = false);
    };
    ($ty:ty, name = $name:expr, version = $version:expr, unload_safe = $safe:expr $(,)?) => {
        /// The uvplug plugin descriptor (a data symbol read by the host).
        #[no_mangle]
        #[allow(non_upper_case_globals)]
        pub static uvp_plugin_descriptor: $crate::Descriptor =
            $crate::Descriptor::new::<$ty>(concat!($name, "\0"), concat!($version, "\0"), $safe);
    };
}

/// `use uvplug::prelude::*;` brings in what a plugin needs.
pub mod prelude {
    pub use crate::config::Config;
    pub use crate::{
        export_plugin, Counter, Ctx, Error, Event, FdWatch, Interest, Level, LogSink, Plugin,
        PostError, PostMode, Readiness, Remote, Result, ServiceExport, ServiceRef, Subscription,
        Timer, Topic, WorkHandle,
    };
    pub use std::time::Duration;
}
