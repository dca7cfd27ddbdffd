/* A10 with a real Rust cdylib: tls-plugin touches a thread_local! with a
 * Drop impl on a libuv pool thread. Its destructor runs when that pool
 * thread exits, long after the plugin unloaded, so the host must keep the
 * object mapped; had it been unmapped, the thread's exit would jump into
 * unmapped pages (rust-lang/rust#91979, #59629).
 *
 * The scenario runs in a child process, so that the child can end the pool
 * threads (uv_library_shutdown) and show, by exiting normally, that every
 * thread-local destructor found its code.
 *
 * Note: glibc >= 2.18 pins an object while thread-local destructors it
 * registered are pending (__cxa_thread_atexit_impl), so on glibc this
 * scenario survives even an unload-safe flag; other libcs (musl) do not
 * pin, which is why the host keeps such objects mapped itself. The A10
 * mechanism (mapped by default, unmapped when unload-safe) is tested with C
 * objects in test_loader.c.
 */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "uvp_test.h"

#define TLS_PATH UVP_RUST_PLUGIN_DIR "/libtls_plugin.so"

enum { CHILD_OK = 0, CHILD_NOT_READY = 3, CHILD_UNMAPPED, CHILD_DROPS };

static bool plugin_gone(void *arg) {
  uvp_plugin_stats st = {.size = sizeof st};
  return uvt_stats(arg, "tls", &st) == UVP_ENOENT;
}

/* Loads, waits for the work's done, unloads, closes the host, ends the
 * pool threads; returns one of the CHILD_ codes. */
static int child(void) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  uvt_rec ready;
  uvt_rec_init(&ready);
  uvp_id sub;
  fx.api->subscribe(fx.ctx, uvt_topic(&fx, "tls.ready"), uvt_rec_cb, &ready,
                    uvt_rec_destroy, &sub);
  if (uvp_host_load(fx.host, TLS_PATH, "tls", "", NULL) != 0 ||
      !uvt_run_until_int(&fx, &ready.n, 1) || strcmp(ready.data[0], "ready"))
    return CHILD_NOT_READY;
  uvp_host_unload(fx.host, "tls");
  if (!uvt_run_until(&fx, plugin_gone, &fx, 5000)) return CHILD_NOT_READY;
  /* A10: not unload-safe, so still mapped after the unload finished. */
  if (!uvt_is_mapped(TLS_PATH)) return CHILD_UNMAPPED;
  uint64_t touches = uvt_sym_u64(TLS_PATH, "uvp_tls_touches");
  uvt_fx_close(&fx);
  uv_library_shutdown(); /* joins the pool: thread-local destructors run */
  uint64_t drops = uvt_sym_u64(TLS_PATH, "uvp_tls_drops");
  return touches >= 1 && drops == touches ? CHILD_OK : CHILD_DROPS;
}

/* A10: the TLS destructor of an unloaded Rust plugin runs on pool-thread
 * exit, finds its code mapped, and the process ends normally. */
START_TEST(tls_destructor_outlives_unload) {
  pid_t pid = fork();
  ck_assert_int_ne(pid, -1);
  if (pid == 0) _exit(child());
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_msg(WIFEXITED(status), "child died by signal %d",
                WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  ck_assert_int_eq(WEXITSTATUS(status), CHILD_OK);
}
END_TEST

int main(void) {
  Suite *s = suite_create("tls");
  TCase *tc = uvt_tcase(s, "unmapping");
  tcase_add_test(tc, tls_destructor_outlives_unload);
  return uvt_main(s);
}
