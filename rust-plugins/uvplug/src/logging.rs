//! Logging: formatting macros over [`Ctx::log`](crate::Ctx::log), and a
//! [`LogSink`] that any thread can write to.
//!
//! Every line reaches the embedder's log hook on the loop thread, tagged
//! by the host with the instance name (so a plugin does not prefix its own
//! name). Lines from other threads, or from a dependency that logs, must
//! not go to stderr behind the host's back: give them a `LogSink`.
//!
//! Bridging a dependency that uses the `log` crate (std-only SDK, so the
//! bridge lives in the plugin, which may depend on `log`):
//!
//! ```ignore
//! struct Bridge(uvplug::LogSink);
//! impl log::Log for Bridge {
//!     fn enabled(&self, _: &log::Metadata) -> bool { true }
//!     fn log(&self, r: &log::Record) {
//!         let level = match r.level() {
//!             log::Level::Error => uvplug::Level::Error,
//!             log::Level::Warn => uvplug::Level::Warn,
//!             log::Level::Info => uvplug::Level::Info,
//!             _ => uvplug::Level::Debug,
//!         };
//!         self.0.log(level, format!("{}: {}", r.target(), r.args()));
//!     }
//!     fn flush(&self) {}
//! }
//! // in init: log::set_boxed_logger(Box::new(Bridge(ctx.log_sink()?))).ok();
//! ```
//!
//! `log::set_boxed_logger` is process-wide: only one plugin of a process
//! can own it, and its sink dies with that plugin (lines then count as
//! dropped). A plugin that may share a process with others should prefer
//! passing a `LogSink` to the code that logs.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::remote::{PostMode, Remote};
use crate::{Ctx, Level, Plugin, Result};

/// Logs a formatted line at [`Level::Error`] through the host:
/// `uvplug::error!(ctx, "bad frame from {peer}: {e}")`.
#[macro_export]
macro_rules! error {
    ($ctx:expr, $($arg:tt)+) => {
        $ctx.log($crate::Level::Error, ::std::format_args!($($arg)+))
    };
}

/// Logs a formatted line at [`Level::Warn`] through the host.
#[macro_export]
macro_rules! warn {
    ($ctx:expr, $($arg:tt)+) => {
        $ctx.log($crate::Level::Warn, ::std::format_args!($($arg)+))
    };
}

/// Logs a formatted line at [`Level::Info`] through the host:
///
/// ```
/// use uvplug::prelude::*;
/// struct P;
/// impl Plugin for P {
///     fn init(ctx: &mut Ctx<Self>, config: &str) -> Result<Self> {
///         uvplug::info!(ctx, "starting with {} bytes of config", config.len());
///         Ok(P)
///     }
/// }
/// let mut host = uvplug::testing::TestHost::new();
/// host.load::<P>("abc").unwrap();
/// assert!(host.logged("starting with 3 bytes of config"));
/// ```
#[macro_export]
macro_rules! info {
    ($ctx:expr, $($arg:tt)+) => {
        $ctx.log($crate::Level::Info, ::std::format_args!($($arg)+))
    };
}

/// Logs a formatted line at [`Level::Debug`] through the host (dropped by
/// the host unless its log level is debug).
#[macro_export]
macro_rules! debug {
    ($ctx:expr, $($arg:tt)+) => {
        $ctx.log($crate::Level::Debug, ::std::format_args!($($arg)+))
    };
}

/// Writes log lines from any thread into the host's log: each line is
/// posted (non-blocking) to the instance's loop, which logs it. A line
/// that finds the queue full, or the plugin stopped, is counted in
/// [`dropped`](LogSink::dropped), never printed elsewhere.
///
/// `Send + Sync + Clone`; from [`Ctx::log_sink`].
#[derive(Clone)]
pub struct LogSink {
    post: Arc<dyn Fn(Level, String) -> bool + Send + Sync>,
    dropped: Arc<AtomicU64>,
}

impl LogSink {
    /// Logs `msg` at `level`, on the loop thread, after the current
    /// callback (if called on the loop thread) or as soon as the loop
    /// gets to it (from any other thread).
    pub fn log(&self, level: Level, msg: impl fmt::Display) {
        if !(self.post)(level, msg.to_string()) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Lines that could not be posted (queue full, plugin stopped).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for LogSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogSink")
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}

impl<P: Plugin> Ctx<P> {
    /// A [`LogSink`] of this instance, for threads and dependencies that
    /// log. It holds a reference on the instance's remote (see
    /// [`Ctx::remote`]): drop it, like any remote, before an unload-safe
    /// plugin unloads.
    ///
    /// ```
    /// use uvplug::prelude::*;
    /// struct P;
    /// impl Plugin for P {
    ///     fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
    ///         let sink = ctx.log_sink()?;
    ///         std::thread::spawn(move || sink.log(Level::Info, "hello from a thread"))
    ///             .join()
    ///             .unwrap();
    ///         Ok(P)
    ///     }
    /// }
    /// let mut host = uvplug::testing::TestHost::new();
    /// host.load::<P>("").unwrap();
    /// host.run_until_idle();
    /// assert!(host.logged("hello from a thread"));
    /// ```
    pub fn log_sink(&self) -> Result<LogSink> {
        let remote: Remote<P> = self.remote()?;
        let post = move |level: Level, msg: String| {
            let line = move |_: &mut P, ctx: &mut Ctx<P>| {
                ctx.log(level, &msg);
                Ok(())
            };
            remote.post(line, PostMode::NonBlock).is_ok()
        };
        Ok(LogSink {
            post: Arc::new(post),
            dropped: Arc::new(AtomicU64::new(0)),
        })
    }
}
