//! [`Store`]: the plugin state that implements `kv` (exported by the `kv`
//! plugin, and loadable as is in `uvplug::testing` hosts).

use std::collections::HashMap;

use uvplug::prelude::*;

use crate::{
    bytes, Kv, KvDeleteArgs, KvGetArgs, KvProvider, KvPutArgs, KvStatsArgs, KV_KEY_MAX,
    KV_VALUE_MAX,
};

/// The store. Config: `max_entries=N` (default 1024).
pub struct Store {
    map: HashMap<Vec<u8>, Vec<u8>>,
    bytes: u64,
    max_entries: usize,
    /// The instance's counters, when the host keeps them (a host without
    /// `api->counter` still runs the store, uncounted).
    hits: Option<Counter>,
    misses: Option<Counter>,
    puts: Option<Counter>,
    _export: ServiceExport,
}

impl Store {
    /// Keys stored.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

fn inc(c: &Option<Counter>) {
    if let Some(c) = c {
        c.inc();
    }
}

/// The key of an argument struct, checked: `Invalid` for an empty key or
/// NULL with a length, `MsgSize` over [`KV_KEY_MAX`].
///
/// # Safety
///
/// `ptr` is NULL or points to `len` bytes valid for `'a`.
unsafe fn key<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8]> {
    if len > KV_KEY_MAX {
        return Err(Error::MsgSize);
    }
    // SAFETY: per this function's contract.
    match unsafe { bytes(ptr, len) } {
        Some(k) if !k.is_empty() => Ok(k),
        _ => Err(Error::Invalid),
    }
}

impl KvProvider for Store {
    fn get(&mut self, _: &mut Ctx<Self>, a: &mut KvGetArgs) -> Result<()> {
        // SAFETY: the caller's key, valid during the call (the service's
        // contract, kv.h).
        let k = unsafe { key(a.key, a.key_len) }?;
        let Some(v) = self.map.get(k) else {
            inc(&self.misses);
            return Err(Error::NoEnt);
        };
        inc(&self.hits);
        a.val_len = v.len();
        if v.len() > a.buf_cap {
            return Err(Error::MsgSize);
        }
        if v.is_empty() {
            return Ok(());
        }
        if a.buf.is_null() {
            return Err(Error::Invalid);
        }
        // SAFETY: buf holds buf_cap >= v.len() writable bytes of the
        // caller's for the call; a copy out of our own Vec cannot overlap.
        unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), a.buf, v.len()) };
        Ok(())
    }

    fn put(&mut self, _: &mut Ctx<Self>, a: &mut KvPutArgs) -> Result<()> {
        // SAFETY: as in get.
        let k = unsafe { key(a.key, a.key_len) }?;
        if a.val_len > KV_VALUE_MAX {
            return Err(Error::MsgSize);
        }
        // SAFETY: the caller's value, valid during the call; copied below.
        let Some(v) = (unsafe { bytes(a.val, a.val_len) }) else {
            return Err(Error::Invalid);
        };
        if !self.map.contains_key(k) && self.map.len() >= self.max_entries {
            return Err(Error::NoSpace);
        }
        inc(&self.puts);
        self.bytes += (k.len() + v.len()) as u64;
        match self.map.insert(k.to_vec(), v.to_vec()) {
            Some(old) => {
                self.bytes -= (k.len() + old.len()) as u64;
                a.replaced = 1;
            }
            None => a.replaced = 0,
        }
        Ok(())
    }

    fn delete(&mut self, _: &mut Ctx<Self>, a: &mut KvDeleteArgs) -> Result<()> {
        // SAFETY: as in get.
        let k = unsafe { key(a.key, a.key_len) }?;
        let old = self.map.remove(k).ok_or(Error::NoEnt)?;
        self.bytes -= (k.len() + old.len()) as u64;
        Ok(())
    }

    fn stats(&mut self, _: &mut Ctx<Self>, a: &mut KvStatsArgs) -> Result<()> {
        a.entries = self.map.len() as u64;
        a.bytes = self.bytes;
        a.max_entries = self.max_entries as u64;
        Ok(())
    }
}

impl Plugin for Store {
    fn init(ctx: &mut Ctx<Self>, config: &str) -> Result<Self> {
        let mut max_entries = 1024;
        for kv in config.split_whitespace() {
            match kv.split_once('=') {
                Some(("max_entries", n)) => {
                    max_entries = n
                        .parse()
                        .map_err(|e| Error::msg(format!("max_entries: {e}")))?;
                }
                _ => return Err(Error::msg(format!("unknown config {kv:?}"))),
            }
        }
        Ok(Store {
            map: HashMap::new(),
            bytes: 0,
            max_entries,
            hits: ctx.counter("hits").ok(),
            misses: ctx.counter("misses").ok(),
            puts: ctx.counter("puts").ok(),
            _export: ctx.export::<Kv>()?,
        })
    }
}
