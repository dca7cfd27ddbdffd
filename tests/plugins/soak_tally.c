/* The soak's tally: copies the stress plugin's own counters (the exports
 * uvp_stress_report and uvp_stress_dropped of tests/plugins/stress_plugin.c
 * and its Rust twin) into a file, once a timer period, so that
 * tools/soak.sh can read them from outside uvplugd. The stress object is
 * not unload-safe, so it stays mapped after its instance is removed and its
 * final counters stay readable (that is how the soak reads them exactly:
 * remove the stress instance with a SIGHUP, then read this file).
 *
 * config: space-separated key=value, all required but every_ms:
 *   lib=PATH       the stress plugin's file (found with RTLD_NOLOAD)
 *   out=PATH       the file written (PATH.tmp, then renamed over PATH)
 *   every_ms=N     period (default 500)
 * The file: key=value lines: seq (writes so far), loaded (0 or 1), then
 * attempted, received, destroyed, refused_closed, retries_eagain,
 * order_errors, dropped when loaded=1.
 *
 * Thread: loop thread only (timer callbacks); the stress counters are
 * atomics, each read on its own, so a read while producers run is a
 * snapshot per counter, exact only once the stress instance is unloaded.
 */
#define _GNU_SOURCE /* RTLD_NOLOAD */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uvplug/plugin.h>

typedef struct tally {
  char lib[256];
  char out[256];
  unsigned long every_ms;
  unsigned long long seq;
} tally;

typedef void (*report_fn)(uint64_t out[6]);
typedef uint64_t (*dropped_fn)(void);

static const char *const names[6] = {"attempted",      "received",
                                     "destroyed",      "refused_closed",
                                     "retries_eagain", "order_errors"};

/* Writes the counters of the stress object into f; false if not mapped. */
static int write_counters(FILE *f, const char *lib) {
  void *dl = dlopen(lib, RTLD_NOW | RTLD_NOLOAD);
  if (dl == NULL) return 0;
  report_fn report = (report_fn)dlsym(dl, "uvp_stress_report");
  dropped_fn dropped = (dropped_fn)dlsym(dl, "uvp_stress_dropped");
  int ok = report != NULL && dropped != NULL;
  if (ok) {
    uint64_t v[6];
    report(v);
    for (int k = 0; k < 6; k++)
      fprintf(f, "%s=%llu\n", names[k], (unsigned long long)v[k]);
    fprintf(f, "dropped=%llu\n", (unsigned long long)dropped());
  }
  dlclose(dl);
  return ok;
}

/* Writes PATH.tmp and renames it, so a reader never sees half a file. */
static void write_file(tally *t) {
  char tmp[300];
  snprintf(tmp, sizeof tmp, "%s.tmp", t->out);
  FILE *f = fopen(tmp, "w");
  if (f == NULL) return;
  fprintf(f, "seq=%llu\n", ++t->seq);
  /* "loaded" goes last so that the counters come first when mapped. */
  int loaded = write_counters(f, t->lib);
  fprintf(f, "loaded=%d\n", loaded);
  if (fclose(f) == 0) rename(tmp, t->out);
}

static int on_tick(uvp_ctx *ctx, void *user_data) {
  (void)ctx;
  write_file(user_data);
  return 0;
}

static int copy_value(char *dst, size_t cap, const char *v) {
  size_t n = strlen(v);
  if (n == 0 || n >= cap) return UVP_EINVAL;
  memcpy(dst, v, n + 1);
  return 0;
}

static int parse(tally *t, const char *config, size_t len) {
  char buf[640];
  if (len >= sizeof buf) return UVP_EINVAL;
  memcpy(buf, config, len);
  buf[len] = '\0';
  t->every_ms = 500;
  char *save = NULL;
  for (char *tok = strtok_r(buf, " ", &save); tok != NULL;
       tok = strtok_r(NULL, " ", &save)) {
    char *eq = strchr(tok, '=');
    if (eq == NULL) return UVP_EINVAL;
    *eq = '\0';
    const char *v = eq + 1;
    int rc = 0;
    if (strcmp(tok, "lib") == 0) {
      rc = copy_value(t->lib, sizeof t->lib, v);
    } else if (strcmp(tok, "out") == 0) {
      rc = copy_value(t->out, sizeof t->out, v);
    } else if (strcmp(tok, "every_ms") == 0) {
      char *end;
      t->every_ms = strtoul(v, &end, 10);
      if (*end != '\0' || t->every_ms == 0) rc = UVP_EINVAL;
    } else {
      rc = UVP_EINVAL;
    }
    if (rc != 0) return rc;
  }
  return t->lib[0] != '\0' && t->out[0] != '\0' ? 0 : UVP_EINVAL;
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  tally *t = calloc(1, sizeof *t);
  if (t == NULL) return UVP_ENOMEM;
  int rc = parse(t, config, len);
  uvp_id id;
  if (rc == 0)
    rc = api->timer_start(ctx, t->every_ms, t->every_ms, on_tick, t, NULL, &id);
  if (rc != 0) {
    free(t);
    return rc;
  }
  *out_state = t;
  return 0;
}

/* A last write: the counters as they are when the tally goes. */
static void on_unload(void *state) {
  write_file(state);
  free(state);
}

__attribute__((visibility("default")))
const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .flags = 0,
    .name = "soak_tally",
    .version = "1.0.0",
    .on_init = on_init,
    .on_unload = on_unload,
};
