//! The `kv` plugin: exports the `kv` 1.0 service of `kv-service` (a small
//! in-memory key-value store; see that crate and docs/services.md).
//!
//! Config: `max_entries=N` (default 1024). Counters (on a host that keeps
//! them, `api->counter`): `hits`, `misses`,
//! `puts`.

uvplug::export_plugin!(
    kv_service::Store,
    name = "kv",
    version = env!("CARGO_PKG_VERSION"),
    unload_safe = true
);
