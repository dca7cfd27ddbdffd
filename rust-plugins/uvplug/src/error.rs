//! Status codes as a Rust error type.
//!
//! Every `UVP_E*` code of `include/uvplug/errno.h` has a variant; a code this
//! version of the SDK does not know becomes [`Error::Unknown`]. Converting
//! never panics.
//!
//! A plugin's own failures carry a message (and, optionally, the error that
//! caused them) in [`Error::Custom`], while still mapping to a status code
//! at the boundary; the SDK logs the message through the host when it
//! hands the code back (an `init` that fails says why, not only
//! `UVP_EINVAL`).
//!
//! ```
//! use uvplug::Error;
//!
//! fn port(s: &str) -> uvplug::Result<u16> {
//!     s.parse().map_err(|e| Error::msg(format!("port: {e}")))
//! }
//! let e = port("http").unwrap_err();
//! assert_eq!(e.kind(), Error::Invalid);
//! assert_eq!(e.message(), Some("port: invalid digit found in string"));
//! assert_eq!(e.code(), uvplug::sys::UVP_EINVAL);
//!
//! // `?` on std::io::Error keeps the I/O error as the source.
//! fn read(path: &str) -> uvplug::Result<String> {
//!     Ok(std::fs::read_to_string(path)?)
//! }
//! let e = read("/nonexistent/uvplug").unwrap_err();
//! assert!(e.to_string().contains("No such file"));
//! assert!(std::error::Error::source(&e).is_some());
//! ```

use std::fmt;
use std::io;
use std::os::raw::c_int;
use std::sync::Arc;

use crate::sys;

/// `Result` with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A failed uvplug call, or a failure a plugin reports to the host.
///
/// Returned by every fallible SDK function; returned *by* a plugin from
/// [`Plugin::init`](crate::Plugin::init) and from handlers, where the host
/// counts it (contract F2).
///
/// Equality compares status codes, and for [`Error::Custom`] the message
/// too (not the source).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Error {
    /// `UVP_EINVAL`: invalid argument.
    Invalid,
    /// `UVP_ENOMEM`: out of memory.
    NoMem,
    /// `UVP_EAGAIN`: event queue full, try again later (D4).
    Again,
    /// `UVP_ENOENT`: no such handle, topic or plugin.
    NoEnt,
    /// `UVP_EMSGSIZE`: payload larger than the host allows.
    MsgSize,
    /// `UVP_ENOSPC`: a host table is full.
    NoSpace,
    /// `UVP_EBUSY`: resource busy (also: a re-entrant call the SDK refused).
    Busy,
    /// `UVP_ECANCELED`: cancelled (work cancelled before or while it ran, W2).
    Canceled,
    /// `UVP_EWRONGTHREAD`: a loop-only function was called off the loop thread.
    WrongThread,
    /// `UVP_EPANIC`: a plugin callback panicked.
    Panic,
    /// `UVP_ESTALE`: the handle was already cancelled or finished.
    Stale,
    /// `UVP_ECLOSED`: the plugin is stopping or the host is closing.
    Closed,
    /// `UVP_EINIT`: plugin init failed.
    Init,
    /// `UVP_ENOTSO`: the dynamic loader refused the object (unresolved
    /// symbol, missing dependency, ...).
    NotSharedObject,
    /// `UVP_ENOSYM`: plugin entry symbol missing.
    NoSymbol,
    /// `UVP_EBADMAGIC`: plugin descriptor has a bad magic number.
    BadMagic,
    /// `UVP_EABI`: plugin built for another ABI major version.
    Abi,
    /// `UVP_ESHORT`: plugin descriptor smaller than ABI 1.0.
    Short,
    /// `UVP_EDUPNAME`: a plugin with this name is already loaded.
    DupName,
    /// `UVP_EBADDESC`: plugin descriptor invalid.
    BadDescriptor,
    /// `UVP_EACCES`: permission denied (`-EACCES`; contract A11).
    Access,
    /// `UVP_ENOTFOUND`: plugin file not found (A11).
    NotFound,
    /// `UVP_ENOTREG`: plugin path is not a regular file (A11).
    NotRegular,
    /// `UVP_ENOTELF`: plugin file is not an ELF object (A11).
    NotElf,
    /// `UVP_EMACHINE`: plugin built for another machine or word size (A11).
    Machine,
    /// `UVP_ENOTDYN`: an ELF file but not a shared object (A11).
    NotDynamic,
    /// `UVP_EFILEMODE`: plugin file writable by group or others (A17).
    FileMode,
    /// `UVP_EFILEOWNER`: plugin file owned by another user (A17).
    FileOwner,
    /// `UVP_EDIRMODE`: a directory on the plugin's path is unsafe (A17).
    DirMode,
    /// `UVP_EHASH`: plugin file does not match its SHA-256 pin (A18).
    Hash,
    /// `UVP_ESVCDUP`: a service with this name is already exported (V1).
    ServiceDuplicate,
    /// `UVP_ESVCMAJOR`: service exported with another major version (V2).
    ServiceMajor,
    /// `UVP_ESVCMINOR`: service minor version older than required (V2).
    ServiceMinor,
    /// A code this SDK does not know (a newer host, or a raw errno).
    Unknown(i32),
    /// A plugin's own failure: a status [`kind`](Error::kind) with a
    /// message and an optional source. Made by [`Error::new`],
    /// [`Error::msg`] and the `From` conversions.
    Custom(Box<Custom>),
}

/// The payload of [`Error::Custom`].
#[derive(Clone, Debug)]
pub struct Custom {
    kind: Error,
    msg: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

// One table, like UVP_ERRNO_MAP: variant, code, text.
macro_rules! error_table {
    ($m:ident) => {
        $m! {
            Invalid => sys::UVP_EINVAL, "invalid argument";
            NoMem => sys::UVP_ENOMEM, "out of memory";
            Again => sys::UVP_EAGAIN, "queue full, try again later";
            NoEnt => sys::UVP_ENOENT, "no such handle, topic or plugin";
            MsgSize => sys::UVP_EMSGSIZE, "payload larger than the host allows";
            NoSpace => sys::UVP_ENOSPC, "host table full";
            Busy => sys::UVP_EBUSY, "resource busy";
            Canceled => sys::UVP_ECANCELED, "cancelled";
            WrongThread => sys::UVP_EWRONGTHREAD, "called off the loop thread";
            Panic => sys::UVP_EPANIC, "plugin callback panicked";
            Stale => sys::UVP_ESTALE, "stale handle (already cancelled or finished)";
            Closed => sys::UVP_ECLOSED, "plugin stopping or host closing";
            Init => sys::UVP_EINIT, "plugin init failed";
            NotSharedObject => sys::UVP_ENOTSO, "the dynamic loader refused the object";
            NoSymbol => sys::UVP_ENOSYM, "plugin entry symbol missing";
            BadMagic => sys::UVP_EBADMAGIC, "plugin descriptor has a bad magic number";
            Abi => sys::UVP_EABI, "plugin built for another ABI major version";
            Short => sys::UVP_ESHORT, "plugin descriptor smaller than ABI 1.0";
            DupName => sys::UVP_EDUPNAME, "a plugin with this name is already loaded";
            BadDescriptor => sys::UVP_EBADDESC, "plugin descriptor invalid (name or hook missing)";
            Access => sys::UVP_EACCES, "permission denied";
            NotFound => sys::UVP_ENOTFOUND, "plugin file not found";
            NotRegular => sys::UVP_ENOTREG, "plugin path is not a regular file";
            NotElf => sys::UVP_ENOTELF, "plugin file is not an ELF object";
            Machine => sys::UVP_EMACHINE, "plugin built for another machine or word size";
            NotDynamic => sys::UVP_ENOTDYN, "plugin file is an ELF file but not a shared object";
            FileMode => sys::UVP_EFILEMODE, "plugin file writable by group or others";
            FileOwner => sys::UVP_EFILEOWNER, "plugin file owned by another user";
            DirMode => sys::UVP_EDIRMODE, "a directory on the plugin's path is unsafe";
            Hash => sys::UVP_EHASH, "plugin file does not match its SHA-256 pin";
            ServiceDuplicate => sys::UVP_ESVCDUP, "a service with this name is already exported";
            ServiceMajor => sys::UVP_ESVCMAJOR, "service exported with another major version";
            ServiceMinor => sys::UVP_ESVCMINOR, "service minor version older than required";
        }
    };
}

macro_rules! impl_codes {
    ($($v:ident => $code:expr, $text:expr;)*) => {
        impl Error {
            /// Maps a status code to an error. Never panics: unknown codes
            /// (including `0` and positive values, which are not errors)
            /// become [`Error::Unknown`].
            pub fn from_code(code: c_int) -> Error {
                $(if code == $code { return Error::$v; })*
                Error::Unknown(code)
            }

            /// The status code of this error (negative for every known one).
            pub fn code(&self) -> c_int {
                match self {
                    $(Error::$v => $code,)*
                    Error::Unknown(c) => *c,
                    Error::Custom(c) => c.kind.code(),
                }
            }

            /// The host's text for this code (`uvp_strerror`), or
            /// `"unknown error"`.
            pub fn text(&self) -> &'static str {
                match self {
                    $(Error::$v => $text,)*
                    Error::Unknown(_) => "unknown error",
                    Error::Custom(c) => c.kind.text(),
                }
            }

            /// Every known error, in the order of `errno.h` (for tests and tools).
            pub const ALL: &'static [Error] = &[$(Error::$v,)*];
        }
    };
}
error_table!(impl_codes);

impl Error {
    /// `Ok(())` for `0`, the error for anything else.
    pub fn check(code: c_int) -> Result<()> {
        if code == 0 {
            Ok(())
        } else {
            Err(Error::from_code(code))
        }
    }

    /// The code to hand back to the host: always negative, so that an
    /// `Unknown(0)` or positive value can never be mistaken for success.
    pub(crate) fn status(&self) -> c_int {
        match self.code() {
            c if c < 0 => c,
            _ => sys::UVP_EINVAL,
        }
    }

    /// An error of status `kind` (a plain variant such as
    /// [`Error::Busy`]; a custom one lends its kind) with a message.
    ///
    /// ```
    /// let e = uvplug::Error::new(uvplug::Error::Busy, "backend busy");
    /// assert_eq!(e.kind(), uvplug::Error::Busy);
    /// assert_eq!(e.to_string(), "backend busy");
    /// ```
    pub fn new(kind: Error, msg: impl Into<String>) -> Error {
        Error::Custom(Box::new(Custom {
            kind: kind.kind(),
            msg: msg.into(),
            source: None,
        }))
    }

    /// An [`Error::Invalid`] with a message: the usual error of `init`.
    ///
    /// ```
    /// let e = uvplug::Error::msg("count must be at least 1");
    /// assert_eq!(e.code(), uvplug::sys::UVP_EINVAL);
    /// ```
    pub fn msg(msg: impl Into<String>) -> Error {
        Error::new(Error::Invalid, msg)
    }

    /// Adds `source` as the cause (kept for [`std::error::Error::source`]).
    pub fn with_source(self, source: impl std::error::Error + Send + Sync + 'static) -> Error {
        let (kind, msg) = match self {
            Error::Custom(c) => (c.kind, c.msg),
            e => {
                let msg = e.to_string();
                (e, msg)
            }
        };
        Error::Custom(Box::new(Custom {
            kind,
            msg,
            source: Some(Arc::new(source)),
        }))
    }

    /// The plain status variant: itself, or a custom error's kind.
    pub fn kind(&self) -> Error {
        match self {
            Error::Custom(c) => c.kind.clone(),
            e => e.clone(),
        }
    }

    /// The message of a custom error; `None` for a plain status.
    pub fn message(&self) -> Option<&str> {
        match self {
            Error::Custom(c) => Some(&c.msg),
            _ => None,
        }
    }
}

impl PartialEq for Error {
    fn eq(&self, other: &Error) -> bool {
        self.code() == other.code() && self.message() == other.message()
    }
}

impl Eq for Error {}

impl std::hash::Hash for Error {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.code().hash(h);
        self.message().hash(h);
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unknown(c) => write!(f, "unknown error ({c})"),
            Error::Custom(c) => f.write_str(&c.msg),
            e => write!(f, "{} ({})", e.text(), e.code()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Custom(c) => c
                .source
                .as_deref()
                .map(|s| s as &(dyn std::error::Error + 'static)),
            _ => None,
        }
    }
}

/// The status an I/O error maps to: its errno when it has one (so that
/// `EAGAIN` stays `UVP_EAGAIN`), else by kind.
fn io_kind(e: &io::Error) -> Error {
    if let Some(errno) = e.raw_os_error() {
        return match Error::from_code(-errno) {
            Error::Unknown(_) => Error::Unknown(-errno),
            known => known,
        };
    }
    match e.kind() {
        io::ErrorKind::WouldBlock => Error::Again,
        io::ErrorKind::OutOfMemory => Error::NoMem,
        io::ErrorKind::PermissionDenied => Error::Access,
        _ => Error::Invalid,
    }
}

impl From<io::Error> for Error {
    /// Keeps the I/O error as the source and its text as the message.
    fn from(e: io::Error) -> Error {
        Error::new(io_kind(&e), e.to_string()).with_source(e)
    }
}

impl From<std::num::ParseIntError> for Error {
    fn from(e: std::num::ParseIntError) -> Error {
        Error::msg(e.to_string()).with_source(e)
    }
}

impl From<std::num::ParseFloatError> for Error {
    fn from(e: std::num::ParseFloatError) -> Error {
        Error::msg(e.to_string()).with_source(e)
    }
}

impl From<std::str::Utf8Error> for Error {
    fn from(e: std::str::Utf8Error) -> Error {
        Error::msg(e.to_string()).with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        assert_eq!(Error::ALL.len(), 33);
        for e in Error::ALL {
            assert!(e.code() < 0, "{e:?}");
            assert_eq!(&Error::from_code(e.code()), e);
            assert_ne!(e.text(), "unknown error");
        }
    }

    /// Every code of errno.h's X-map has a variant (drift between the
    /// header and this table fails here, as sys.rs drift fails gen-sys.sh).
    #[test]
    fn matches_errno_h() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../include/uvplug/errno.h");
        let Ok(text) = std::fs::read_to_string(path) else {
            return; // the crate was copied out of the repository
        };
        let names: Vec<&str> = text
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("X("))
            .filter_map(|l| l.split(',').next())
            .collect();
        assert_eq!(names.len(), Error::ALL.len(), "{names:?}");
    }

    #[test]
    fn unknown_codes_never_panic() {
        for c in [0, 1, -1, -4099, i32::MIN, i32::MAX] {
            assert_eq!(Error::from_code(c), Error::Unknown(c));
        }
        assert_eq!(Error::Unknown(0).status(), sys::UVP_EINVAL);
        assert_eq!(Error::Unknown(7).status(), sys::UVP_EINVAL);
        assert_eq!(Error::Unknown(-7).status(), -7);
        assert_eq!(Error::check(0), Ok(()));
        assert_eq!(Error::check(sys::UVP_ESTALE), Err(Error::Stale));
        assert_eq!(Error::Unknown(-9).to_string(), "unknown error (-9)");
        assert_eq!(Error::WrongThread.code(), -4001);
    }

    #[test]
    fn custom_errors_keep_status_and_message() {
        let e = Error::new(Error::Busy, "backend busy");
        assert_eq!(e.code(), sys::UVP_EBUSY);
        assert_eq!(e.status(), sys::UVP_EBUSY);
        assert_eq!(e.kind(), Error::Busy);
        assert_ne!(e, Error::Busy, "the message is part of equality");
        assert_eq!(e.to_string(), "backend busy");
        // new() of a custom error takes its kind, not Custom-in-Custom.
        let again = Error::new(e.clone(), "again");
        assert_eq!(again.kind(), Error::Busy);
        assert_eq!(Error::Invalid.message(), None);
        assert_eq!(
            Error::Unknown(0)
                .with_source(io::Error::new(io::ErrorKind::Other, "x"))
                .status(),
            sys::UVP_EINVAL
        );
    }

    #[test]
    fn io_errors_map_by_errno() {
        let e: Error = io::Error::from_raw_os_error(11).into(); // EAGAIN
        assert_eq!(e.kind(), Error::Again);
        let e: Error = io::Error::from_raw_os_error(5).into(); // EIO: no variant
        assert_eq!(e.code(), -5);
        assert!(std::error::Error::source(&e).is_some());
        let e: Error = io::Error::new(io::ErrorKind::WouldBlock, "later").into();
        assert_eq!(
            (e.kind(), e.to_string()),
            (Error::Again, "later".to_owned())
        );
        let e: Error = "x".parse::<u8>().unwrap_err().into();
        assert_eq!(e.code(), sys::UVP_EINVAL);
    }
}
