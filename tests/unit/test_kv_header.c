/* The cbindgen header of the kv service (include/uvplug/services/kv.h):
 * its argument structs have the layout the Rust declaration has (static
 * assertions here, the same numbers in kv-service's Rust test), and its
 * inline wrappers reach the provider only through api->service_call with
 * the right index and arguments (V3), refusing a host older than ABI 1.3.
 * The wrappers run here against a stand-in table; integration.kv calls
 * the real provider through them. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "uvp_test.h"
#include "uvplug/services/kv.h"

/* Every field is pointer-sized or (stats) 64-bit; the Rust side pins the
 * same offsets (kv-service, layout_matches_the_c_header). */
#define P sizeof(void *)
_Static_assert(sizeof(size_t) == P, "size_t is pointer-sized (usize)");
_Static_assert(sizeof(KvGetArgs) == 5 * P, "KvGetArgs size");
_Static_assert(offsetof(KvGetArgs, key) == 0, "KvGetArgs.key");
_Static_assert(offsetof(KvGetArgs, key_len) == 1 * P, "KvGetArgs.key_len");
_Static_assert(offsetof(KvGetArgs, buf) == 2 * P, "KvGetArgs.buf");
_Static_assert(offsetof(KvGetArgs, buf_cap) == 3 * P, "KvGetArgs.buf_cap");
_Static_assert(offsetof(KvGetArgs, val_len) == 4 * P, "KvGetArgs.val_len");
_Static_assert(sizeof(KvPutArgs) == 5 * P, "KvPutArgs size");
_Static_assert(offsetof(KvPutArgs, key) == 0, "KvPutArgs.key");
_Static_assert(offsetof(KvPutArgs, key_len) == 1 * P, "KvPutArgs.key_len");
_Static_assert(offsetof(KvPutArgs, val) == 2 * P, "KvPutArgs.val");
_Static_assert(offsetof(KvPutArgs, val_len) == 3 * P, "KvPutArgs.val_len");
_Static_assert(offsetof(KvPutArgs, replaced) == 4 * P, "KvPutArgs.replaced");
_Static_assert(sizeof(KvDeleteArgs) == 2 * P, "KvDeleteArgs size");
_Static_assert(offsetof(KvDeleteArgs, key) == 0, "KvDeleteArgs.key");
_Static_assert(offsetof(KvDeleteArgs, key_len) == P, "KvDeleteArgs.key_len");
_Static_assert(sizeof(KvStatsArgs) == 24, "KvStatsArgs size");
_Static_assert(offsetof(KvStatsArgs, entries) == 0, "KvStatsArgs.entries");
_Static_assert(offsetof(KvStatsArgs, bytes) == 8, "KvStatsArgs.bytes");
_Static_assert(offsetof(KvStatsArgs, max_entries) == 16,
               "KvStatsArgs.max_entries");
_Static_assert(KV_GET == 0 && KV_PUT == 1 && KV_DELETE == 2 && KV_STATS == 3,
               "kv 1.0 indices");
_Static_assert(KV_MAJOR == 1 && KV_MINOR == 0, "kv 1.0");

/* The stand-in host: records each call and answers like a tiny store. */
static struct {
  uvp_ctx *ctx;
  uvp_id ref;
  uint32_t fn;
  int calls;
  uvp_service_import req;
  char name[8];
} seen;

static int fake_call(uvp_ctx *ctx, uvp_id ref, uint32_t fn, void *args) {
  seen.ctx = ctx;
  seen.ref = ref;
  seen.fn = fn;
  seen.calls++;
  if (fn == KV_GET) {
    KvGetArgs *a = args;
    a->val_len = 5;
    if (a->buf_cap < 5) return UVP_EMSGSIZE;
    memcpy(a->buf, "hello", 5);
    return 0;
  }
  if (fn == KV_PUT) {
    KvPutArgs *a = args;
    a->replaced = a->val_len == 3 ? 1 : 0;
    return a->key_len == 0 ? UVP_EINVAL : 0;
  }
  if (fn == KV_DELETE)
    return ((KvDeleteArgs *)args)->key_len == 4 ? 0 : UVP_ENOENT;
  KvStatsArgs *s = args;
  s->entries = 7;
  s->bytes = 70;
  s->max_entries = 700;
  return 0;
}

static int fake_import(uvp_ctx *ctx, const uvp_service_import *req,
                       uvp_id *out) {
  seen.ctx = ctx;
  seen.req = *req;
  snprintf(seen.name, sizeof seen.name, "%s", req->name);
  *out = 42;
  return 0;
}

static uvp_api api;
static uvp_ctx *const ctx = (uvp_ctx *)&seen; /* only compared */

static void setup(void) {
  memset(&seen, 0, sizeof seen);
  memset(&api, 0, sizeof api);
  api.size = sizeof api;
  api.service_call = fake_call;
  api.service_import = fake_import;
}

static void revoke(uvp_ctx *c, uvp_id ref, int reason, void *ud) {
  (void)c, (void)ref, (void)reason, (void)ud;
}

/* V2: kv_import asks for KV_NAME, major KV_MAJOR, the caller's minor. */
START_TEST(import_fills_the_request) {
  uvp_id ref = 0;
  int ud = 0;
  ck_assert_int_eq(kv_import(&api, ctx, 0, revoke, &ud, NULL, &ref), 0);
  ck_assert_uint_eq(ref, 42);
  ck_assert_ptr_eq(seen.ctx, ctx);
  ck_assert_str_eq(seen.name, "kv");
  ck_assert_uint_eq(seen.req.size, sizeof(uvp_service_import));
  ck_assert_uint_eq(seen.req.major, KV_MAJOR);
  ck_assert_uint_eq(seen.req.min_minor, 0);
  ck_assert_ptr_eq(seen.req.revoke, revoke);
  ck_assert_ptr_eq(seen.req.user_data, &ud);
}
END_TEST

/* V3: every wrapper goes through service_call with its own index and
 * passes the provider's answers back. */
START_TEST(wrappers_call_through_the_host) {
  char buf[8] = {0};
  size_t len = 0;
  ck_assert_int_eq(kv_get(&api, ctx, 9, "k", 1, buf, 2, &len), UVP_EMSGSIZE);
  ck_assert_uint_eq(len, 5);
  ck_assert_int_eq(kv_get(&api, ctx, 9, "k", 1, buf, sizeof buf, &len), 0);
  ck_assert_uint_eq(seen.fn, KV_GET);
  ck_assert_uint_eq(seen.ref, 9);
  ck_assert_ptr_eq(seen.ctx, ctx);
  ck_assert_mem_eq(buf, "hello", 5);
  int replaced = -1;
  ck_assert_int_eq(kv_put(&api, ctx, 9, "k", 1, "abc", 3, &replaced), 0);
  ck_assert_uint_eq(seen.fn, KV_PUT);
  ck_assert_int_eq(replaced, 1);
  ck_assert_int_eq(kv_put(&api, ctx, 9, "", 0, "ab", 2, &replaced), UVP_EINVAL);
  ck_assert_int_eq(replaced, 1); /* untouched on failure */
  ck_assert_int_eq(kv_delete(&api, ctx, 9, "gone", 4), 0);
  ck_assert_int_eq(kv_delete(&api, ctx, 9, "nope", 3), UVP_ENOENT);
  ck_assert_uint_eq(seen.fn, KV_DELETE);
  KvStatsArgs st;
  ck_assert_int_eq(kv_stats(&api, ctx, 9, &st), 0);
  ck_assert_uint_eq(seen.fn, KV_STATS);
  ck_assert_uint_eq(st.entries, 7);
  ck_assert_uint_eq(st.max_entries, 700);
  ck_assert_int_eq(seen.calls, 7);
}
END_TEST

/* A host of ABI 1.2 (a table that ends before service_export) or one
 * that leaves the entries NULL: UVP_EINVAL, and nothing is called. */
START_TEST(older_host_is_refused) {
  uvp_id ref = 0;
  api.size = (uint32_t)offsetof(uvp_api, service_export);
  ck_assert_int_eq(kv_import(&api, ctx, 0, revoke, NULL, NULL, &ref),
                   UVP_EINVAL);
  ck_assert_int_eq(kv_delete(&api, ctx, 1, "k", 1), UVP_EINVAL);
  api.size = sizeof api;
  api.service_call = NULL;
  ck_assert_int_eq(kv_delete(&api, ctx, 1, "k", 1), UVP_EINVAL);
  ck_assert_int_eq(seen.calls, 0);
  ck_assert_uint_eq(ref, 0);
}
END_TEST

static Suite *kv_header_suite(void) {
  Suite *s = suite_create("kv_header");
  TCase *tc = uvt_tcase(s, "wrappers");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_test(tc, import_fills_the_request);
  tcase_add_test(tc, wrappers_call_through_the_host);
  tcase_add_test(tc, older_host_is_refused);
  return s;
}

int main(void) { return uvt_main(kv_header_suite()); }
