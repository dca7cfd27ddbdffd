/* generated — do not edit: run rust-plugins/gen-services.sh (cbindgen
 * from rust-plugins/examples/kv-service, the Rust declaration of the
 * service). The "kv" service, 1.0: docs/services.md. */
/* clang-format off */

#ifndef UVPLUG_SERVICES_KV_H
#define UVPLUG_SERVICES_KV_H

#include <stddef.h>
#include <stdint.h>
#include <uvplug/plugin.h>

/**
 * Major version of the `kv` service.
 */
#define KV_MAJOR 1

/**
 * Minor version of the `kv` service (functions are only ever appended).
 */
#define KV_MINOR 0

/**
 * Longest key, in bytes.
 */
#define KV_KEY_MAX 256

/**
 * Longest value, in bytes.
 */
#define KV_VALUE_MAX 65536

/**
 * Index of `get` in the `kv` table.
 */
#define KV_GET 0

/**
 * Index of `put` in the `kv` table.
 */
#define KV_PUT 1

/**
 * Index of `delete` in the `kv` table.
 */
#define KV_DELETE 2

/**
 * Index of `stats` in the `kv` table.
 */
#define KV_STATS 3

/**
 * Arguments of `kv.get` (inputs and outputs).
 */
typedef struct KvGetArgs {
  /**
   * The key: `key_len` bytes, the caller's, read during the call.
   */
  const uint8_t *key;
  /**
   * Bytes of `key`, 1..=KV_KEY_MAX.
   */
  size_t key_len;
  /**
   * Where the value goes: the caller's, written during the call.
   */
  uint8_t *buf;
  /**
   * Bytes `buf` can hold.
   */
  size_t buf_cap;
  /**
   * Out: the value's size, when the key exists.
   */
  size_t val_len;
} KvGetArgs;

/**
 * Arguments of `kv.put` (inputs and outputs).
 */
typedef struct KvPutArgs {
  /**
   * The key, the caller's; copied.
   */
  const uint8_t *key;
  /**
   * Bytes of `key`, 1..=KV_KEY_MAX.
   */
  size_t key_len;
  /**
   * The value, the caller's; copied. May be NULL when `val_len` is 0.
   */
  const uint8_t *val;
  /**
   * Bytes of `val`, 0..=KV_VALUE_MAX.
   */
  size_t val_len;
  /**
   * Out: 1 when an old value was replaced, else 0.
   */
  uint32_t replaced;
} KvPutArgs;

/**
 * Arguments of `kv.delete` (inputs and outputs).
 */
typedef struct KvDeleteArgs {
  /**
   * The key, the caller's, read during the call.
   */
  const uint8_t *key;
  /**
   * Bytes of `key`, 1..=KV_KEY_MAX.
   */
  size_t key_len;
} KvDeleteArgs;

/**
 * Arguments of `kv.stats` (inputs and outputs).
 */
typedef struct KvStatsArgs {
  /**
   * Out: keys stored.
   */
  uint64_t entries;
  /**
   * Out: bytes of keys and values stored.
   */
  uint64_t bytes;
  /**
   * Out: the most keys the store takes (its config).
   */
  uint64_t max_entries;
} KvStatsArgs;

#endif /* UVPLUG_SERVICES_KV_H */

/** The service's name, as the kv plugin exports it. */
#define KV_NAME "kv"

/*
 * Typed wrappers: the only call path a C importer needs. Each goes through
 * api->service_call(ctx, ref, KV_..., &args), so the host's check of the
 * reference (V3: live, not revoked, index in range, provider not busy)
 * always runs. `ctx` and `api` are a plugin's (on_init) or the embedder's
 * (uvp_host_ctx). Every pointer argument is the caller's and is only
 * borrowed for the call (docs/services.md, ownership table).
 */

/**
 * Calls function `fn` of the kv service behind `ref` with `args`.
 *
 * @return the function's status, or UVP_EINVAL from a host older than
 *         ABI 1.3, or service_call's own refusals (UVP_ESTALE, UVP_EBUSY).
 *
 * THREAD:    loop thread only (T2).
 * OWNERSHIP: args stays the caller's.
 * LIFETIME:  the call is synchronous.
 * SINCE:     kv 1.0 (ABI 1.3)
 */
static inline int kv_call(const uvp_api *api, uvp_ctx *ctx, uvp_id ref,
                          uint32_t fn, void *args) {
  if (api == NULL || !UVP_HAS_FIELD(api, uvp_api, service_call) ||
      api->service_call == NULL)
    return UVP_EINVAL;
  return api->service_call(ctx, ref, fn, args);
}

/**
 * Imports "kv" (major KV_MAJOR, minor at least `min_minor`): *out_ref then
 * reaches the provider through the wrappers below.
 *
 * @return 0, UVP_ENOENT (no kv exported), UVP_ESVCMAJOR, UVP_ESVCMINOR,
 *         UVP_EINVAL (also from a host older than ABI 1.3), ...
 *
 * THREAD:    loop thread only (T2).
 * OWNERSHIP: user_data is given back to destroy once (L1).
 * LIFETIME:  until api->cancel(ctx, *out_ref); `revoke` runs first when
 *            the provider goes (V5), after which calls are UVP_ESTALE.
 * SINCE:     kv 1.0 (ABI 1.3)
 */
static inline int kv_import(const uvp_api *api, uvp_ctx *ctx,
                            uint16_t min_minor, uvp_service_revoke_cb revoke,
                            void *user_data, uvp_destroy_fn destroy,
                            uvp_id *out_ref) {
  uvp_service_import req = {sizeof req, KV_MAJOR, min_minor, KV_NAME,
                            revoke,     user_data, destroy};
  if (api == NULL || !UVP_HAS_FIELD(api, uvp_api, service_import) ||
      api->service_import == NULL)
    return UVP_EINVAL;
  return api->service_import(ctx, &req, out_ref);
}

/**
 * Copies the value of `key` into `buf` (`cap` bytes) and sets *out_len to
 * its size; UVP_EMSGSIZE when it does not fit (*out_len still set, buf
 * untouched; buf NULL and cap 0 ask for the size), UVP_ENOENT when absent.
 *
 * THREAD:    loop thread only (T2).
 * OWNERSHIP: key and buf stay the caller's; buf is written during the call.
 * LIFETIME:  synchronous.
 * SINCE:     kv 1.0 (ABI 1.3)
 */
static inline int kv_get(const uvp_api *api, uvp_ctx *ctx, uvp_id ref,
                         const void *key, size_t key_len, void *buf,
                         size_t cap, size_t *out_len) {
  KvGetArgs a = {(const uint8_t *)key, key_len, (uint8_t *)buf, cap, 0};
  int rc = kv_call(api, ctx, ref, KV_GET, &a);
  if (out_len != NULL)
    *out_len = a.val_len;
  return rc;
}

/**
 * Stores a copy of `val` under a copy of `key`; *out_replaced (may be
 * NULL) is 1 when an old value was replaced. UVP_EMSGSIZE over the
 * limits, UVP_ENOSPC when the store is full.
 *
 * THREAD:    loop thread only (T2).
 * OWNERSHIP: key and val stay the caller's (the provider copies them).
 * LIFETIME:  synchronous.
 * SINCE:     kv 1.0 (ABI 1.3)
 */
static inline int kv_put(const uvp_api *api, uvp_ctx *ctx, uvp_id ref,
                         const void *key, size_t key_len, const void *val,
                         size_t val_len, int *out_replaced) {
  KvPutArgs a = {(const uint8_t *)key, key_len, (const uint8_t *)val,
                 val_len, 0};
  int rc = kv_call(api, ctx, ref, KV_PUT, &a);
  if (rc == 0 && out_replaced != NULL)
    *out_replaced = (int)a.replaced;
  return rc;
}

/**
 * Removes `key`; UVP_ENOENT when absent.
 *
 * THREAD:    loop thread only (T2).
 * OWNERSHIP: key stays the caller's.
 * LIFETIME:  synchronous.
 * SINCE:     kv 1.0 (ABI 1.3)
 */
static inline int kv_delete(const uvp_api *api, uvp_ctx *ctx, uvp_id ref,
                            const void *key, size_t key_len) {
  KvDeleteArgs a = {(const uint8_t *)key, key_len};
  return kv_call(api, ctx, ref, KV_DELETE, &a);
}

/**
 * Fills *out with the store's entries, bytes and max_entries.
 *
 * THREAD:    loop thread only (T2).
 * OWNERSHIP: out stays the caller's.
 * LIFETIME:  synchronous.
 * SINCE:     kv 1.0 (ABI 1.3)
 */
static inline int kv_stats(const uvp_api *api, uvp_ctx *ctx, uvp_id ref,
                           KvStatsArgs *out) {
  return kv_call(api, ctx, ref, KV_STATS, out);
}
/* clang-format on */
