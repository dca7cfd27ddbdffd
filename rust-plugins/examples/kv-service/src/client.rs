//! Typed helpers on the generated [`KvClient`]: slices in, `Vec`s out.
//! They fill the argument structs and call through the client's methods,
//! so the host's check of the reference always runs (V3).

use std::ptr;

use uvplug::{Error, Result};

use crate::{KvClient, KvDeleteArgs, KvGetArgs, KvPutArgs, KvStatsArgs};

impl KvClient {
    /// The value of `key`, copied: asks for the size, then reads into a
    /// buffer of that size (again if it grew in between, which it cannot
    /// on one loop thread, but the protocol allows it).
    pub fn get_vec(&self, key: &[u8]) -> Result<Vec<u8>> {
        let mut buf: Vec<u8> = Vec::new();
        loop {
            let mut a = KvGetArgs {
                key: key.as_ptr(),
                key_len: key.len(),
                buf: if buf.capacity() == 0 {
                    ptr::null_mut()
                } else {
                    buf.as_mut_ptr()
                },
                buf_cap: buf.capacity(),
                val_len: 0,
            };
            match self.get(&mut a) {
                Ok(()) => {
                    // SAFETY: the provider wrote val_len <= buf_cap bytes
                    // into buf (the service's contract for status 0).
                    unsafe { buf.set_len(a.val_len.min(buf.capacity())) };
                    return Ok(buf);
                }
                Err(Error::MsgSize) if a.val_len > buf.capacity() => {
                    buf = Vec::with_capacity(a.val_len);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Stores `val` under `key`; `Ok(true)` when it replaced a value.
    pub fn put_bytes(&self, key: &[u8], val: &[u8]) -> Result<bool> {
        let mut a = KvPutArgs {
            key: key.as_ptr(),
            key_len: key.len(),
            val: val.as_ptr(),
            val_len: val.len(),
            replaced: 0,
        };
        self.put(&mut a)?;
        Ok(a.replaced != 0)
    }

    /// Removes `key` (`Err(NoEnt)` if absent).
    pub fn remove(&self, key: &[u8]) -> Result<()> {
        let mut a = KvDeleteArgs {
            key: key.as_ptr(),
            key_len: key.len(),
        };
        self.delete(&mut a)
    }

    /// (entries, bytes, max_entries) of the store.
    pub fn usage(&self) -> Result<(u64, u64, u64)> {
        let mut a = KvStatsArgs {
            entries: 0,
            bytes: 0,
            max_entries: 0,
        };
        self.stats(&mut a)?;
        Ok((a.entries, a.bytes, a.max_entries))
    }
}
