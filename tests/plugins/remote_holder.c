/* An unload-safe plugin whose own thread holds a remote reference (U4, R5).
 *
 * on_start takes the plugin's remote (one reference, released in on_stop)
 * and one more for a thread it starts; the thread waits until the test
 * calls uvp_holder_let_go(), then posts once (expecting UVP_ECLOSED after
 * the unload), releases its reference and ends.
 *
 *   int uvp_holder_let_go(void)       wakes the thread and joins it (on the
 *                                     loop thread, while the object is
 *                                     still mapped); returns its post status
 *   uint64_t uvp_holder_unloaded(void)  on_unload calls
 *
 * The thread outlives on_unload, which UVP_PLUGIN_UNLOAD_SAFE normally
 * forbids; it is safe here only because the test joins it through
 * uvp_holder_let_go before the host may unmap the object (the release
 * needs a loop turn to take effect).
 * Thread: loop thread, except holder_main.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <uvplug/plugin.h>

#define EXPORT __attribute__((visibility("default")))

static const uvp_api *g_api;
static uvp_remote *g_own, *g_thread_ref;
static pthread_t g_thread;
static int g_started;
static sem_t g_gate;
static int g_post_rc;
static uint64_t unloaded;

static int on_post(uvp_ctx *ctx, void *user_data) {
  (void)ctx, (void)user_data;
  return 0;
}

static void *holder_main(void *arg) {
  (void)arg;
  while (sem_wait(&g_gate) != 0) {
  }
  g_post_rc =
      g_api->remote_post(g_thread_ref, on_post, NULL, NULL, UVP_POST_NONBLOCK);
  g_api->remote_release(g_thread_ref);
  return NULL;
}

EXPORT int uvp_holder_let_go(void) {
  if (!g_started) return UVP_EINVAL;
  sem_post(&g_gate);
  pthread_join(g_thread, NULL);
  g_started = 0;
  return g_post_rc;
}

EXPORT uint64_t uvp_holder_unloaded(void) { return unloaded; }

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)ctx, (void)config, (void)len, (void)out_state;
  g_api = api;
  g_post_rc = 1;
  return sem_init(&g_gate, 0, 0) == 0 ? 0 : UVP_ENOMEM;
}

static int on_start(uvp_ctx *ctx, void *state) {
  (void)state;
  int rc = g_api->remote_new(ctx, &g_own);
  if (rc < 0) return rc;
  g_thread_ref = g_own;
  if ((rc = g_api->remote_acquire(g_thread_ref)) < 0) return rc;
  if (pthread_create(&g_thread, NULL, holder_main, NULL) != 0) {
    g_api->remote_release(g_thread_ref);
    return UVP_ENOMEM;
  }
  g_started = 1;
  return 0;
}

static void on_stop(uvp_ctx *ctx, void *state) {
  (void)ctx, (void)state;
  g_api->remote_release(g_own);
  g_own = NULL;
}

static void on_unload(void *state) {
  (void)state;
  unloaded++;
}

EXPORT const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .flags = UVP_PLUGIN_UNLOAD_SAFE,
    .name = "holder",
    .version = "1.0.0",
    .on_init = on_init,
    .on_start = on_start,
    .on_stop = on_stop,
    .on_unload = on_unload,
};
