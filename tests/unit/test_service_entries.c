/* service.c without plugins: argument checks of the four entries from the
 * embedder's ctx, size negotiation of uvp_service_info and of the host
 * option service_grace_ms, and its default. The behaviour with providers
 * and importers is in tests/integration/test_service.c.
 */
#include <string.h>

#include "uvp-internal.h"
#include "uvp_test.h"

static void revoked(uvp_ctx *ctx, uvp_id ref, int reason, void *ud) {
  (void)ctx;
  (void)ref;
  (void)reason;
  (void)ud;
}

static int add(void *instance, void *args) {
  (void)instance;
  (void)args;
  return 0;
}

/* V1, V2, V3 from the embedder's ctx: refused before anything is made. */
START_TEST(embedder_arguments) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  static const uvp_service_fn fns[] = {add};
  uvp_service_export d = {
      .size = sizeof d, .major = 1, .name = "emb.svc", .fns = fns, .count = 1};
  uvp_id id = 7;
  /* V1: the embedder's ctx does not export */
  ck_assert_int_eq(fx.api->service_export(fx.ctx, &d, &id), UVP_EINVAL);
  ck_assert_int_eq(fx.api->service_export(fx.ctx, NULL, &id), UVP_EINVAL);
  ck_assert_int_eq(fx.api->service_export(fx.ctx, &d, NULL), UVP_EINVAL);
  ck_assert_int_eq(fx.api->service_export(NULL, &d, &id), UVP_EINVAL);
  uvp_service_import req = {
      .size = sizeof req, .major = 1, .name = "emb.svc", .revoke = revoked};
  /* V2 */
  ck_assert_int_eq(fx.api->service_import(fx.ctx, &req, &id), UVP_ENOENT);
  ck_assert_int_eq(fx.api->service_import(fx.ctx, NULL, &id), UVP_EINVAL);
  ck_assert_int_eq(fx.api->service_import(fx.ctx, &req, NULL), UVP_EINVAL);
  req.size = sizeof req - 1;
  ck_assert_int_eq(fx.api->service_import(fx.ctx, &req, &id), UVP_EINVAL);
  req.size = sizeof req;
  req.name = NULL;
  ck_assert_int_eq(fx.api->service_import(fx.ctx, &req, &id), UVP_EINVAL);
  ck_assert_uint_eq(id, 7); /* L6: never written on failure */
  /* V3: no reference is stale, never a crash */
  ck_assert_int_eq(fx.api->service_call(fx.ctx, 0, 0, NULL), UVP_ESTALE);
  ck_assert_int_eq(fx.api->service_call(fx.ctx, UINT64_MAX, 0, NULL),
                   UVP_ESTALE);
  ck_assert_int_eq(fx.api->service_call(NULL, 1, 0, NULL), UVP_EINVAL);
  /* A live id of another kind is no reference. */
  uvt_rec rec;
  uvt_rec_init(&rec);
  uvp_id sub = uvt_rec_subscribe(&fx, &rec, "t");
  ck_assert_int_eq(fx.api->service_call(fx.ctx, sub, 0, NULL), UVP_ESTALE);
  uvp_service_info info = {.size = sizeof info};
  ck_assert_int_eq(fx.api->service_info(fx.ctx, sub, &info), UVP_ESTALE);
  ck_assert_int_eq(fx.api->service_info(fx.ctx, sub, NULL), UVP_EINVAL);
  uvt_fx_close(&fx);
}
END_TEST

/* F3 for the 1.3 structs: a size ending inside a field is refused. */
START_TEST(size_negotiation) {
  ck_assert(uvp__service_info_size_ok(sizeof(uvp_service_info)));
  ck_assert(uvp__service_info_size_ok(offsetof(uvp_service_info, count)));
  ck_assert(!uvp__service_info_size_ok(3));
  ck_assert(
      !uvp__service_info_size_ok(offsetof(uvp_service_info, provider) + 4));
  /* host options of 0.3 before service_grace_ms are still valid */
  ck_assert(
      uvp__host_options_size_ok(offsetof(uvp_host_options, service_grace_ms)));
  ck_assert(uvp__host_options_size_ok(sizeof(uvp_host_options)));
}
END_TEST

/* V6: service_grace_ms 0 takes the default, 5000 ms. */
START_TEST(grace_default) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  ck_assert_uint_eq(fx.ctx->host->opts.service_grace_ms, 5000);
  uvt_fx_close(&fx);
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.service_grace_ms = 20;
  uvt_fx_init(&fx, &o);
  ck_assert_uint_eq(fx.ctx->host->opts.service_grace_ms, 20);
  uvt_fx_close(&fx);
}
END_TEST

static Suite *service_suite(void) {
  Suite *s = suite_create("service");
  TCase *tc = uvt_tcase(s, "entries");
  tcase_add_test(tc, embedder_arguments);
  tcase_add_test(tc, size_negotiation);
  tcase_add_test(tc, grace_default);
  return s;
}

int main(void) { return uvt_main(service_suite()); }
