/* Services (V1-V7): export, import and versioning, typed calls, re-entry
 * refused, a provider's panic, revoke on unload, quarantine and reload,
 * the grace warning, importer unload, the embedder's ctx as importer, and
 * the wrong thread.
 *
 * Plugins: svc_provider.so (exports test.calc, counts the calls that
 * reach it) and svc_importer.so (imports test.calc, exports test.bounce).
 *
 * UVP_TEST_LABELS: tsan
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "uvp_test.h"

#define PROV UVP_TEST_PLUGIN_DIR "/svc_provider.so"
#define IMP UVP_TEST_PLUGIN_DIR "/svc_importer.so"

typedef struct add_args {
  uint64_t a, b, out;
} add_args;
typedef struct status_args {
  int32_t status;
} status_args;
typedef struct bounce_args {
  int32_t rc;
} bounce_args;

enum { FN_ADD = 0, FN_STATUS, FN_PANIC, FN_BOUNCE, FN_MUL };

static uint64_t prov_u64(const char *sym) { return uvt_sym_u64(PROV, sym); }
static const char *prov_trace(void) {
  return uvt_sym_str(PROV, "uvp_svcp_trace");
}
static const char *imp_trace(void) {
  return uvt_sym_str(IMP, "uvp_svci_trace");
}

/* What the embedder's own reference saw. */
typedef struct emb_ref {
  uvp_id ref;
  int revokes, reason, destroys;
  uint64_t stopped_at_revoke; /* provider's on_stop calls when told */
  int call_at_revoke;         /* a call through ref inside the callback */
  const uvp_api *api;
} emb_ref;

static void emb_revoke(uvp_ctx *ctx, uvp_id ref, int reason, void *ud) {
  emb_ref *r = ud;
  r->revokes++;
  r->reason = reason;
  r->stopped_at_revoke = prov_u64("uvp_svcp_stopped");
  add_args a = {1, 1, 0};
  r->call_at_revoke = r->api->service_call(ctx, ref, FN_ADD, &a);
}

static void emb_destroy(void *ud) { ((emb_ref *)ud)->destroys++; }

static int emb_import(uvt_fx *fx, const char *name, uint16_t major,
                      uint16_t min_minor, emb_ref *r) {
  r->api = fx->api;
  uvp_service_import req = {
      .size = sizeof req,
      .major = major,
      .min_minor = min_minor,
      .name = name,
      .revoke = emb_revoke,
      .user_data = r,
      .destroy = emb_destroy,
  };
  return fx->api->service_import(fx->ctx, &req, &r->ref);
}

static void setup(uvt_fx *fx, const uvp_host_options *opts) {
  uvt_fx_init(fx, opts);
  /* Without fork (valgrind) the objects stay mapped from the last test. */
  if (uvt_is_mapped(PROV)) uvt_sym_u64(PROV, "uvp_svcp_reset");
  if (uvt_is_mapped(IMP)) uvt_sym_u64(IMP, "uvp_svci_reset");
}

/* Publishes cmd on topic and runs until rec has one more line. */
static void cmd(uvt_fx *fx, uvt_rec *rec, const char *topic, const char *c) {
  int want = rec->n + 1;
  ck_assert_int_eq(
      uvp_host_publish(fx->host, uvt_topic(fx, topic), c, strlen(c)), 0);
  ck_assert(uvt_run_until_int(fx, &rec->n, want));
}

typedef struct gone_arg {
  uvt_fx *fx;
  const char *name;
} gone_arg;

static bool plugin_gone(void *arg) {
  gone_arg *g = arg;
  uvp_plugin_stats st = {.size = sizeof st};
  return uvt_stats(g->fx, g->name, &st) == UVP_ENOENT;
}

static void run_until_gone(uvt_fx *fx, const char *name) {
  gone_arg g = {fx, name};
  ck_assert_msg(uvt_run_until(fx, plugin_gone, &g, 5000),
                "%s never finished unloading", name);
}

static int state_of(uvt_fx *fx, const char *name) {
  uvp_plugin_stats st = {.size = sizeof st};
  ck_assert_int_eq(uvt_stats(fx, name, &st), 0);
  return st.state;
}

/* V1, V2: versions, duplicates, bad descriptors, unknown names, self. */
START_TEST(export_import_versions) {
  uvt_fx fx;
  setup(&fx, NULL);
  ck_assert_int_eq(uvp_host_load(fx.host, PROV, "prov", "minor=1", NULL), 0);
  ck_assert_uint_eq(prov_u64("uvp_svcp_export_rc"), 0);
  emb_ref r[4] = {{0}};
  ck_assert_int_eq(emb_import(&fx, "test.calc", 1, 0, &r[0]), 0);
  ck_assert_int_eq(emb_import(&fx, "test.calc", 1, 1, &r[1]), 0); /* newer */
  ck_assert_int_eq(emb_import(&fx, "test.calc", 1, 2, &r[2]), UVP_ESVCMINOR);
  ck_assert_int_eq(emb_import(&fx, "test.calc", 2, 0, &r[2]), UVP_ESVCMAJOR);
  ck_assert_int_eq(emb_import(&fx, "test.none", 1, 0, &r[2]), UVP_ENOENT);
  ck_assert_int_eq(emb_import(&fx, "", 1, 0, &r[2]), UVP_EINVAL);
  ck_assert_int_eq(emb_import(&fx, "test.calc/x", 1, 0, &r[2]), UVP_EINVAL);
  uvp_service_import no_revoke = {
      .size = sizeof no_revoke, .major = 1, .name = "test.calc"};
  uvp_id id = 0;
  ck_assert_int_eq(fx.api->service_import(fx.ctx, &no_revoke, &id), UVP_EINVAL);
  ck_assert_uint_eq(id, 0); /* L6: out only on success */
  /* An older minor: a second provider exports test.old 1.0. */
  ck_assert_int_eq(
      uvp_host_load(fx.host, PROV, "old", "minor=0 name=test.old", NULL), 0);
  ck_assert_int_eq(emb_import(&fx, "test.old", 1, 1, &r[2]), UVP_ESVCMINOR);
  ck_assert_int_eq(emb_import(&fx, "test.old", 1, 0, &r[2]), 0);
  /* V1: a third instance exporting test.calc again is refused. */
  ck_assert_int_eq(uvp_host_load(fx.host, PROV, "dup", "minor=1", NULL), 0);
  ck_assert_uint_eq(prov_u64("uvp_svcp_export_rc"), (uint64_t)UVP_ESVCDUP);
  /* V1: the embedder does not export. */
  static const uvp_service_fn none[1] = {0};
  uvp_service_export d = {
      .size = sizeof d, .major = 1, .name = "emb", .fns = none, .count = 1};
  ck_assert_int_eq(fx.api->service_export(fx.ctx, &d, &id), UVP_EINVAL);
  /* V1 bad descriptors and V2 self-import, from the provider itself. */
  uvt_rec rec;
  uvt_rec_init(&rec);
  uvt_rec_subscribe(&fx, &rec, "svcp.out");
  cmd(&fx, &rec, "svcp.cmd", "baddesc"); /* three instances answer */
  ck_assert(uvt_run_until_int(&fx, &rec.n, 3));
  char want[128];
  snprintf(want, sizeof want, "baddesc=%d,%d,%d,%d,%d,%d,%d", UVP_EINVAL,
           UVP_EINVAL, UVP_EINVAL, UVP_EINVAL, UVP_EINVAL, UVP_EINVAL,
           UVP_EINVAL);
  for (int i = 0; i < 3; i++) uvt_rec_is(&rec, i, want);
  cmd(&fx, &rec, "svcp.cmd", "selfimport");
  ck_assert(uvt_run_until_int(&fx, &rec.n, 6));
  /* prov and old import their own: EINVAL; dup's own export was refused,
   * so it imports prov's test.calc (a plain import). */
  snprintf(want, sizeof want, "selfimport=%d", UVP_EINVAL);
  uvt_rec_is(&rec, 3, want);
  uvt_rec_is(&rec, 4, want);
  uvt_rec_is(&rec, 5, "selfimport=0");
  /* V5: dup's unload drops its own reference to prov's export (the one
   * selfimport made) and revokes nobody else's. */
  ck_assert_int_eq(uvp_host_unload(fx.host, "dup"), 0);
  run_until_gone(&fx, "dup");
  ck_assert_int_eq(r[0].revokes, 0);
  uvt_fx_close(&fx);
  ck_assert_int_eq(r[0].revokes, 1); /* at close, once, then dropped */
  ck_assert_int_eq(r[0].destroys, 1);
  ck_assert_int_eq(r[1].destroys, 1);
}
END_TEST

/* V3: typed results, status passthrough, fn range, foreign and garbage
 * references; a C plugin calling as well as the embedder. */
START_TEST(calls_typed) {
  uvt_fx fx;
  setup(&fx, NULL);
  ck_assert_int_eq(uvp_host_load(fx.host, PROV, "prov", "minor=1", NULL), 0);
  ck_assert_int_eq(uvp_host_load(fx.host, IMP, "imp", "", NULL), 0);
  ck_assert_uint_eq(uvt_sym_u64(IMP, "uvp_svci_import_rc"), 0);
  emb_ref r = {0};
  ck_assert_int_eq(emb_import(&fx, "test.calc", 1, 0, &r), 0);
  add_args a = {2, 3, 0};
  ck_assert_int_eq(fx.api->service_call(fx.ctx, r.ref, FN_ADD, &a), 0);
  ck_assert_uint_eq(a.out, 5);
  a = (add_args){6, 7, 0};
  ck_assert_int_eq(fx.api->service_call(fx.ctx, r.ref, FN_MUL, &a), 0);
  ck_assert_uint_eq(a.out, 42);
  status_args st = {-1234};
  ck_assert_int_eq(fx.api->service_call(fx.ctx, r.ref, FN_STATUS, &st), -1234);
  st.status = UVP_ENOENT;
  ck_assert_int_eq(fx.api->service_call(fx.ctx, r.ref, FN_STATUS, &st),
                   UVP_ENOENT);
  ck_assert_uint_eq(prov_u64("uvp_svcp_calls"), 4);
  /* Refused before the provider: its counter does not move. */
  ck_assert_int_eq(fx.api->service_call(fx.ctx, r.ref, 5, &a), UVP_EINVAL);
  ck_assert_int_eq(fx.api->service_call(fx.ctx, r.ref + (1ull << 32), 0, &a),
                   UVP_ESTALE);
  ck_assert_int_eq(fx.api->service_call(fx.ctx, 0xdeadbeefull, 0, &a),
                   UVP_ESTALE);
  ck_assert_uint_eq(prov_u64("uvp_svcp_calls"), 4);
  /* V2: service_info describes what was imported. */
  uvp_service_info info = {.size = sizeof info};
  ck_assert_int_eq(fx.api->service_info(fx.ctx, r.ref, &info), 0);
  ck_assert_uint_eq(info.major, 1);
  ck_assert_uint_eq(info.minor, 1);
  ck_assert_uint_eq(info.count, 5);
  ck_assert_int_eq(info.revoked, 0);
  ck_assert_str_eq(info.provider, "prov");
  info.size = 3;
  ck_assert_int_eq(fx.api->service_info(fx.ctx, r.ref, &info), UVP_EINVAL);
  /* The C importer plugin calls too, with its own reference. */
  uvt_rec rec;
  uvt_rec_init(&rec);
  uvt_rec_subscribe(&fx, &rec, "svci.out");
  cmd(&fx, &rec, "svci.cmd", "call 40 2");
  uvt_rec_is(&rec, 0, "call=0,42");
  cmd(&fx, &rec, "svci.cmd", "info");
  uvt_rec_is(&rec, 1, "info=0,1.1,5,0,prov");
  ck_assert_uint_eq(prov_u64("uvp_svcp_calls"), 5);
  /* A reference is its importer's own: the embedder's is stale to others
   * and cancel of it from the embedder drops it (L1). */
  ck_assert_int_eq(fx.api->cancel(fx.ctx, r.ref), 0);
  ck_assert_int_eq(r.destroys, 1);
  ck_assert_int_eq(fx.api->service_call(fx.ctx, r.ref, FN_ADD, &a), UVP_ESTALE);
  info.size = sizeof info;
  ck_assert_int_eq(fx.api->service_info(fx.ctx, r.ref, &info), UVP_ESTALE);
  ck_assert_int_eq(r.revokes, 0); /* V5: dropped before, never told */
  uvt_fx_close(&fx);
}
END_TEST

/* V3, S3: the provider is never re-entered, neither while running a call
 * (fn 3 calls the importer's test.bounce, which calls back) nor while
 * running one of its event callbacks. */
START_TEST(reentry_refused) {
  uvt_fx fx;
  setup(&fx, NULL);
  ck_assert_int_eq(uvp_host_load(fx.host, PROV, "prov", "", NULL), 0);
  ck_assert_int_eq(uvp_host_load(fx.host, IMP, "imp", "", NULL), 0);
  emb_ref r = {0};
  ck_assert_int_eq(emb_import(&fx, "test.calc", 1, 0, &r), 0);
  bounce_args b = {0};
  ck_assert_int_eq(fx.api->service_call(fx.ctx, r.ref, FN_BOUNCE, &b), 0);
  ck_assert_int_eq(b.rc, UVP_EBUSY);
  ck_assert_uint_eq(prov_u64("uvp_svcp_calls"), 1); /* bounce only */
  uvt_rec rec;
  uvt_rec_init(&rec);
  uvt_rec_subscribe(&fx, &rec, "svcp.out");
  cmd(&fx, &rec, "svcp.cmd", "bounce");
  char want[64];
  snprintf(want, sizeof want, "bounce=0,%d", UVP_EBUSY);
  uvt_rec_is(&rec, 0, want);
  ck_assert_uint_eq(prov_u64("uvp_svcp_calls"), 1);
  /* Once nothing of the provider runs, the same call goes through. */
  add_args a = {1, 2, 0};
  ck_assert_int_eq(fx.api->service_call(fx.ctx, r.ref, FN_ADD, &a), 0);
  ck_assert_uint_eq(a.out, 3);
  uvp_plugin_stats st = {.size = sizeof st};
  ck_assert_int_eq(uvt_stats(&fx, "prov", &st), 0);
  ck_assert_uint_eq(st.errors, 0); /* EBUSY counts against nobody */
  uvt_fx_close(&fx);
}
END_TEST

/* V4, F1: UVP_EPANIC counted, the provider quarantined when the call
 * returns, every reference revoked with UVP_EPANIC; later calls stale. */
START_TEST(panic_quarantines) {
  uvt_fx fx;
  setup(&fx, NULL);
  ck_assert_int_eq(uvp_host_load(fx.host, PROV, "prov", "", NULL), 0);
  ck_assert_int_eq(uvp_host_load(fx.host, IMP, "imp", "", NULL), 0);
  emb_ref r = {0};
  ck_assert_int_eq(emb_import(&fx, "test.calc", 1, 0, &r), 0);
  ck_assert_int_eq(fx.api->service_call(fx.ctx, r.ref, FN_PANIC, NULL),
                   UVP_EPANIC);
  ck_assert_int_eq(r.revokes, 1); /* before service_call returned */
  ck_assert_int_eq(r.reason, UVP_EPANIC);
  ck_assert_int_eq(r.call_at_revoke, UVP_ESTALE);
  ck_assert_int_eq(state_of(&fx, "prov"), UVP_PLUGIN_QUARANTINED);
  uvp_plugin_stats st = {.size = sizeof st};
  ck_assert_int_eq(uvt_stats(&fx, "prov", &st), 0);
  ck_assert_uint_eq(st.panics, 1);
  ck_assert_uint_eq(st.errors, 1);
  char want[128];
  snprintf(want, sizeof want, "revoke:%d,stale:%d,destroy,drop:0", UVP_EPANIC,
           UVP_ESTALE);
  ck_assert_str_eq(imp_trace(), want);
  add_args a = {1, 2, 0};
  ck_assert_int_eq(fx.api->service_call(fx.ctx, r.ref, FN_ADD, &a), UVP_ESTALE);
  ck_assert_uint_eq(prov_u64("uvp_svcp_calls"), 1); /* the panic only */
  uvp_service_info info = {.size = sizeof info};
  ck_assert_int_eq(fx.api->service_info(fx.ctx, r.ref, &info), 0);
  ck_assert_int_eq(info.revoked, 1);
  /* V6: the quarantined provider drains until the embedder lets go. */
  uvt_run_turns(&fx, 5);
  ck_assert_int_eq(state_of(&fx, "prov"), UVP_PLUGIN_DRAINING);
  ck_assert_uint_eq(prov_u64("uvp_svcp_destroyed"), 0);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, r.ref), 0);
  run_until_gone(&fx, "prov");
  ck_assert_uint_eq(prov_u64("uvp_svcp_destroyed"), 1);
  ck_assert_str_eq(prov_trace(), "destroy,unload"); /* no on_stop (F1) */
  uvt_fx_close(&fx);
}
END_TEST

/* V5, V6: unload with live importers. Revoke once, before on_stop; calls
 * after it stale and never reach the provider; DRAINING until the last
 * drop; then the export's destroy, once, and on_unload. */
START_TEST(unload_waits_for_references) {
  uvt_fx fx;
  setup(&fx, NULL);
  ck_assert_int_eq(uvp_host_load(fx.host, PROV, "prov", "", NULL), 0);
  ck_assert_int_eq(uvp_host_load(fx.host, IMP, "imp", "onrevoke=keep", NULL),
                   0);
  emb_ref r = {0};
  ck_assert_int_eq(emb_import(&fx, "test.calc", 1, 0, &r), 0);
  ck_assert_int_eq(uvp_host_unload(fx.host, "prov"), 0);
  ck_assert_int_eq(r.revokes, 1);
  ck_assert_int_eq(r.reason, UVP_ECLOSED);
  ck_assert_uint_eq(r.stopped_at_revoke, 0); /* before on_stop */
  ck_assert_int_eq(r.call_at_revoke, UVP_ESTALE);
  ck_assert_uint_eq(prov_u64("uvp_svcp_stopped"), 1);
  char want[128];
  snprintf(want, sizeof want, "revoke:%d,stale:%d", UVP_ECLOSED, UVP_ESTALE);
  ck_assert_str_eq(imp_trace(), want);
  ck_assert_int_eq(state_of(&fx, "prov"), UVP_PLUGIN_DRAINING);
  add_args a = {1, 2, 0};
  ck_assert_int_eq(fx.api->service_call(fx.ctx, r.ref, FN_ADD, &a), UVP_ESTALE);
  uvt_rec rec;
  uvt_rec_init(&rec);
  uvt_rec_subscribe(&fx, &rec, "svci.out");
  snprintf(want, sizeof want, "call=%d,0", UVP_ESTALE);
  cmd(&fx, &rec, "svci.cmd", "call 1 2");
  uvt_rec_is(&rec, 0, want);
  ck_assert_uint_eq(prov_u64("uvp_svcp_calls"), 0); /* never reached */
  ck_assert_int_eq(fx.api->cancel(fx.ctx, r.ref), 0);
  ck_assert_int_eq(r.destroys, 1);
  uvt_run_turns(&fx, 5);
  ck_assert_int_eq(state_of(&fx, "prov"), UVP_PLUGIN_DRAINING); /* imp */
  ck_assert_uint_eq(prov_u64("uvp_svcp_destroyed"), 0);
  cmd(&fx, &rec, "svci.cmd", "drop");
  uvt_rec_is(&rec, 1, "drop=0");
  run_until_gone(&fx, "prov");
  ck_assert_uint_eq(prov_u64("uvp_svcp_destroyed"), 1);
  ck_assert_uint_eq(prov_u64("uvp_svcp_unloaded"), 1);
  ck_assert_str_eq(prov_trace(), "stop,destroy,unload");
  ck_assert_int_eq(r.revokes, 1); /* exactly once */
  uvt_fx_close(&fx);
  ck_assert_uint_eq(prov_u64("uvp_svcp_destroyed"), 1);
}
END_TEST

/* V5: cancel of the export by its provider revokes with UVP_ECLOSED and
 * frees the name at once; the old references still hold the instance. */
START_TEST(cancel_export_revokes) {
  uvt_fx fx;
  setup(&fx, NULL);
  ck_assert_int_eq(uvp_host_load(fx.host, PROV, "prov", "", NULL), 0);
  emb_ref r = {0};
  ck_assert_int_eq(emb_import(&fx, "test.calc", 1, 0, &r), 0);
  uvt_rec rec;
  uvt_rec_init(&rec);
  uvt_rec_subscribe(&fx, &rec, "svcp.out");
  cmd(&fx, &rec, "svcp.cmd", "cancel");
  uvt_rec_is(&rec, 0, "cancel=0");
  ck_assert_int_eq(r.revokes, 1);
  ck_assert_int_eq(r.reason, UVP_ECLOSED);
  ck_assert_uint_eq(prov_u64("uvp_svcp_destroyed"), 0); /* still held */
  cmd(&fx, &rec, "svcp.cmd", "export");
  uvt_rec_is(&rec, 1, "export=0");
  emb_ref r2 = {0};
  ck_assert_int_eq(emb_import(&fx, "test.calc", 1, 0, &r2), 0);
  add_args a = {2, 2, 0};
  ck_assert_int_eq(fx.api->service_call(fx.ctx, r2.ref, FN_ADD, &a), 0);
  ck_assert_uint_eq(a.out, 4);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, r.ref), 0);
  ck_assert_uint_eq(prov_u64("uvp_svcp_destroyed"), 1); /* the first one */
  ck_assert_int_eq(state_of(&fx, "prov"), UVP_PLUGIN_RUNNING);
  uvt_fx_close(&fx); /* host close: r2 revoked and dropped, close ends */
  ck_assert_int_eq(r2.revokes, 1);
  ck_assert_int_eq(r2.destroys, 1);
  ck_assert_uint_eq(prov_u64("uvp_svcp_destroyed"), 2);
}
END_TEST

static bool warned(void *arg) {
  uvt_fx *fx = arg;
  return uvt_log_count(&fx->log, 0, "still held") != 0;
}

/* V6: references held service_grace_ms after the revoke: one warning line
 * naming the provider, the service and the importer; the wait goes on. */
START_TEST(grace_warning_logged) {
  uvt_fx fx;
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.service_grace_ms = 20;
  setup(&fx, &o);
  ck_assert_int_eq(uvp_host_load(fx.host, PROV, "prov", "", NULL), 0);
  ck_assert_int_eq(uvp_host_load(fx.host, IMP, "imp", "onrevoke=keep", NULL),
                   0);
  ck_assert_int_eq(uvp_host_unload(fx.host, "prov"), 0);
  int from = fx.log.n;
  ck_assert_int_eq(uvt_log_count(&fx.log, from, "still held"), 0);
  ck_assert(uvt_run_until(&fx, warned, &fx, 5000));
  ck_assert_int_eq(uvt_log_count(&fx.log, from, "still held"), 1);
  const uvt_log_line *line = NULL;
  for (int i = from; i < fx.log.n; i++)
    if (strstr(fx.log.lines[i].msg, "still held")) line = &fx.log.lines[i];
  ck_assert_str_eq(line->plugin, "prov");
  ck_assert_int_eq(line->level, UVP_LOG_WARN);
  ck_assert_ptr_nonnull(strstr(line->msg, "'test.calc'"));
  ck_assert_ptr_nonnull(strstr(line->msg, "'imp'"));
  ck_assert_int_eq(state_of(&fx, "prov"), UVP_PLUGIN_DRAINING);
  uvt_run_turns(&fx, 20);
  ck_assert_int_eq(uvt_log_count(&fx.log, from, "still held"), 1); /* one */
  uvt_rec rec;
  uvt_rec_init(&rec);
  uvt_rec_subscribe(&fx, &rec, "svci.out");
  cmd(&fx, &rec, "svci.cmd", "drop");
  run_until_gone(&fx, "prov");
  uvt_fx_close(&fx);
}
END_TEST

/* V7, U5: reload revokes with UVP_ESTALE once the new instance runs; the
 * revoke callback imports the new version at once. A failed reload leaves
 * the old export untouched. */
START_TEST(reload_reimport) {
  uvt_fx fx;
  setup(&fx, NULL);
  ck_assert_int_eq(uvp_host_load(fx.host, PROV, "prov", "minor=0", NULL), 0);
  ck_assert_int_eq(
      uvp_host_load(fx.host, IMP, "imp", "onrevoke=reimport", NULL), 0);
  ck_assert_int_eq(
      uvp_host_reload(fx.host, "prov", UVP_TEST_PLUGIN_DIR "/no_such_plugin.so",
                      "minor=1", NULL),
      UVP_ENOTFOUND);
  ck_assert_str_eq(imp_trace(), ""); /* V7: untouched */
  uvt_rec rec;
  uvt_rec_init(&rec);
  uvt_rec_subscribe(&fx, &rec, "svci.out");
  cmd(&fx, &rec, "svci.cmd", "call 1 1");
  uvt_rec_is(&rec, 0, "call=0,2");
  ck_assert_int_eq(uvp_host_reload(fx.host, "prov", PROV, "minor=1", NULL), 0);
  char want[160];
  snprintf(want, sizeof want,
           "revoke:%d,stale:%d,destroy,drop:0,reimport:0,minor:1,mul:0,out:42",
           UVP_ESTALE, UVP_ESTALE);
  ck_assert_str_eq(imp_trace(), want);
  /* The old instance had no other reference: it is gone with its export. */
  uvt_run_turns(&fx, 5);
  ck_assert_uint_eq(prov_u64("uvp_svcp_destroyed"), 1);
  ck_assert_uint_eq(prov_u64("uvp_svcp_unloaded"), 1);
  cmd(&fx, &rec, "svci.cmd", "info");
  uvt_rec_is(&rec, 1, "info=0,1.1,5,0,prov");
  uvt_fx_close(&fx);
}
END_TEST

/* V5: an importer that unloads drops its references like its other
 * registrations (destroy runs), with no revoke; the provider goes on. */
START_TEST(importer_unload_drops) {
  uvt_fx fx;
  setup(&fx, NULL);
  ck_assert_int_eq(uvp_host_load(fx.host, PROV, "prov", "", NULL), 0);
  ck_assert_int_eq(uvp_host_load(fx.host, IMP, "imp", "", NULL), 0);
  ck_assert_int_eq(uvp_host_unload(fx.host, "imp"), 0);
  run_until_gone(&fx, "imp");
  ck_assert_str_eq(imp_trace(), "destroy");
  ck_assert_int_eq(state_of(&fx, "prov"), UVP_PLUGIN_RUNNING);
  ck_assert_uint_eq(prov_u64("uvp_svcp_destroyed"), 0);
  /* No reference left: the provider's unload completes at once. */
  ck_assert_int_eq(uvp_host_unload(fx.host, "prov"), 0);
  uvp_plugin_stats st = {.size = sizeof st};
  ck_assert_int_eq(uvt_stats(&fx, "prov", &st), UVP_ENOENT);
  ck_assert_str_eq(prov_trace(), "stop,destroy,unload");
  uvt_fx_close(&fx);
}
END_TEST

/* V6, S2: host close with importers that never drop (a plugin and the
 * embedder) terminates: importers unload too; destroy runs once. */
START_TEST(close_with_held_references) {
  uvt_fx fx;
  setup(&fx, NULL);
  /* The importer is older than the provider: close unloads the provider
   * first, which then waits for the importer's unload. */
  ck_assert_int_eq(uvp_host_load(fx.host, IMP, "imp", "onrevoke=keep", NULL),
                   0);
  ck_assert_uint_eq(uvt_sym_u64(IMP, "uvp_svci_import_rc"),
                    (uint64_t)UVP_ENOENT);
  ck_assert_int_eq(uvp_host_load(fx.host, PROV, "prov", "", NULL), 0);
  uvt_rec rec;
  uvt_rec_init(&rec);
  uvt_rec_subscribe(&fx, &rec, "svci.out");
  cmd(&fx, &rec, "svci.cmd", "import");
  uvt_rec_is(&rec, 0, "import=0");
  emb_ref r = {0};
  ck_assert_int_eq(emb_import(&fx, "test.calc", 1, 0, &r), 0);
  uvt_fx_close(&fx);
  ck_assert_int_eq(r.revokes, 1);
  ck_assert_int_eq(r.destroys, 1);
  ck_assert_str_eq(prov_trace(), "stop,destroy,unload");
  char want[64];
  snprintf(want, sizeof want, "revoke:%d,stale:%d,destroy", UVP_ECLOSED,
           UVP_ESTALE);
  ck_assert_str_eq(imp_trace(), want);
}
END_TEST

typedef struct wt_arg {
  uvt_fx *fx;
  uvp_id ref;
  int rc;
} wt_arg;

static void *wrong_thread(void *arg) {
  wt_arg *w = arg;
  add_args a = {1, 2, 0};
  w->rc = w->fx->api->service_call(w->fx->ctx, w->ref, FN_ADD, &a);
  return NULL;
}

/* T2: service_call off the loop thread is refused and reaches nothing. */
START_TEST(call_wrong_thread) {
  uvt_fx fx;
  setup(&fx, NULL);
  ck_assert_int_eq(uvp_host_load(fx.host, PROV, "prov", "", NULL), 0);
  emb_ref r = {0};
  ck_assert_int_eq(emb_import(&fx, "test.calc", 1, 0, &r), 0);
  wt_arg w = {&fx, r.ref, 0};
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, wrong_thread, &w), 0);
  ck_assert_int_eq(pthread_join(t, NULL), 0);
  ck_assert_int_eq(w.rc, UVP_EWRONGTHREAD);
  ck_assert_uint_eq(prov_u64("uvp_svcp_calls"), 0);
  uvt_fx_close(&fx);
}
END_TEST

static Suite *service_suite(void) {
  Suite *s = suite_create("service");
  TCase *tc = uvt_tcase(s, "service");
  tcase_add_test(tc, export_import_versions);
  tcase_add_test(tc, calls_typed);
  tcase_add_test(tc, reentry_refused);
  tcase_add_test(tc, panic_quarantines);
  tcase_add_test(tc, unload_waits_for_references);
  tcase_add_test(tc, cancel_export_revokes);
  tcase_add_test(tc, grace_warning_logged);
  tcase_add_test(tc, reload_reimport);
  tcase_add_test(tc, importer_unload_drops);
  tcase_add_test(tc, close_with_held_references);
  tcase_add_test(tc, call_wrong_thread);
  return s;
}

int main(void) { return uvt_main(service_suite()); }
