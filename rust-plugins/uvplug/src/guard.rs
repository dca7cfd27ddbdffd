//! Registration guards: dropping one cancels its registration.
//!
//! Guards belong to the loop thread:
//!
//! ```compile_fail
//! fn needs_send<T: Send>() {}
//! needs_send::<uvplug::Subscription>();
//! ```

use std::fmt;
use std::rc::Rc;

use crate::ctx::Core;
use crate::{sys, Error, Result};

struct Guard {
    id: sys::uvp_id,
    /// None once detached or cancelled.
    core: Option<Rc<Core>>,
}

impl Guard {
    fn cancel(&mut self) -> Result<()> {
        match self.core.take() {
            Some(core) => Error::check(core.cancel(self.id)),
            None => Err(Error::Stale),
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(core) = self.core.take() {
            // Stale (a one-shot timer that fired) and closed (unload already
            // ended everything) are both fine here.
            let _ = core.cancel(self.id);
        }
    }
}

macro_rules! guard {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Dropping the guard cancels the registration (a stale id is
        /// ignored); [`detach`](Self::detach) keeps it running until the
        /// plugin unloads. Either way the handler closure is dropped exactly
        /// once, by the host's destroy callback (L1). Guards are `!Send`:
        /// they belong to the loop thread.
        #[must_use = "dropping the guard cancels the registration at once; use .detach() to keep it"]
        pub struct $name(Guard);

        impl $name {
            pub(crate) fn new(id: sys::uvp_id, core: Rc<Core>) -> Self {
                $name(Guard { id, core: Some(core) })
            }

            /// The registration's id (slot and generation; never 0).
            pub fn id(&self) -> u64 {
                self.0.id
            }

            /// Keeps the registration until the plugin unloads (or until
            /// [`Ctx::cancel`](crate::Ctx::cancel) with its id).
            pub fn detach(mut self) {
                self.0.core = None;
            }

            /// Cancels now and reports the host's answer (`Err(Stale)` if it
            /// had already ended, e.g. a one-shot timer that fired).
            pub fn cancel(mut self) -> Result<()> {
                self.0.cancel()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).field("id", &self.0.id).finish()
            }
        }
    };
}

guard!(
    /// A topic subscription, from [`Ctx::subscribe`](crate::Ctx::subscribe).
    Subscription
);
guard!(
    /// A timer, from [`Ctx::after`](crate::Ctx::after) or
    /// [`Ctx::every`](crate::Ctx::every).
    Timer
);
guard!(
    /// An fd watch, from [`Ctx::watch_fd`](crate::Ctx::watch_fd).
    FdWatch
);
guard!(
    /// An exported service, from [`Ctx::export`](crate::Ctx::export): dropping
    /// or cancelling it withdraws the service (every importer is revoked, V5).
    ServiceExport
);
