//! The fake host's services (contract V1-V7) and per-instance counters:
//! the `service_*` and `counter` entries of its table, and the revoke and
//! drain steps its unload, quarantine and reload take.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};

use super::{entry, Inner, Kind, LogLine, Phase, State, TestHost};
use crate::ctx::Level;
use crate::sys;

/// The revoke callback of an import.
pub(super) type RevokeCb = unsafe extern "C" fn(*mut sys::uvp_ctx, sys::uvp_id, c_int, *mut c_void);
type SvcFn = unsafe extern "C" fn(*mut c_void, *mut c_void) -> c_int;

/// One export, from `service_export` until its destroy ran.
pub(super) struct Service {
    name: String,
    major: u16,
    minor: u16,
    fns: *const sys::uvp_service_fn,
    count: u32,
    instance: *mut c_void,
    destroy: sys::uvp_destroy_fn,
    pub(super) provider: usize,
    /// Exported and not withdrawn: importable, and its references not
    /// revoked (V5).
    live: bool,
    /// References not dropped yet (revoked ones included, V6).
    pub(super) refs: usize,
    /// Loop time of the revoke, for the V6 grace warning.
    revoked_at: u64,
    warned: bool,
    /// Its destroy ran: the record is kept only so indices stay stable.
    gone: bool,
}

/// Bytes of `uvp_service_export` up to the end of `destroy`: ABI 1.3's.
const EXPORT_SIZE: usize = std::mem::size_of::<sys::uvp_service_export>();
const IMPORT_SIZE: usize = std::mem::size_of::<sys::uvp_service_import>();

fn name_ok(b: &[u8]) -> bool {
    !b.is_empty()
        && b.len() <= sys::UVP_TOPIC_MAX as usize
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// The NUL-terminated name at `p`, if it is at most UVP_TOPIC_MAX bytes.
///
/// # Safety
///
/// `p` is NULL or a NUL-terminated string.
unsafe fn read_name(p: *const c_char) -> Option<Vec<u8>> {
    if p.is_null() {
        return None;
    }
    // SAFETY: per this function's contract.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    name_ok(bytes).then(|| bytes.to_vec())
}

pub(super) extern "C" fn api_service_export(
    ctx: *mut sys::uvp_ctx,
    desc: *const sys::uvp_service_export,
    out: *mut sys::uvp_id,
) -> c_int {
    entry(ctx, |inner, plugin| {
        if desc.is_null() || out.is_null() {
            return sys::UVP_EINVAL;
        }
        // SAFETY: the caller's descriptor; its size is read first and the
        // rest only when it covers ABI 1.3's struct (V1).
        let size = unsafe { std::ptr::addr_of!((*desc).size).read() } as usize;
        if size < EXPORT_SIZE {
            return sys::UVP_EINVAL;
        }
        // SAFETY: size checked; copied field by field (V1: read once).
        let d = unsafe { desc.read() };
        // SAFETY: the caller's NUL-terminated name (plugin.h).
        let Some(name) = (unsafe { read_name(d.name) }) else {
            return sys::UVP_EINVAL;
        };
        if d.fns.is_null() || d.count == 0 {
            return sys::UVP_EINVAL;
        }
        // SAFETY: fns[0..count) is the provider's table (plugin.h).
        let fns = unsafe { std::slice::from_raw_parts(d.fns, d.count as usize) };
        if fns.iter().any(|f| f.is_none()) {
            return sys::UVP_EINVAL;
        }
        let name = String::from_utf8(name).expect("checked ASCII");
        let mut st = inner.st.borrow_mut();
        if !matches!(st.plugins[plugin].phase, Phase::Init | Phase::Running) {
            return sys::UVP_ECLOSED;
        }
        // V1, V7: an export of an instance being replaced by a reload does
        // not hold its name.
        let dup = st
            .services
            .iter()
            .any(|s| s.live && s.name == name && !st.plugins[s.provider].replacing);
        if dup {
            return sys::UVP_ESVCDUP;
        }
        let svc = st.services.len();
        st.services.push(Service {
            name,
            major: d.major,
            minor: d.minor,
            fns: d.fns,
            count: d.count,
            instance: d.instance,
            destroy: d.destroy,
            provider: plugin,
            live: true,
            refs: 0,
            revoked_at: 0,
            warned: false,
            gone: false,
        });
        drop(st);
        let rc = inner.register(
            plugin,
            Kind::Export { svc },
            std::ptr::null_mut(),
            None,
            out,
        );
        if rc != 0 {
            let mut st = inner.st.borrow_mut();
            st.services[svc].live = false;
            st.services[svc].gone = true; // never exported: no destroy (L6)
        }
        rc
    })
}

pub(super) extern "C" fn api_service_import(
    ctx: *mut sys::uvp_ctx,
    req: *const sys::uvp_service_import,
    out: *mut sys::uvp_id,
) -> c_int {
    entry(ctx, |inner, plugin| {
        if req.is_null() || out.is_null() {
            return sys::UVP_EINVAL;
        }
        // SAFETY: as in api_service_export: size first.
        let size = unsafe { std::ptr::addr_of!((*req).size).read() } as usize;
        if size < IMPORT_SIZE {
            return sys::UVP_EINVAL;
        }
        // SAFETY: size checked.
        let r = unsafe { req.read() };
        // SAFETY: the caller's NUL-terminated name.
        let (Some(name), Some(revoke)) = (unsafe { read_name(r.name) }, r.revoke) else {
            return sys::UVP_EINVAL;
        };
        let svc = {
            let st = inner.st.borrow();
            // The newest live export of the name (during a reload the old
            // one is revoked before anyone can prefer it, V7).
            let Some(svc) = st
                .services
                .iter()
                .rposition(|s| s.live && s.name.as_bytes() == name)
            else {
                return sys::UVP_ENOENT;
            };
            let s = &st.services[svc];
            if s.provider == plugin {
                return sys::UVP_EINVAL; // V2: not its own export
            }
            if s.major != r.major {
                return sys::UVP_ESVCMAJOR;
            }
            if s.minor < r.min_minor {
                return sys::UVP_ESVCMINOR;
            }
            svc
        };
        let kind = Kind::Import {
            svc,
            revoke,
            revoked: false,
        };
        let rc = inner.register(plugin, kind, r.user_data, r.destroy, out);
        if rc == 0 {
            inner.st.borrow_mut().services[svc].refs += 1;
        }
        rc
    })
}

/// The import `id` of `plugin`: (slot, service, revoked), or `UVP_ESTALE`
/// for anything else (V3: dropped, unknown, another's, not an import).
fn import_of(st: &State, plugin: usize, id: sys::uvp_id) -> Result<(usize, usize, bool), c_int> {
    let index = Inner::lookup(st, Some(plugin), id).map_err(|_| sys::UVP_ESTALE)?;
    match st.slots[index].reg.as_ref().map(|r| r.kind) {
        Some(Kind::Import { svc, revoked, .. }) => Ok((index, svc, revoked)),
        _ => Err(sys::UVP_ESTALE),
    }
}

/// V3: the provider runs a callback (a registration of its own is on the
/// stack) or a service call of its own.
fn busy(st: &State, provider: usize) -> bool {
    st.plugins[provider].in_call > 0
        || st.slots.iter().any(|s| {
            s.reg
                .as_ref()
                .is_some_and(|r| r.plugin == provider && r.running)
        })
}

pub(super) extern "C" fn api_service_call(
    ctx: *mut sys::uvp_ctx,
    id: sys::uvp_id,
    index: u32,
    args: *mut c_void,
) -> c_int {
    entry(ctx, |inner, plugin| {
        let (f, instance, provider) = {
            let mut st = inner.st.borrow_mut();
            let (_, svc, revoked) = match import_of(&st, plugin, id) {
                Ok(x) => x,
                Err(rc) => return rc,
            };
            let s = &st.services[svc];
            if revoked || !s.live {
                return sys::UVP_ESTALE;
            }
            if index >= s.count {
                return sys::UVP_EINVAL;
            }
            let provider = s.provider;
            // SAFETY: index < count; the table is the provider's, valid
            // until the service's destroy (not run: it is live).
            let f: Option<SvcFn> = unsafe { *s.fns.add(index as usize) };
            let instance = s.instance;
            if busy(&st, provider) {
                return sys::UVP_EBUSY;
            }
            st.plugins[provider].in_call += 1;
            (f, instance, provider)
        };
        let rc = match f {
            // SAFETY: the provider's function with its own instance and the
            // caller's args, passed through (V3).
            Some(f) => unsafe { f(instance, args) },
            None => sys::UVP_EINVAL,
        };
        let mut st = inner.st.borrow_mut();
        st.plugins[provider].in_call -= 1;
        if rc == sys::UVP_EPANIC {
            // V4: a fault of the provider, as a callback's; its quarantine
            // waits until no callback is on the stack (the caller's returns).
            if let Some(p) = Inner::count_status(&mut st, provider, rc) {
                if !st.quarantine_due.contains(&p) {
                    st.quarantine_due.push(p);
                }
            }
        }
        rc
    })
}

pub(super) extern "C" fn api_service_info(
    ctx: *mut sys::uvp_ctx,
    id: sys::uvp_id,
    out: *mut sys::uvp_service_info,
) -> c_int {
    entry(ctx, |inner, plugin| {
        if out.is_null() {
            return sys::UVP_EINVAL;
        }
        // SAFETY: the caller's struct; only its size is read first.
        let size = unsafe { std::ptr::addr_of!((*out).size).read() } as usize;
        if size < std::mem::size_of::<u32>() {
            return sys::UVP_EINVAL;
        }
        let st = inner.st.borrow();
        let (_, svc, revoked) = match import_of(&st, plugin, id) {
            Ok(x) => x,
            Err(rc) => return rc,
        };
        let s = &st.services[svc];
        let info = sys::uvp_service_info {
            size: size as u32,
            major: s.major,
            minor: s.minor,
            count: s.count,
            revoked: c_int::from(revoked || !s.live),
            provider: st.plugins[s.provider].name_c.as_ptr(),
        };
        let n = size.min(std::mem::size_of::<sys::uvp_service_info>());
        // SAFETY: out holds `size` bytes (the caller's promise); n is at
        // most that and at most ours; the name lives as long as the host.
        unsafe {
            std::ptr::copy_nonoverlapping(
                (&info as *const sys::uvp_service_info).cast::<u8>(),
                out.cast::<u8>(),
                n,
            )
        };
        0
    })
}

pub(super) extern "C" fn api_counter(
    ctx: *mut sys::uvp_ctx,
    name: *const c_char,
    len: usize,
    out: *mut *mut u64,
) -> c_int {
    entry(ctx, |inner, plugin| {
        if name.is_null() || out.is_null() || len == 0 || len > sys::UVP_NAME_MAX as usize {
            return sys::UVP_EINVAL;
        }
        // SAFETY: the caller gives len bytes at name for this call.
        let bytes = unsafe { std::slice::from_raw_parts(name.cast::<u8>(), len) };
        if !bytes
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
        {
            return sys::UVP_EINVAL;
        }
        let key = String::from_utf8(bytes.to_vec()).expect("checked ASCII");
        let mut st = inner.st.borrow_mut();
        let counters = &mut st.plugins[plugin].counters;
        let at = match counters.iter().position(|(n, _)| *n == key) {
            Some(i) => i,
            None if counters.len() >= sys::UVP_COUNTERS_MAX as usize => return sys::UVP_ENOSPC,
            None => {
                counters.push((key, Box::new(0)));
                counters.len() - 1
            }
        };
        let cell = &mut *counters[at].1 as *mut u64;
        // SAFETY: out checked non-null; the box lives as long as the host.
        unsafe { *out = cell };
        0
    })
}

impl Inner {
    /// V5: withdraws every live export of `provider` (all when `svc` is
    /// None) and runs each reference's revoke with `reason`, once.
    pub(super) fn revoke_exports(&self, provider: usize, only: Option<usize>, reason: c_int) {
        let svcs: Vec<usize> = {
            let mut st = self.st.borrow_mut();
            let now = st.now;
            let mut v = Vec::new();
            for (i, s) in st.services.iter_mut().enumerate() {
                if s.live && s.provider == provider && only.map_or(true, |o| o == i) {
                    s.live = false;
                    s.revoked_at = now;
                    v.push(i);
                }
            }
            v
        };
        for svc in svcs {
            self.revoke_refs(svc, reason);
        }
        self.sweep_services();
    }

    /// Runs the revoke of each reference to `svc`, in slot order; the
    /// reference counts as running meanwhile, so a cancel inside defers
    /// its destroy until the revoke returned (L2).
    fn revoke_refs(&self, svc: usize, reason: c_int) {
        let mut index = 0;
        loop {
            let call = {
                let mut st = self.st.borrow_mut();
                let start = index.min(st.slots.len());
                let found = st.slots[start..].iter().position(|s| {
                    s.reg.as_ref().is_some_and(|r| {
                        !r.ended && matches!(r.kind, Kind::Import { svc: s2, revoked: false, .. } if s2 == svc)
                    })
                });
                let Some(i) = found.map(|i| i + start) else {
                    return;
                };
                index = i + 1;
                let gen = st.slots[i].gen;
                let reg = st.slots[i].reg.as_mut().expect("found");
                let Kind::Import { revoke, .. } = reg.kind else {
                    unreachable!()
                };
                reg.kind = Kind::Import {
                    svc,
                    revoke,
                    revoked: true,
                };
                reg.running = true;
                let plugin = reg.plugin;
                let ud = reg.user_data;
                let ctx = &*st.plugins[plugin].ctx as *const super::FakeCtx as *mut sys::uvp_ctx;
                (i, plugin, super::make_id(i, gen), revoke, ud, ctx)
            };
            let (i, plugin, id, revoke, ud, ctx) = call;
            // SAFETY: the importer's revoke with its own ctx, id and
            // user_data, on the loop thread, once (V5).
            unsafe { revoke(ctx, id, reason, ud) };
            self.end(i, plugin, 0);
        }
    }

    /// Runs the destroy of every export that is withdrawn and no longer
    /// referenced (V6), once; then its provider finishes if it only
    /// waited for that.
    pub(super) fn sweep_services(&self) {
        loop {
            let d = {
                let mut st = self.st.borrow_mut();
                let Some(s) = st
                    .services
                    .iter_mut()
                    .find(|s| !s.live && s.refs == 0 && !s.gone)
                else {
                    return;
                };
                s.gone = true;
                (s.provider, s.destroy.map(|d| (d, s.instance)))
            };
            let (provider, d) = d;
            if let Some((destroy, instance)) = d {
                // SAFETY: the provider's destroy with its instance, exactly
                // once, after the export ended and its last reference was
                // dropped (V6).
                unsafe { destroy(instance) };
            }
            // V6, as the host's release(): a draining provider may finish
            // now, inside the call that dropped the last reference.
            self.try_finish(provider);
        }
    }

    /// A registration's slot is freed: an export is withdrawn (its
    /// importers were revoked before, V5), an import is one reference less.
    pub(super) fn released(st: &mut State, kind: Kind) {
        match kind {
            Kind::Export { svc } => {
                let now = st.now;
                let s = &mut st.services[svc];
                if s.live {
                    s.live = false;
                    s.revoked_at = now;
                }
            }
            Kind::Import { svc, .. } => st.services[svc].refs -= 1,
            _ => {}
        }
    }

    /// References still held to exports of `provider` (V6: it drains).
    pub(super) fn service_refs(&self, provider: usize) -> usize {
        let st = self.st.borrow();
        st.services
            .iter()
            .filter(|s| s.provider == provider && !s.gone)
            .map(|s| s.refs)
            .sum()
    }

    /// V6: one warning per export whose references are still held
    /// `service_grace` after the revoke, naming the holders.
    pub(super) fn warn_held(&self, provider: usize) {
        let mut st = self.st.borrow_mut();
        let now = st.now;
        let grace = st.service_grace;
        let mut lines = Vec::new();
        for (i, s) in st.services.iter().enumerate() {
            if s.provider != provider || s.live || s.gone || s.refs == 0 || s.warned {
                continue;
            }
            if now.saturating_sub(s.revoked_at) < grace {
                continue;
            }
            let holders: Vec<String> = st
                .slots
                .iter()
                .filter_map(|sl| sl.reg.as_ref())
                .filter(|r| matches!(r.kind, Kind::Import { svc, .. } if svc == i))
                .map(|r| st.plugins[r.plugin].name.clone())
                .collect();
            lines.push((
                i,
                format!(
                    "plugin {}: service {} still referenced {} ms after its revoke by: {}; \
                     unload waits",
                    st.plugins[provider].name,
                    s.name,
                    grace,
                    holders.join(", ")
                ),
            ));
        }
        for (i, msg) in lines {
            st.services[i].warned = true;
            st.logs.push(LogLine {
                plugin: "host".into(),
                level: Level::Warn,
                msg,
            });
        }
    }
}

impl TestHost {
    /// Sets how long a provider's unload waits for importers to drop their
    /// references before the host warns (V6; virtual time, default 5 s).
    pub fn set_service_grace(&mut self, grace: std::time::Duration) {
        self.inner.st.borrow_mut().service_grace = super::ms(grace);
    }

    /// The value of counter `name` of a plugin (`Ctx::counter`), if it
    /// made one.
    pub fn counter(&self, id: super::PluginId, name: &str) -> Option<u64> {
        let st = self.inner.st.borrow();
        let p = st.plugins.get(id.0)?;
        p.counters.iter().find(|(n, _)| n == name).map(|(_, c)| **c)
    }

    /// Names of the services exported and not withdrawn, oldest first.
    pub fn services(&self) -> Vec<String> {
        let st = self.inner.st.borrow();
        st.services
            .iter()
            .filter(|s| s.live)
            .map(|s| s.name.clone())
            .collect()
    }

    /// References held to services `id` exports (withdrawn ones included).
    pub fn service_refs(&self, id: super::PluginId) -> usize {
        self.inner.service_refs(id.0)
    }

    /// Reloads plugin `old` as a new instance of `P` with the same name
    /// (U5, V7): the new one loads and starts beside the old one, and may
    /// export the old one's names; then the old one's importers are
    /// revoked with `Stale` (they can import the new version from the
    /// revoke) and the old one unloads. When the new one fails to load the
    /// old one is untouched.
    pub fn reload<P: crate::Plugin>(
        &mut self,
        old: super::PluginId,
        config: &str,
    ) -> crate::Result<super::Loaded<P>> {
        let name = {
            let mut st = self.inner.st.borrow_mut();
            let Some(p) = st.plugins.get_mut(old.0) else {
                return Err(crate::Error::NoEnt);
            };
            if p.phase != Phase::Running {
                return Err(crate::Error::Closed);
            }
            p.replacing = true;
            p.name.clone()
        };
        let new = self.load_as::<P>(&name, config);
        if new.is_err() {
            self.inner.st.borrow_mut().plugins[old.0].replacing = false;
            return new;
        }
        self.inner.revoke_exports(old.0, None, sys::UVP_ESTALE);
        self.unload(old)?;
        new
    }
}
