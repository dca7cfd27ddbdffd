/* Faults a plugin reports itself through api->fault (F7), and its instance
 * name through api->instance_name.
 *
 *   on_init: publishes its instance name on "fr.name", subscribes to
 *            "fr.in" and starts a one-hour timer whose destroy reports
 *            UVP_EBUSY ("timer destroy fault")
 *   fr.in "cancel": cancels the timer (its destroy reports UVP_EBUSY)
 *   fr.in "panic":  reports UVP_EPANIC ("reported panic") and returns 0
 *   fr.in "bad":    traces the status of fault() with status 0 and 1
 *   on_stop: reports UVP_EPANIC ("panic in stop")
 *
 * Exports uvp_fr_trace() (comma-separated), uvp_fr_stops().
 * Thread: loop thread.
 */
#include <stdio.h>
#include <string.h>
#include <uvplug/plugin.h>

#define EXPORT __attribute__((visibility("default")))

static char trace[1024];
static uint64_t stops;

EXPORT const char *uvp_fr_trace(void) { return trace; }
EXPORT uint64_t uvp_fr_stops(void) { return stops; }

static void note(const char *what, int rc) {
  size_t n = strlen(trace);
  snprintf(trace + n, sizeof trace - n, "%s%s=%d", n ? "," : "", what, rc);
}

typedef struct fr {
  uvp_ctx *ctx;
  const uvp_api *api;
  uvp_id timer;
} fr;

static void report(fr *f, int status, const char *msg) {
  note("fault", f->api->fault(f->ctx, status, msg, strlen(msg)));
}

static void timer_destroy(void *user_data) {
  report(user_data, UVP_EBUSY, "timer destroy fault");
}

static int on_timer(uvp_ctx *ctx, void *user_data) {
  (void)ctx, (void)user_data;
  return 0;
}

static int on_in(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  fr *f = user_data;
  if (ev->len == 6 && memcmp(ev->data, "cancel", 6) == 0)
    note("cancel", f->api->cancel(ctx, f->timer));
  else if (ev->len == 5 && memcmp(ev->data, "panic", 5) == 0)
    report(f, UVP_EPANIC, "reported panic");
  else if (ev->len == 3 && memcmp(ev->data, "bad", 3) == 0) {
    note("zero", f->api->fault(ctx, 0, "x", 1));
    note("positive", f->api->fault(ctx, 1, "x", 1));
    note("nullmsg", f->api->fault(ctx, UVP_EBUSY, NULL, 3));
  }
  return 0;
}

static int fr_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)config, (void)len;
  static fr f;
  trace[0] = '\0';
  stops = 0;
  f = (fr){.ctx = ctx, .api = api};
  if (!UVP_HAS_FIELD(api, uvp_api, instance_name)) return UVP_EABI;
  const char *name = NULL;
  size_t name_len = 0;
  uvp_topic t_name, t_in;
  uvp_id sub;
  int rc = api->instance_name(ctx, &name, &name_len);
  if (rc == 0) rc = api->topic(ctx, "fr.name", 7, &t_name);
  if (rc == 0) rc = api->publish(ctx, t_name, name, name_len);
  if (rc == 0) rc = api->topic(ctx, "fr.in", 5, &t_in);
  if (rc == 0) rc = api->subscribe(ctx, t_in, on_in, &f, NULL, &sub);
  if (rc == 0)
    rc = api->timer_start(ctx, 3600000, 0, on_timer, &f, timer_destroy,
                          &f.timer);
  *out_state = &f;
  return rc;
}

static void fr_stop(uvp_ctx *ctx, void *state) {
  (void)ctx;
  stops++;
  report(state, UVP_EPANIC, "panic in stop");
}

EXPORT const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .name = "fault_report",
    .version = "1.0",
    .on_init = fr_init,
    .on_stop = fr_stop,
};
