//! The `kv` service (1.0): a small in-memory key-value store that a Rust
//! plugin (`examples/kv`) exports and C plugins, Rust plugins and the
//! embedder call (docs/services.md).
//!
//! This crate is what both sides share: the declaration below (from which
//! cbindgen generates `include/uvplug/services/kv.h`, see
//! `rust-plugins/gen-services.sh`), the limits, typed helpers on the
//! client, and [`Store`], the provider the `kv` plugin exports.
//!
//! Keys and values cross as pointer + length and are only borrowed for the
//! call: the provider copies what it keeps (`put`) and copies out into the
//! caller's buffer (`get`), so no pointer crosses the call's end in either
//! direction.
//!
//! | Status | Meaning |
//! |--------|---------|
//! | 0 | done |
//! | `UVP_ENOENT` | no such key (`get`, `delete`) |
//! | `UVP_EMSGSIZE` | `get`: the value is larger than `buf_cap` (`val_len` says how large); `put`: key over [`KV_KEY_MAX`] or value over [`KV_VALUE_MAX`] |
//! | `UVP_ENOSPC` | `put` of a new key into a full store |
//! | `UVP_EINVAL` | an empty key, or NULL with a non-zero length |
//!
//! ```
//! use kv_service::{KvClient, Store};
//! use uvplug::prelude::*;
//!
//! struct User { kv: KvClient, got: Vec<u8> }
//! impl Plugin for User {
//!     fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
//!         let kv = ctx.import::<KvClient>(0, |_: &mut User, _, _| Ok(()))?;
//!         kv.put_bytes(b"colour", b"blue")?;
//!         let got = kv.get_vec(b"colour")?;
//!         kv.remove(b"colour")?;
//!         assert_eq!(kv.get_vec(b"colour"), Err(Error::NoEnt));
//!         Ok(User { kv, got })
//!     }
//! }
//! let mut host = uvplug::testing::TestHost::new();
//! host.load_as::<Store>("kv", "").unwrap();
//! let u = host.load::<User>("").unwrap();
//! assert_eq!(host.state(&u).got, b"blue");
//! ```

#![deny(unsafe_op_in_unsafe_fn)]
#![deny(missing_docs)]

mod client;
mod store;

pub use store::Store;

/// Major version of the `kv` service.
pub const KV_MAJOR: u16 = 1;
/// Minor version of the `kv` service (functions are only ever appended).
pub const KV_MINOR: u16 = 0;
/// Longest key, in bytes.
pub const KV_KEY_MAX: usize = 256;
/// Longest value, in bytes.
pub const KV_VALUE_MAX: usize = 65536;

uvplug::service! {
    /// The `kv` service: get, put, delete and stats on byte keys and values.
    pub service Kv {
        name = "kv", major = KV_MAJOR, minor = KV_MINOR,
        provider = KvProvider, client = KvClient;
        /// Copies the value of `key` into `buf` (at most `buf_cap` bytes)
        /// and sets `val_len` to its size. `UVP_EMSGSIZE` when it does not
        /// fit (`val_len` is still set, `buf` untouched: call again with a
        /// larger buffer; `buf_cap` 0 and `buf` NULL ask for the size);
        /// `UVP_ENOENT` when there is no such key.
        fn get [KV_GET = 0] (KvGetArgs {
            /// The key: `key_len` bytes, the caller's, read during the call.
            key: *const u8,
            /// Bytes of `key`, 1..=KV_KEY_MAX.
            key_len: usize,
            /// Where the value goes: the caller's, written during the call.
            buf: *mut u8,
            /// Bytes `buf` can hold.
            buf_cap: usize,
            /// Out: the value's size, when the key exists.
            val_len: usize,
        });
        /// Stores a copy of `val` under a copy of `key`, replacing an old
        /// value (`replaced` 1) or adding one (`replaced` 0).
        /// `UVP_EMSGSIZE` for a key or value over the limits,
        /// `UVP_ENOSPC` for a new key in a full store.
        fn put [KV_PUT = 1] (KvPutArgs {
            /// The key, the caller's; copied.
            key: *const u8,
            /// Bytes of `key`, 1..=KV_KEY_MAX.
            key_len: usize,
            /// The value, the caller's; copied. May be NULL when `val_len` is 0.
            val: *const u8,
            /// Bytes of `val`, 0..=KV_VALUE_MAX.
            val_len: usize,
            /// Out: 1 when an old value was replaced, else 0.
            replaced: u32,
        });
        /// Removes `key`; `UVP_ENOENT` when there is no such key.
        fn delete [KV_DELETE = 2] (KvDeleteArgs {
            /// The key, the caller's, read during the call.
            key: *const u8,
            /// Bytes of `key`, 1..=KV_KEY_MAX.
            key_len: usize,
        });
        /// How full the store is.
        fn stats [KV_STATS = 3] (KvStatsArgs {
            /// Out: keys stored.
            entries: u64,
            /// Out: bytes of keys and values stored.
            bytes: u64,
            /// Out: the most keys the store takes (its config).
            max_entries: u64,
        });
    }
}

/// Borrows `len` bytes at `ptr` (empty when `len` is 0), or `None` for a
/// NULL pointer with a non-zero length.
///
/// # Safety
///
/// When non-null, `ptr` points to `len` readable bytes for `'a`.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> Option<&'a [u8]> {
    if len == 0 {
        return Some(&[]);
    }
    if ptr.is_null() {
        return None;
    }
    // SAFETY: per this function's contract.
    Some(unsafe { std::slice::from_raw_parts(ptr, len) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::size_of;

    /// `offset_of!` (Rust 1.77) without raising the MSRV (1.70).
    macro_rules! offset_of {
        ($t:ty, $f:ident) => {{
            let u = std::mem::MaybeUninit::<$t>::uninit();
            let base = u.as_ptr();
            // SAFETY: addr_of! computes the field's address inside the
            // uninitialised local without reading it.
            let f = unsafe { std::ptr::addr_of!((*base).$f) };
            f as usize - base as usize
        }};
    }

    /// The layout tests/unit/test_kv_header.c asserts on the cbindgen
    /// header, field by field: both sides pin the same numbers.
    #[test]
    fn layout_matches_the_c_header() {
        let p = size_of::<usize>();
        assert_eq!(size_of::<KvGetArgs>(), 5 * p);
        assert_eq!(
            [
                offset_of!(KvGetArgs, key),
                offset_of!(KvGetArgs, key_len),
                offset_of!(KvGetArgs, buf),
                offset_of!(KvGetArgs, buf_cap),
                offset_of!(KvGetArgs, val_len)
            ],
            [0, p, 2 * p, 3 * p, 4 * p]
        );
        assert_eq!(size_of::<KvPutArgs>(), 5 * p);
        assert_eq!(
            [
                offset_of!(KvPutArgs, key),
                offset_of!(KvPutArgs, key_len),
                offset_of!(KvPutArgs, val),
                offset_of!(KvPutArgs, val_len),
                offset_of!(KvPutArgs, replaced)
            ],
            [0, p, 2 * p, 3 * p, 4 * p]
        );
        assert_eq!(size_of::<KvDeleteArgs>(), 2 * p);
        assert_eq!(offset_of!(KvDeleteArgs, key_len), p);
        assert_eq!(size_of::<KvStatsArgs>(), 24);
        assert_eq!(
            [
                offset_of!(KvStatsArgs, entries),
                offset_of!(KvStatsArgs, bytes),
                offset_of!(KvStatsArgs, max_entries)
            ],
            [0, 8, 16]
        );
        assert_eq!([KV_GET, KV_PUT, KV_DELETE, KV_STATS], [0, 1, 2, 3]);
    }
}
