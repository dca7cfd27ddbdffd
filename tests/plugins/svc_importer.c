/* A service importer for test_service.c: imports "test.calc" 1.<min> at
 * init and exports "test.bounce" 1.0, whose fn 0 calls fn 0 (add) of
 * test.calc through its reference and stores that call's status.
 *
 * Config: space-separated "min=N" (oldest minor accepted) and
 * "onrevoke=keep|drop|reimport": what the revoke callback does with the
 * reference (keep it, cancel it, or cancel it and import test.calc again,
 * then call mul (fn 4) with 6 * 7 through the new one).
 *
 * svci.cmd ──► "call A B" (add), "import", "drop" (cancel the reference),
 * "info";
 * each answers on svci.out. uvp_svci_trace() records revokes, destroys
 * and re-imports in order.
 * Thread: loop thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uvplug/plugin.h>

#define EXPORT __attribute__((visibility("default")))

typedef struct add_args {
  uint64_t a, b, out;
} add_args;
typedef struct bounce_args {
  int32_t rc;
} bounce_args;

static int import_rc;
static char trace[512];

EXPORT uint64_t uvp_svci_import_rc(void) { return (uint64_t)import_rc; }
EXPORT const char *uvp_svci_trace(void) { return trace; }
EXPORT uint64_t uvp_svci_reset(void) {
  import_rc = 0;
  trace[0] = '\0';
  return 0;
}

static void note(const char *fmt, int v) {
  size_t n = strlen(trace);
  if (n != 0 && n + 1 < sizeof trace) trace[n++] = ',';
  snprintf(trace + n, sizeof trace - n, fmt, v);
}

typedef struct imp {
  uvp_ctx *ctx;
  const uvp_api *api;
  uvp_topic out;
  uvp_id ref;
  unsigned min;
  char onrevoke[16];
} imp;

static void on_revoke(uvp_ctx *ctx, uvp_id ref, int reason, void *ud);

static void ref_destroyed(void *ud) {
  (void)ud;
  note("destroy%.0d", 0);
}

static int import(imp *p) {
  uvp_service_import req = {
      .size = sizeof req,
      .major = 1,
      .min_minor = (uint16_t)p->min,
      .name = "test.calc",
      .revoke = on_revoke,
      .user_data = p,
      .destroy = ref_destroyed,
  };
  return p->api->service_import(p->ctx, &req, &p->ref);
}

/* V5, V7: told once; what it does with the reference is the config's. */
static void on_revoke(uvp_ctx *ctx, uvp_id ref, int reason, void *ud) {
  imp *p = ud;
  note("revoke:%d", reason);
  note("stale:%d", p->api->service_call(ctx, ref, 0, &(add_args){1, 1, 0}));
  if (strcmp(p->onrevoke, "keep") == 0) return;
  note("drop:%d", p->api->cancel(ctx, ref));
  p->ref = 0;
  if (strcmp(p->onrevoke, "reimport") != 0) return;
  note("reimport:%d", import(p));
  uvp_service_info info = {.size = sizeof info};
  if (p->api->service_info(ctx, p->ref, &info) == 0)
    note("minor:%d", info.minor);
  add_args a = {6, 7, 0};
  note("mul:%d", p->api->service_call(ctx, p->ref, 4, &a));
  note("out:%d", (int)a.out);
}

/* test.bounce fn 0: back into test.calc (V3: the provider is busy). */
static int fn_bounce(void *instance, void *args) {
  imp *p = instance;
  add_args a = {1, 2, 0};
  ((bounce_args *)args)->rc = p->api->service_call(p->ctx, p->ref, 0, &a);
  return 0;
}

static const uvp_service_fn bounce_fns[] = {fn_bounce};

static int on_cmd(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  imp *p = user_data;
  char line[160];
  char cmd[64];
  if (ev->len >= sizeof cmd) return 0;
  memcpy(cmd, ev->data, ev->len);
  cmd[ev->len] = '\0';
  unsigned long long a, b;
  if (sscanf(cmd, "call %llu %llu", &a, &b) == 2) {
    add_args args = {a, b, 0};
    int rc = p->api->service_call(ctx, p->ref, 0, &args);
    snprintf(line, sizeof line, "call=%d,%llu", rc,
             (unsigned long long)args.out);
  } else if (strcmp(cmd, "import") == 0) {
    snprintf(line, sizeof line, "import=%d", import(p));
  } else if (strcmp(cmd, "drop") == 0) {
    snprintf(line, sizeof line, "drop=%d", p->api->cancel(ctx, p->ref));
  } else if (strcmp(cmd, "info") == 0) {
    uvp_service_info info = {.size = sizeof info};
    int rc = p->api->service_info(ctx, p->ref, &info);
    snprintf(line, sizeof line, "info=%d,%u.%u,%u,%d,%s", rc, info.major,
             info.minor, info.count, info.revoked,
             rc == 0 ? info.provider : "-");
  } else {
    return 0;
  }
  return p->api->publish(ctx, p->out, line, strlen(line));
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)len;
  imp *p = calloc(1, sizeof *p);
  if (p == NULL) return UVP_ENOMEM;
  p->ctx = ctx;
  p->api = api;
  const char *at = strstr(config, "min=");
  p->min = at ? (unsigned)strtoul(at + 4, NULL, 10) : 0;
  at = strstr(config, "onrevoke=");
  snprintf(p->onrevoke, sizeof p->onrevoke, "%s", at ? at + 9 : "drop");
  p->onrevoke[strcspn(p->onrevoke, " ")] = '\0';
  uvp_service_export desc = {
      .size = sizeof desc,
      .major = 1,
      .name = "test.bounce",
      .fns = bounce_fns,
      .count = 1,
      .instance = p,
  };
  uvp_topic cmd;
  uvp_id sub, exp;
  int rc;
  if ((rc = api->topic(ctx, "svci.out", 8, &p->out)) < 0 ||
      (rc = api->topic(ctx, "svci.cmd", 8, &cmd)) < 0 ||
      (rc = api->subscribe(ctx, cmd, on_cmd, p, NULL, &sub)) < 0 ||
      (rc = api->service_export(ctx, &desc, &exp)) < 0) {
    free(p);
    return rc;
  }
  import_rc = import(p);
  *out_state = p;
  return 0;
}

static void on_unload(void *state) { free(state); }

EXPORT const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .name = "svc_importer",
    .version = "1.0.0",
    .on_init = on_init,
    .on_unload = on_unload,
};
