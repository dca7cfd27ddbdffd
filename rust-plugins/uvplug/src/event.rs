//! Borrowed views of what the host hands to callbacks.

use std::os::raw::c_int;
use std::{fmt, slice, str};

use crate::{sys, Error};

/// An interned topic name (`uvp_topic`), from [`Ctx::topic`](crate::Ctx::topic).
///
/// Valid for the life of the host that issued it and the same for every
/// plugin of that host; cheap to copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Topic(pub(crate) sys::uvp_topic);

impl Topic {
    /// The raw topic id (never 0).
    pub fn id(self) -> u32 {
        self.0
    }
}

/// An event as a subscriber sees it, borrowed for the duration of the
/// handler call (contract L7): the borrow checker keeps it from escaping.
/// Copy the payload (`data().to_vec()`) to keep it.
pub struct Event<'a> {
    topic: Topic,
    name: &'a [u8],
    data: &'a [u8],
}

impl<'a> Event<'a> {
    /// Builds the borrow from the host's `uvp_event`, or `None` when the
    /// event is malformed (NULL, too small, NULL data with a length).
    ///
    /// # Safety
    ///
    /// `ev` is NULL or points to a `uvp_event` whose `topic_name` and `data`
    /// stay valid for `'a` (the host guarantees it for one callback, L7).
    pub(crate) unsafe fn from_raw(ev: *const sys::uvp_event) -> Option<Event<'a>> {
        if ev.is_null() {
            return None;
        }
        // SAFETY: non-null and valid for 'a per this function's contract.
        let ev = unsafe { &*ev };
        if (ev.size as usize) < std::mem::size_of::<sys::uvp_event>() {
            return None;
        }
        let name = if ev.topic_name.is_null() || ev.topic_name_len == 0 {
            &[][..]
        } else {
            // SAFETY: the host gives topic_name_len bytes at topic_name, valid
            // while the host lives, so at least for 'a.
            unsafe { slice::from_raw_parts(ev.topic_name.cast::<u8>(), ev.topic_name_len) }
        };
        let data = if ev.len == 0 {
            &[][..]
        } else if ev.data.is_null() {
            return None;
        } else {
            // SAFETY: data is non-null with len bytes borrowed for this callback (L7).
            unsafe { slice::from_raw_parts(ev.data.cast::<u8>(), ev.len) }
        };
        Some(Event {
            topic: Topic(ev.topic),
            name,
            data,
        })
    }

    /// The topic the event was published on.
    pub fn topic(&self) -> Topic {
        self.topic
    }

    /// The topic's name (`""` in the impossible case of invalid UTF-8: the
    /// host only accepts UTF-8 names, F4).
    pub fn topic_name(&self) -> &'a str {
        str::from_utf8(self.name).unwrap_or("")
    }

    /// The payload bytes.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }
}

impl fmt::Debug for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("topic", &self.topic_name())
            .field("len", &self.data.len())
            .finish()
    }
}

/// What an fd watch waits for: [`Interest::READABLE`], [`Interest::WRITABLE`]
/// or both (`READABLE | WRITABLE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interest(pub(crate) c_int);

impl Interest {
    /// The fd has data to read (or a connection to accept).
    pub const READABLE: Interest = Interest(sys::UVP_FD_READABLE as c_int);
    /// The fd accepts writes.
    pub const WRITABLE: Interest = Interest(sys::UVP_FD_WRITABLE as c_int);
}

impl std::ops::BitOr for Interest {
    type Output = Interest;
    fn bitor(self, rhs: Interest) -> Interest {
        Interest(self.0 | rhs.0)
    }
}

/// Readiness reported to an fd watch handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Readiness {
    pub(crate) status: c_int,
    pub(crate) events: c_int,
}

impl Readiness {
    /// The fd is readable.
    pub fn is_readable(self) -> bool {
        self.events & sys::UVP_FD_READABLE as c_int != 0
    }

    /// The fd is writable.
    pub fn is_writable(self) -> bool {
        self.events & sys::UVP_FD_WRITABLE as c_int != 0
    }

    /// The poller's error, if it reported one (then no event bits are set).
    pub fn error(self) -> Option<Error> {
        if self.status == 0 {
            None
        } else {
            Some(Error::from_code(self.status))
        }
    }
}
