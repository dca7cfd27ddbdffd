//! Status codes as a Rust error type.
//!
//! Every `UVP_E*` code of `include/uvplug/errno.h` has a variant; a code this
//! version of the SDK does not know becomes [`Error::Unknown`]. Converting
//! never panics.

use std::fmt;
use std::os::raw::c_int;

use crate::sys;

/// `Result` with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A failed uvplug call, or a failure a plugin reports to the host.
///
/// Returned by every fallible SDK function; returned *by* a plugin from
/// [`Plugin::init`](crate::Plugin::init) and from handlers, where the host
/// counts it (contract F2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// A code this SDK does not know (a newer host, or a raw errno).
    Unknown(i32),
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
            pub fn code(self) -> c_int {
                match self {
                    $(Error::$v => $code,)*
                    Error::Unknown(c) => c,
                }
            }

            /// The host's text for this code (`uvp_strerror`), or
            /// `"unknown error"`.
            pub fn text(self) -> &'static str {
                match self {
                    $(Error::$v => $text,)*
                    Error::Unknown(_) => "unknown error",
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
    pub(crate) fn status(self) -> c_int {
        match self.code() {
            c if c < 0 => c,
            _ => sys::UVP_EINVAL,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unknown(c) => write!(f, "unknown error ({c})"),
            e => write!(f, "{} ({})", e.text(), e.code()),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        assert_eq!(Error::ALL.len(), 30);
        for &e in Error::ALL {
            assert!(e.code() < 0, "{e:?}");
            assert_eq!(Error::from_code(e.code()), e);
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
}
