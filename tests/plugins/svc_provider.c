/* A service provider for test_service.c: exports "test.calc" (or the name
 * the config gives), version 1.<minor>, whose functions count every call
 * that reaches them.
 *
 *   fn 0 add     svcp_add_args {a, b, out}: out = a + b, returns 0
 *   fn 1 status  svcp_status_args {status}: returns status unchanged
 *   fn 2 panic   returns UVP_EPANIC (what the Rust SDK returns for a panic)
 *   fn 3 bounce  svcp_bounce_args {rc}: calls fn 0 of "test.bounce" (an
 *                importer's service that calls back into this one) and
 *                stores that call's status in rc
 *   fn 4 mul     (minor >= 1) svcp_add_args: out = a * b
 *
 * Config: space-separated "minor=N", "major=N", "name=S". The export's
 * status goes to uvp_svcp_export_rc(); on_init succeeds either way, so
 * that a refused export (V1) can be observed.
 *
 * svcp.cmd ──► "bounce" (fn 3 from an event callback), "cancel" (withdraw
 * the export), "export" (export the same desc again), "selfimport",
 * "baddesc"; each answers "<cmd>=<status>[,...]" on svcp.out.
 * Thread: loop thread.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uvplug/plugin.h>

#define EXPORT __attribute__((visibility("default")))

typedef struct svcp_add_args {
  uint64_t a, b, out;
} svcp_add_args;
typedef struct svcp_status_args {
  int32_t status;
} svcp_status_args;
typedef struct svcp_bounce_args {
  int32_t rc;
} svcp_bounce_args;

/* Process-wide, read by the tests through dlsym (every instance adds). */
static uint64_t calls, destroyed, stopped, unloaded;
static int export_rc;
static char trace[512];

EXPORT uint64_t uvp_svcp_calls(void) { return calls; }
EXPORT uint64_t uvp_svcp_destroyed(void) { return destroyed; }
EXPORT uint64_t uvp_svcp_stopped(void) { return stopped; }
EXPORT uint64_t uvp_svcp_unloaded(void) { return unloaded; }
EXPORT uint64_t uvp_svcp_export_rc(void) { return (uint64_t)export_rc; }
EXPORT const char *uvp_svcp_trace(void) { return trace; }
/* Tests run in one process under valgrind (CK_FORK=no): each starts here. */
EXPORT uint64_t uvp_svcp_reset(void) {
  calls = destroyed = stopped = unloaded = 0;
  export_rc = 0;
  trace[0] = '\0';
  return 0;
}

static void note(const char *what) {
  size_t n = strlen(trace);
  snprintf(trace + n, sizeof trace - n, "%s%s", n ? "," : "", what);
}

typedef struct prov {
  uvp_ctx *ctx;
  const uvp_api *api;
  uvp_topic out;
  uvp_id export_id, bounce_ref;
  char name[64];
  uvp_service_export desc;
} prov;

static int fn_add(void *instance, void *args) {
  (void)instance;
  svcp_add_args *a = args;
  calls++;
  a->out = a->a + a->b;
  return 0;
}

static int fn_status(void *instance, void *args) {
  (void)instance;
  calls++;
  return ((svcp_status_args *)args)->status;
}

static int fn_panic(void *instance, void *args) {
  (void)instance;
  (void)args;
  calls++;
  return UVP_EPANIC;
}

static void bounce_revoked(uvp_ctx *ctx, uvp_id ref, int reason, void *ud) {
  (void)reason;
  prov *p = ud;
  p->api->cancel(ctx, ref);
  p->bounce_ref = 0;
}

/* Calls into the importer's test.bounce, which calls this provider. */
static int bounce(prov *p, svcp_bounce_args *a) {
  if (p->bounce_ref == 0) {
    uvp_service_import req = {
        .size = sizeof req,
        .major = 1,
        .name = "test.bounce",
        .revoke = bounce_revoked,
        .user_data = p,
    };
    int rc = p->api->service_import(p->ctx, &req, &p->bounce_ref);
    if (rc < 0) return rc;
  }
  svcp_bounce_args inner = {0};
  int rc = p->api->service_call(p->ctx, p->bounce_ref, 0, &inner);
  a->rc = inner.rc;
  return rc;
}

static int fn_bounce(void *instance, void *args) {
  calls++;
  return bounce(instance, args);
}

static int fn_mul(void *instance, void *args) {
  (void)instance;
  svcp_add_args *a = args;
  calls++;
  a->out = a->a * a->b;
  return 0;
}

static const uvp_service_fn fns[] = {fn_add, fn_status, fn_panic, fn_bounce,
                                     fn_mul};

static void on_destroy_instance(void *instance) {
  (void)instance;
  destroyed++;
  note("destroy");
}

static int answer(prov *p, const char *line) {
  return p->api->publish(p->ctx, p->out, line, strlen(line));
}

/* V1: each of these descriptors is refused with UVP_EINVAL. */
static void bad_descs(prov *p, char *line, size_t cap) {
  static const uvp_service_fn with_null[] = {fn_add, NULL};
  char long_name[UVP_TOPIC_MAX + 2];
  memset(long_name, 'a', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';
  uvp_service_export d[7];
  for (int i = 0; i < 7; i++) d[i] = p->desc;
  d[0].size = sizeof d[0] - 1; /* short */
  d[1].name = "";
  d[2].name = long_name;
  d[3].name = "bad/name";
  d[4].count = 0;
  d[5].fns = with_null;
  d[5].count = 2;
  d[6].fns = NULL;
  size_t n = (size_t)snprintf(line, cap, "baddesc=");
  for (int i = 0; i < 7; i++) {
    uvp_id id;
    d[i].name = i == 0 ? "ok.name.0" : d[i].name;
    int rc = p->api->service_export(p->ctx, &d[i], &id);
    n += (size_t)snprintf(line + n, cap - n, "%s%d", i ? "," : "", rc);
  }
}

static void self_revoked(uvp_ctx *ctx, uvp_id ref, int reason, void *ud) {
  (void)ctx;
  (void)ref;
  (void)reason;
  (void)ud;
}

static bool is(const uvp_event *ev, const char *s) {
  return ev->len == strlen(s) && memcmp(ev->data, s, ev->len) == 0;
}

static int on_cmd(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  prov *p = user_data;
  char line[160];
  int rc = 0;
  if (is(ev, "bounce")) { /* S3: a callback of the provider is running */
    svcp_bounce_args a = {0};
    rc = bounce(p, &a);
    snprintf(line, sizeof line, "bounce=%d,%d", rc, a.rc);
  } else if (is(ev, "cancel")) {
    rc = p->api->cancel(ctx, p->export_id);
    snprintf(line, sizeof line, "cancel=%d", rc);
  } else if (is(ev, "export")) {
    rc = p->api->service_export(ctx, &p->desc, &p->export_id);
    snprintf(line, sizeof line, "export=%d", rc);
  } else if (is(ev, "selfimport")) {
    uvp_service_import req = {.size = sizeof req,
                              .major = p->desc.major,
                              .name = p->name,
                              .revoke = self_revoked};
    uvp_id ref;
    rc = p->api->service_import(ctx, &req, &ref);
    snprintf(line, sizeof line, "selfimport=%d", rc);
  } else if (is(ev, "baddesc")) {
    bad_descs(p, line, sizeof line);
  } else {
    return 0;
  }
  return answer(p, line);
}

static unsigned opt(const char *cfg, const char *key, unsigned dflt) {
  const char *at = strstr(cfg, key);
  return at ? (unsigned)strtoul(at + strlen(key), NULL, 10) : dflt;
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)len;
  prov *p = calloc(1, sizeof *p);
  if (p == NULL) return UVP_ENOMEM;
  p->ctx = ctx;
  p->api = api;
  const char *name = strstr(config, "name=");
  snprintf(p->name, sizeof p->name, "%s", name ? name + 5 : "test.calc");
  p->name[strcspn(p->name, " ")] = '\0';
  unsigned minor = opt(config, "minor=", 0);
  p->desc = (uvp_service_export){
      .size = sizeof p->desc,
      .major = (uint16_t)opt(config, "major=", 1),
      .minor = (uint16_t)minor,
      .name = p->name,
      .fns = fns,
      .count = minor >= 1 ? 5 : 4,
      .instance = p,
      .destroy = on_destroy_instance,
  };
  uvp_topic cmd;
  uvp_id sub;
  int rc;
  if ((rc = api->topic(ctx, "svcp.out", 8, &p->out)) < 0 ||
      (rc = api->topic(ctx, "svcp.cmd", 8, &cmd)) < 0 ||
      (rc = api->subscribe(ctx, cmd, on_cmd, p, NULL, &sub)) < 0) {
    free(p);
    return rc;
  }
  export_rc = api->service_export(ctx, &p->desc, &p->export_id);
  *out_state = p;
  return 0;
}

static void on_stop(uvp_ctx *ctx, void *state) {
  (void)ctx;
  (void)state;
  stopped++;
  note("stop");
}

static void on_unload(void *state) {
  unloaded++;
  note("unload");
  free(state);
}

EXPORT const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .name = "svc_provider",
    .version = "1.0.0",
    .on_init = on_init,
    .on_stop = on_stop,
    .on_unload = on_unload,
};
