/* Reload (U5): the new instance replaces the old one under the same name;
 * a failed reload leaves the old one running; 1,000 reloads in one process
 * leak no descriptor, no mapping and miss no destroy. Every scenario runs
 * against the C reference plugin and its Rust twin (tcase_add_loop_test
 * over ref_paths; both export uvp_ref_destroyed and uvp_ref_unloaded, and
 * each instance has two subscriptions, so two destroys per unload).
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "uvp_test.h"

static const char *const ref_paths[] = {
    UVP_TEST_PLUGIN_DIR "/ref_plugin.so",
    UVP_RUST_PLUGIN_DIR "/libref_plugin.so",
};
#define NPATHS 2

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  ck_assert_ptr_nonnull(d);
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UVT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UVT_SANITIZED 1
#endif
#endif
#ifndef UVT_SANITIZED
#define UVT_SANITIZED 0
#endif

/* Lines of /proc/self/maps; with files_only, only the file-backed ones
 * (shared objects and the like). A sanitizer's allocator, and valgrind's,
 * map anonymous memory as they go (and the kernel may merge two such
 * mappings), so sanitized builds and valgrind runs compare file-backed
 * lines only. */
static int count_maps(bool files_only) {
  FILE *f = fopen("/proc/self/maps", "r");
  ck_assert_ptr_nonnull(f);
  int n = 0;
  char line[4096];
  while (fgets(line, sizeof line, f) != NULL) {
    if (strchr(line, '\n') == NULL) continue; /* the rest of a long line */
    if (!files_only || strchr(line, '/') != NULL) n++;
  }
  fclose(f);
  return n;
}

static void expect_maps(int all0, int files0) {
  ck_assert_int_eq(count_maps(true), files0);
  if (!UVT_SANITIZED && !uvt_valgrind())
    ck_assert_int_eq(count_maps(false), all0);
}

typedef struct ref_fx {
  uvt_fx fx;
  uvt_rec out; /* what ref.out carries */
  uvp_topic in, cmd;
  const char *path;
} ref_fx;

static uint64_t destroyed(const ref_fx *r) {
  return uvt_sym_u64(r->path, "uvp_ref_destroyed");
}

static uint64_t unloaded(const ref_fx *r) {
  return uvt_sym_u64(r->path, "uvp_ref_unloaded");
}

static void ref_setup(ref_fx *r, const char *path) {
  uvt_fx_init(&r->fx, NULL);
  uvt_rec_init(&r->out);
  r->path = path;
  uvp_id sub;
  ck_assert_int_eq(
      r->fx.api->subscribe(r->fx.ctx, uvt_topic(&r->fx, "ref.out"), uvt_rec_cb,
                           &r->out, uvt_rec_destroy, &sub),
      0);
  r->in = uvt_topic(&r->fx, "ref.in");
  r->cmd = uvt_topic(&r->fx, "ref.cmd");
  int rc = uvp_host_load(r->fx.host, path, "r", "", NULL);
  ck_assert_msg(rc == 0, "load %s: %s", path, uvp_err_name(rc));
}

/* Publishes msg on topic and runs until ref.out has one more record;
 * returns the index of that record. */
static int ask(ref_fx *r, uvp_topic topic, const char *msg) {
  int want = r->out.calls + 1;
  ck_assert_int_eq(uvp_host_publish(r->fx.host, topic, msg, strlen(msg)), 0);
  ck_assert(uvt_run_until_int(&r->fx, &r->out.calls, want));
  uvt_run_turns(&r->fx, 3);
  ck_assert_int_eq(r->out.calls, want); /* exactly one instance answered */
  return want - 1;
}

static void expect_running(ref_fx *r) {
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&r->fx, "r", &st), 0);
  ck_assert_int_eq(st.state, UVP_PLUGIN_RUNNING);
  ck_assert_uint_eq(st.registrations, 2);
}

/* U5: the new instance runs under the same name, the old one unloaded
 * (its on_unload ran, both its destroys ran). */
START_TEST(reload_replaces_instance) {
  ref_fx r;
  ref_setup(&r, ref_paths[_i]);
  {
    int k = ask(&r, r.in, "a");
    uvt_rec_is(&r.out, k, "a");
  }
  {
    int k = ask(&r, r.cmd, "count");
    uvt_rec_is(&r.out, k, "count=1");
  }
  uint64_t d0 = destroyed(&r), u0 = unloaded(&r);
  ck_assert_int_eq(uvp_host_reload(r.fx.host, "r", r.path, "", NULL), 0);
  ck_assert_uint_eq(unloaded(&r), u0 + 1);
  ck_assert_uint_eq(destroyed(&r), d0 + 2);
  expect_running(&r);
  const char *name;
  ck_assert_int_eq(uvp_host_plugin_name(r.fx.host, 0, &name), 0);
  ck_assert_str_eq(name, "r");
  ck_assert_int_eq(uvp_host_plugin_name(r.fx.host, 1, &name), UVP_ENOENT);
  {
    int k = ask(&r, r.cmd, "count");
    uvt_rec_is(&r.out, k, "count=0");
  } /* a new state */
  {
    int k = ask(&r, r.in, "b");
    uvt_rec_is(&r.out, k, "b");
  }
  uvt_fx_close(&r.fx);
  ck_assert_uint_eq(unloaded(&r), u0 + 2);
  ck_assert_uint_eq(destroyed(&r), d0 + 4);
}
END_TEST

/* U5: a reload that fails leaves the old instance untouched. */
START_TEST(failed_reload_keeps_old) {
  ref_fx r;
  ref_setup(&r, ref_paths[_i]);
  {
    int k = ask(&r, r.in, "a");
    uvt_rec_is(&r.out, k, "a");
  }
  uint64_t d0 = destroyed(&r), u0 = unloaded(&r);
  ck_assert_int_eq(
      uvp_host_reload(r.fx.host, "r", UVP_TEST_PLUGIN_DIR "/no_such_plugin.so",
                      "", NULL),
      UVP_ENOTFOUND); /* A11 */
  ck_assert_int_eq(
      uvp_host_reload(r.fx.host, "r", UVP_TEST_PLUGIN_DIR "/bad_magic.so", "",
                      NULL),
      UVP_EBADMAGIC);
  ck_assert_int_eq(
      uvp_host_reload(r.fx.host, "r", UVP_TEST_PLUGIN_DIR "/init_fail.so", "",
                      NULL),
      UVP_EINIT);
  ck_assert_int_eq(uvp_host_reload(r.fx.host, "nobody", r.path, "", NULL),
                   UVP_ENOENT);
  ck_assert_int_eq(uvp_host_reload(r.fx.host, "r", NULL, "", NULL), UVP_EINVAL);
  ck_assert_uint_eq(unloaded(&r), u0);
  ck_assert_uint_eq(destroyed(&r), d0);
  expect_running(&r);
  {
    int k = ask(&r, r.cmd, "count");
    uvt_rec_is(&r.out, k, "count=1");
  } /* same state */
  {
    int k = ask(&r, r.in, "b");
    uvt_rec_is(&r.out, k, "b");
  }
  {
    int k = ask(&r, r.cmd, "count");
    uvt_rec_is(&r.out, k, "count=2");
  }
  uvt_fx_close(&r.fx);
  ck_assert_uint_eq(unloaded(&r), u0 + 1);
}
END_TEST

static int reloads(void) { return uvt_valgrind() ? 50 : 1000; }

/* Reloads a few times before the counts are taken: the first ones may
 * grow the malloc heap (a [heap] line appears in /proc/self/maps). */
static void warm_up(uvt_fx *fx, const char *name, const char *path) {
  for (int i = 0; i < uvt_scale(100); i++) {
    ck_assert_int_eq(uvp_host_reload(fx->host, name, path, "", NULL), 0);
    uvt_run_turns(fx, 1);
  }
}

/* U5, A10: 1,000 reloads of the same object in one process: no file
 * descriptor and no mapping more than after the first, every destroy and
 * on_unload ran (valgrind: no leak). */
START_TEST(reload_many_times) {
  ref_fx r;
  ref_setup(&r, ref_paths[_i]);
  warm_up(&r.fx, "r", r.path);
  const int fds0 = count_fds(), maps0 = count_maps(false),
            files0 = count_maps(true);
  const uint64_t d0 = destroyed(&r), u0 = unloaded(&r);
  const int n = reloads();
  for (int i = 0; i < n; i++) {
    ck_assert_int_eq(uvp_host_reload(r.fx.host, "r", r.path, "", NULL), 0);
    if (i % 100 == 99) uvt_run_turns(&r.fx, 1);
  }
  uvt_run_turns(&r.fx, 3);
  ck_assert_int_eq(count_fds(), fds0);
  expect_maps(maps0, files0);
  ck_assert_uint_eq(unloaded(&r), u0 + (uint64_t)n);
  ck_assert_uint_eq(destroyed(&r), d0 + 2 * (uint64_t)n);
  expect_running(&r);
  {
    int k = ask(&r, r.in, "alive");
    uvt_rec_is(&r.out, k, "alive");
  }
  printf("reload x%d (%s): fds %d -> %d, maps %d -> %d (files %d -> %d)\n", n,
         _i == 0 ? "c" : "rust", fds0, count_fds(), maps0, count_maps(false),
         files0, count_maps(true));
  fflush(stdout);
  uvt_fx_close(&r.fx);
  ck_assert_uint_eq(destroyed(&r), d0 + 2 * (uint64_t)n + 2);
}
END_TEST

/* A10, U5: an unload-safe object reloaded 1,000 times: dlopen/dlclose
 * balance, no descriptor or mapping left behind. */
START_TEST(reload_unload_safe_many_times) {
  const char *path = UVP_TEST_PLUGIN_DIR "/unload_safe.so";
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  ck_assert_int_eq(uvp_host_load(fx.host, path, "us", "", NULL), 0);
  warm_up(&fx, "us", path);
  const int fds0 = count_fds(), maps0 = count_maps(false),
            files0 = count_maps(true);
  const int n = reloads();
  for (int i = 0; i < n; i++) {
    ck_assert_int_eq(uvp_host_reload(fx.host, "us", path, "", NULL), 0);
    /* The old instance's on_stop published an owned payload that pins it
     * (A10) until a loop turn delivers and frees it. */
    uvt_run_turns(&fx, 1);
  }
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(count_fds(), fds0);
  expect_maps(maps0, files0);
  ck_assert(uvt_is_mapped(path));
  ck_assert_int_eq(uvp_host_unload(fx.host, "us"), 0);
  uvt_run_turns(&fx, 2);
  ck_assert(!uvt_is_mapped(path)); /* A10: unmapped once unloaded */
  uvt_fx_close(&fx);
}
END_TEST

static Suite *reload_suite(void) {
  Suite *s = suite_create("reload");
  TCase *tc = uvt_tcase(s, "reload");
  tcase_add_loop_test(tc, reload_replaces_instance, 0, NPATHS);
  tcase_add_loop_test(tc, failed_reload_keeps_old, 0, NPATHS);
  tc = tcase_create("many");
  tcase_set_timeout(tc, uvt_valgrind() ? 1200 : 120);
  tcase_add_loop_test(tc, reload_many_times, 0, NPATHS);
  tcase_add_test(tc, reload_unload_safe_many_times);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return uvt_main(reload_suite()); }
