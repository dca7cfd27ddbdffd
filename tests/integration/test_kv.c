/* The "kv" example service on the real host (issue 13): the Rust plugin
 * examples/kv exports it; three consumers call it, each through the typed
 * wrappers that end in api->service_call (V3):
 *   1. the embedder's own C code, through its uvp_host_ctx (this file);
 *   2. a C plugin, tests/plugins/kv_client.c, compiled against the
 *      cbindgen header include/uvplug/services/kv.h;
 *   3. a Rust plugin, examples/kv-client, through the SDK's typed client.
 * Then the lifetime rules with the embedder as the importer: revoke on
 * unload and on reload, stale calls after it, re-import (V5-V7).
 *
 * Skips (77) on a host whose table has no service entries yet.
 */
#include <stdio.h>
#include <string.h>

#include "uvp_test.h"
#include "uvplug/services/kv.h"

#define KV_SO UVP_RUST_PLUGIN_DIR "/libkv.so"
#define C_CLIENT UVP_TEST_PLUGIN_DIR "/kv_client.so"
#define RS_CLIENT UVP_RUST_PLUGIN_DIR "/libkv_client.so"

/* The embedder as an importer: its reference and what its revoke saw. */
typedef struct embedder {
  uvt_fx fx;
  uvp_id kv;
  int revokes;
  int reason;
  int destroys;
  bool drop_in_revoke; /* cancel inside the revoke (else keep it) */
  bool reimport;       /* import again from the revoke (V7) */
} embedder;

static void on_revoke(uvp_ctx *ctx, uvp_id ref, int reason, void *ud);

/* The import's destroy (L1): counted on the embedder. */
static void count_destroy(void *ud) { ((embedder *)ud)->destroys++; }

static int import(embedder *e) {
  return kv_import(e->fx.api, e->fx.ctx, 0, on_revoke, e, count_destroy,
                   &e->kv);
}

static void on_revoke(uvp_ctx *ctx, uvp_id ref, int reason, void *ud) {
  embedder *e = ud;
  ck_assert_ptr_eq(ctx, e->fx.ctx);
  ck_assert_uint_eq(ref, e->kv);
  e->revokes++;
  e->reason = reason;
  if (!e->drop_in_revoke) return;
  ck_assert_int_eq(e->fx.api->cancel(ctx, ref), 0);
  e->kv = 0;
  if (e->reimport) ck_assert_int_eq(import(e), 0);
}

static void setup_embedder(embedder *e) {
  memset(e, 0, sizeof *e);
  uvt_fx_init(&e->fx, NULL);
  ck_assert_int_eq(uvp_host_load(e->fx.host, KV_SO, "kv", "", NULL), 0);
}

/* V2, V3 from the embedder: typed results of every kv function. */
START_TEST(embedder_calls_kv) {
  embedder e;
  setup_embedder(&e);
  uvp_api const *api = e.fx.api;
  uvp_ctx *ctx = e.fx.ctx;
  ck_assert_int_eq(import(&e), 0);
  int replaced = -1;
  ck_assert_int_eq(kv_put(api, ctx, e.kv, "k1", 2, "v-one", 5, &replaced), 0);
  ck_assert_int_eq(replaced, 0);
  ck_assert_int_eq(kv_put(api, ctx, e.kv, "k1", 2, "v-1", 3, &replaced), 0);
  ck_assert_int_eq(replaced, 1);
  char buf[8];
  size_t len = 0;
  ck_assert_int_eq(kv_get(api, ctx, e.kv, "k1", 2, buf, sizeof buf, &len), 0);
  ck_assert_uint_eq(len, 3);
  ck_assert_mem_eq(buf, "v-1", 3);
  ck_assert_int_eq(kv_get(api, ctx, e.kv, "k1", 2, NULL, 0, &len),
                   UVP_EMSGSIZE);
  ck_assert_uint_eq(len, 3);
  ck_assert_int_eq(kv_get(api, ctx, e.kv, "k2", 2, buf, sizeof buf, &len),
                   UVP_ENOENT);
  ck_assert_int_eq(kv_put(api, ctx, e.kv, "", 0, "x", 1, NULL), UVP_EINVAL);
  KvStatsArgs st;
  ck_assert_int_eq(kv_stats(api, ctx, e.kv, &st), 0);
  ck_assert_uint_eq(st.entries, 1);
  ck_assert_uint_eq(st.bytes, 5);
  ck_assert_uint_eq(st.max_entries, 1024);
  ck_assert_int_eq(kv_delete(api, ctx, e.kv, "k1", 2), 0);
  ck_assert_int_eq(kv_get(api, ctx, e.kv, "k1", 2, buf, sizeof buf, &len),
                   UVP_ENOENT);
  ck_assert_int_eq(kv_delete(api, ctx, e.kv, "k1", 2), UVP_ENOENT);
  /* O4: the store's counters, read by the embedder in creation order:
   * hits (the two gets that found k1), misses (k2, then k1 deleted), puts
   * (two; the refused empty key is not one). */
  const char *names[3];
  uint64_t values[3];
  for (uint32_t i = 0; i < 3; i++)
    ck_assert_int_eq(
        uvp_host_plugin_counter(e.fx.host, "kv", i, &names[i], &values[i]), 0);
  ck_assert_int_eq(
      uvp_host_plugin_counter(e.fx.host, "kv", 3, &names[0], &values[0]),
      UVP_ENOENT);
  ck_assert_str_eq(names[0], "hits");
  ck_assert_uint_eq(values[0], 2);
  ck_assert_str_eq(names[1], "misses");
  ck_assert_uint_eq(values[1], 2);
  ck_assert_str_eq(names[2], "puts");
  ck_assert_uint_eq(values[2], 2);
  /* V3: an index past the table never reaches the provider. */
  ck_assert_int_eq(kv_call(api, ctx, e.kv, 4, &st), UVP_EINVAL);
  uvp_service_info info = {.size = sizeof info};
  ck_assert_int_eq(api->service_info(ctx, e.kv, &info), 0);
  ck_assert_uint_eq(info.major, 1);
  ck_assert_uint_eq(info.minor, 0);
  ck_assert_uint_eq(info.count, 4);
  ck_assert_int_eq(info.revoked, 0);
  ck_assert_str_eq(info.provider, "kv");
  ck_assert_int_eq(api->cancel(ctx, e.kv), 0);
  ck_assert_int_eq(e.destroys, 1);
  ck_assert_int_eq(e.revokes, 0); /* dropped before any revoke: none (V5) */
  ck_assert_int_eq(kv_delete(api, ctx, e.kv, "k1", 2), UVP_ESTALE);
  uvt_fx_close(&e.fx);
}
END_TEST

/* Runs one plugin consumer: publishes on <prefix>.run, returns what it
 * published on <prefix>.result. */
static void run_client(embedder *e, uvt_rec *rec, const char *prefix) {
  char topic[64];
  snprintf(topic, sizeof topic, "%s.result", prefix);
  uvt_rec_subscribe(&e->fx, rec, topic);
  snprintf(topic, sizeof topic, "%s.run", prefix);
  ck_assert_int_eq(
      uvp_host_publish(e->fx.host, uvt_topic(&e->fx, topic), "", 0), 0);
  ck_assert(uvt_run_until_int(&e->fx, &rec->n, 1));
}

/* V2, V3 from a C plugin built against the cbindgen header. */
START_TEST(c_plugin_calls_kv) {
  embedder e;
  setup_embedder(&e);
  ck_assert_int_eq(uvp_host_load(e.fx.host, C_CLIENT, "kv-c", "", NULL), 0);
  uvt_rec rec;
  uvt_rec_init(&rec);
  run_client(&e, &rec, "kv.client.c");
  char want[1024];
  snprintf(want, sizeof want,
           "put beta: 0 replaced=0\n"
           "put beta: 0 replaced=1\n"
           "get beta: 0 second\n"
           "get beta into 2 bytes: %d need 6\n"
           "put huge: %d\n"
           "stats: 0 entries=1 bytes=10\n"
           "delete beta: 0\n"
           "get beta: %d\n"
           "delete beta: %d",
           UVP_EMSGSIZE, UVP_EMSGSIZE, UVP_ENOENT, UVP_ENOENT);
  uvt_rec_is(&rec, 0, want);
  uvt_fx_close(&e.fx);
}
END_TEST

/* V2, V3 from a Rust plugin through the SDK's typed client (the text is
 * the one its unit test expects from the fake host). */
START_TEST(rust_plugin_calls_kv) {
  embedder e;
  setup_embedder(&e);
  ck_assert_int_eq(uvp_host_load(e.fx.host, RS_CLIENT, "kv-rs", "", NULL), 0);
  uvt_rec rec;
  uvt_rec_init(&rec);
  run_client(&e, &rec, "kv.client.rs");
  uvt_rec_is(&rec, 0,
             "put alpha: Ok(false)\n"
             "put alpha: Ok(true)\n"
             "get alpha: first\n"
             "get alpha into 2 bytes: MsgSize need 5\n"
             "put huge: MsgSize\n"
             "usage: Ok((1, 10, 1024))\n"
             "delete alpha: ok\n"
             "get alpha: NoEnt\n"
             "delete alpha: NoEnt");
  uvt_fx_close(&e.fx);
}
END_TEST

static bool unloaded(void *arg) {
  embedder *e = arg;
  uvp_plugin_stats st;
  return uvt_stats(&e->fx, "kv", &st) == UVP_ENOENT;
}

/* V5, V6: unloading kv revokes the embedder's reference (UVP_ECLOSED);
 * calls through it are stale; the unload completes only after the
 * reference is dropped. */
START_TEST(unload_revokes_and_waits) {
  embedder e;
  setup_embedder(&e);
  ck_assert_int_eq(import(&e), 0);
  ck_assert_int_eq(kv_put(e.fx.api, e.fx.ctx, e.kv, "k", 1, "v", 1, NULL), 0);
  ck_assert_int_eq(uvp_host_unload(e.fx.host, "kv"), 0);
  uvt_run_turns(&e.fx, 20);
  ck_assert_int_eq(e.revokes, 1);
  ck_assert_int_eq(e.reason, UVP_ECLOSED);
  size_t len = 0;
  ck_assert_int_eq(kv_get(e.fx.api, e.fx.ctx, e.kv, "k", 1, NULL, 0, &len),
                   UVP_ESTALE);
  uvp_service_info info = {.size = sizeof info};
  ck_assert_int_eq(e.fx.api->service_info(e.fx.ctx, e.kv, &info), 0);
  ck_assert_int_eq(info.revoked, 1);
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&e.fx, "kv", &st), 0);
  ck_assert_int_eq(st.state, UVP_PLUGIN_DRAINING); /* the ref is held (V6) */
  ck_assert_int_eq(e.fx.api->cancel(e.fx.ctx, e.kv), 0);
  ck_assert(uvt_run_until(&e.fx, unloaded, &e, 5000));
  uvt_fx_close(&e.fx);
}
END_TEST

/* V7: a reload revokes with UVP_ESTALE once the new instance runs; the
 * revoke imports the new one at once, which starts empty. */
START_TEST(reload_reimports) {
  embedder e;
  setup_embedder(&e);
  e.drop_in_revoke = true;
  e.reimport = true;
  ck_assert_int_eq(import(&e), 0);
  uvp_id first = e.kv;
  ck_assert_int_eq(kv_put(e.fx.api, e.fx.ctx, e.kv, "k", 1, "v", 1, NULL), 0);
  ck_assert_int_eq(
      uvp_host_reload(e.fx.host, "kv", KV_SO, "max_entries=9", NULL), 0);
  uvt_run_turns(&e.fx, 20);
  ck_assert_int_eq(e.revokes, 1);
  ck_assert_int_eq(e.reason, UVP_ESTALE);
  ck_assert_uint_ne(e.kv, 0);
  ck_assert_uint_ne(e.kv, first);
  KvStatsArgs st;
  ck_assert_int_eq(kv_stats(e.fx.api, e.fx.ctx, e.kv, &st), 0);
  ck_assert_uint_eq(st.entries, 0);
  ck_assert_uint_eq(st.max_entries, 9);
  /* Dropped before the close: the close's revoke would find none. */
  ck_assert_int_eq(e.fx.api->cancel(e.fx.ctx, e.kv), 0);
  ck_assert_int_eq(e.revokes, 1);
  uvt_fx_close(&e.fx);
  ck_assert_int_eq(e.destroys, 2);
}
END_TEST

/* Whether this host implements services at all (ABI 1.3 entries set).
 * Runs before Check's runner, so it uses no ck_assert. */
static bool host_has_services(void) {
  uv_loop_t loop;
  uvp_host *host = NULL;
  uvp_ctx *ctx = NULL;
  const uvp_api *api = NULL;
  bool ok = false;
  if (uv_loop_init(&loop) != 0) return false;
  if (uvp_host_new(&loop, NULL, &host) == 0) {
    ok = uvp_host_ctx(host, &ctx, &api) == 0 &&
         UVP_HAS_FIELD(api, uvp_api, service_call) &&
         api->service_export != NULL && api->service_call != NULL;
    uvp_host_close(host, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  uv_loop_close(&loop);
  return ok;
}

static Suite *kv_suite(void) {
  Suite *s = suite_create("kv");
  TCase *tc = uvt_tcase(s, "consumers");
  tcase_add_test(tc, embedder_calls_kv);
  tcase_add_test(tc, c_plugin_calls_kv);
  tcase_add_test(tc, rust_plugin_calls_kv);
  tc = uvt_tcase(s, "lifetime");
  tcase_add_test(tc, unload_revokes_and_waits);
  tcase_add_test(tc, reload_reimports);
  return s;
}

int main(void) {
  if (!host_has_services()) {
    fprintf(stderr, "kv: the host has no service entries; skipped\n");
    return 77;
  }
  return uvt_main(kv_suite());
}
