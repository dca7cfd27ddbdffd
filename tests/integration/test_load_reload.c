/* Reload runs the file that is at the path now (A13, A14, U5): two builds
 * of one plugin source (reload_v1.c, reload_v2.c) are copied to a
 * temporary path and rename()d over each other, as an operator deploys;
 * every load maps what is there, also while the old object stays mapped
 * (A10) or still has the name the dynamic loader knows it by.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uvp_test.h"

#define PLUGIN(stem) UVP_TEST_PLUGIN_DIR "/" stem ".so"

static uvt_fx fx;
static char dir[64];
static uvt_rec rec;
static int copies;

/* Puts a fresh copy of build stem at dir/p.so with rename(), as a deploy
 * does: a new inode at the same path. Returns that path. */
static const char *deploy(const char *stem) {
  char tmp[128];
  snprintf(tmp, sizeof tmp, "%s/.p.so.%d", dir, copies++);
  char from[256];
  snprintf(from, sizeof from, "%s/%s.so", UVP_TEST_PLUGIN_DIR, stem);
  uvt_copy_file(from, tmp);
  const char *path = uvt_path(dir, "p.so");
  ck_assert_int_eq(rename(tmp, path), 0);
  return path;
}

static void setup(void) {
  snprintf(dir, sizeof dir, "/tmp/uvt-reload-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  copies = 0;
  uvt_fx_init(&fx, NULL);
  uvt_rec_init(&rec);
  uvt_rec_subscribe(&fx, &rec, "reload.ver");
}

static void teardown(void) {
  uvt_fx_close(&fx);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}

/* Asks every loaded instance; returns the answers, in load order (D1),
 * joined with '|'. */
static const char *ask_on(uvp_host *h, int instances) {
  static char all[256];
  int from = rec.n;
  uvp_topic t;
  ck_assert_int_eq(uvp_host_topic(h, "reload.ask", &t), 0);
  ck_assert_int_eq(uvp_host_publish(h, t, "?", 1), 0);
  ck_assert(uvt_run_until_int(&fx, &rec.n, from + instances));
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(rec.n, from + instances);
  all[0] = '\0';
  for (int i = from; i < rec.n; i++) {
    if (i > from) strcat(all, "|");
    strcat(all, rec.data[i]);
  }
  return all;
}

static const char *ask(int instances) { return ask_on(fx.host, instances); }

static const char *const builds[][2] = {
    {"reload_v1", "reload_v2"},           /* stays mapped (A10) */
    {"reload_safe_v1", "reload_safe_v2"}, /* unload-safe */
};

/* A13, U5: reload after a rename() runs the new build, in both modes; so
 * does unload + load, and a rename back to v1 (a new copy) runs v1 again.
 * Before issue 9 the dynamic loader returned the object already loaded
 * under that path and the old code kept running. */
START_TEST(reload_runs_new_file) {
  const char *path = deploy(builds[_i][0]);
  ck_assert_int_eq(uvp_host_load(fx.host, path, "r", "", NULL), 0);
  ck_assert_str_eq(ask(1), "v1 inits=1");
  deploy(builds[_i][1]);
  ck_assert_int_eq(uvp_host_reload(fx.host, "r", path, "", NULL), 0);
  ck_assert_str_eq(ask(1), "v2 inits=1");
  deploy(builds[_i][0]);
  ck_assert_int_eq(uvp_host_unload(fx.host, "r"), 0);
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(uvp_host_load(fx.host, path, "r", "", NULL), 0);
  ck_assert_str_eq(ask(1), "v1 inits=1");
}
END_TEST

/* A14: two instances of one unchanged file share the mapped object, so
 * its static state too (inits counts both); their uvp state is separate
 * (T4). A changed file loaded next to them is a new object. */
START_TEST(instances_of_one_file_share_object) {
  const char *path = deploy("reload_v1");
  ck_assert_int_eq(uvp_host_load(fx.host, path, "a", "", NULL), 0);
  ck_assert_int_eq(uvp_host_load(fx.host, path, "b", "", NULL), 0);
  ck_assert_str_eq(ask(2), "v1 inits=2|v1 inits=2");
  deploy("reload_v2");
  ck_assert_int_eq(uvp_host_load(fx.host, path, "c", "", NULL), 0);
  ck_assert_str_eq(ask(3), "v1 inits=2|v1 inits=2|v2 inits=1");
}
END_TEST

/* A13: glibc's dlopen matches names before files. Instance b's load gave
 * the object of a the extra name /proc/self/fd/N; a later load that gets
 * descriptor N again (here: v2, with the same fds in use) must not be
 * handed a's object by that name: the loader sees the mismatch (logged at
 * debug level) and maps the new file under another name. */
START_TEST(stale_fd_name_is_not_reused) {
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  uvt_fx_close(&fx);
  o.log_level = UVP_LOG_DEBUG;
  uvt_fx_init(&fx, &o);
  uvt_rec_subscribe(&fx, &rec, "reload.ver");
  const char *path = deploy("reload_v1");
  ck_assert_int_eq(uvp_host_load(fx.host, path, "a", "", NULL), 0);
  int dummy = open("/dev/null", O_RDONLY | O_CLOEXEC); /* shifts b's fds */
  ck_assert_int_ge(dummy, 0);
  ck_assert_int_eq(uvp_host_load(fx.host, path, "b", "", NULL), 0);
  deploy("reload_v2");
  int lines = fx.log.n;
  ck_assert_int_eq(uvp_host_load(fx.host, path, "c", "", NULL), 0);
  close(dummy);
  ck_assert_int_eq(uvt_log_count(&fx.log, lines, "names an older object"), 1);
  ck_assert_str_eq(ask(3), "v1 inits=2|v1 inits=2|v2 inits=1");
}
END_TEST

static const char *swap_path, *swap_stem;
static int swapped;

static void swapping_hook(void *data, int level, const char *plugin,
                          const char *msg, size_t len) {
  (void)data, (void)level, (void)plugin;
  char line[512];
  snprintf(line, sizeof line, "%.*s", (int)len, msg);
  if (swap_stem != NULL && strstr(line, ": checked, mapping inode") != NULL) {
    deploy(swap_stem); /* between the checks and dlopen */
    swapped++;
  }
}

static void host_closed(void *data) { (*(int *)data)++; }

/* A13: replacing the file after it was opened and checked cannot change
 * what is mapped: the loader maps the descriptor it checked, not the path
 * again (a log hook at debug level renames v2 over the path right after
 * the checks, just before dlopen). */
START_TEST(swap_between_check_and_load) {
  swap_path = deploy("reload_v1");
  swap_stem = "reload_v2";
  swapped = 0;
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.log = swapping_hook;
  o.log_level = UVP_LOG_DEBUG;
  uvp_host *h;
  ck_assert_int_eq(uvp_host_new(&fx.loop, &o, &h), 0);
  uvp_ctx *ctx;
  const uvp_api *api;
  uvp_topic ver;
  uvp_id id;
  ck_assert_int_eq(uvp_host_ctx(h, &ctx, &api), 0);
  ck_assert_int_eq(uvp_host_topic(h, "reload.ver", &ver), 0);
  ck_assert_int_eq(api->subscribe(ctx, ver, uvt_rec_cb, &rec, NULL, &id), 0);
  ck_assert_int_eq(uvp_host_load(h, swap_path, "r", "", NULL), 0);
  ck_assert_int_eq(swapped, 1);
  swap_stem = NULL;
  ck_assert_str_eq(ask_on(h, 1), "v1 inits=1");
  /* and the path now holds v2, which the next reload maps */
  ck_assert_int_eq(uvp_host_reload(h, "r", swap_path, "", NULL), 0);
  ck_assert_str_eq(ask_on(h, 1), "v2 inits=1");
  int closed = 0;
  ck_assert_int_eq(uvp_host_close(h, host_closed, &closed), 0);
  ck_assert(uvt_run_until_int(&fx, &closed, 1));
}
END_TEST

/* Lines of /proc/self/maps naming a file under dir. */
static int maps_of_dir(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  ck_assert_ptr_nonnull(f);
  int n = 0;
  char line[4096];
  while (fgets(line, sizeof line, f) != NULL)
    if (strstr(line, dir) != NULL) n++;
  fclose(f);
  return n;
}

/* A10, A13: each reload of a changed object that is not unload-safe
 * leaves the old object mapped (as many mappings as one load makes, no
 * more); an unload-safe one leaves nothing. Prints the numbers for
 * docs/abi.md. */
START_TEST(changed_reload_leaves_old_mapping) {
  const char *path = deploy(builds[_i][0]);
  ck_assert_int_eq(uvp_host_load(fx.host, path, "r", "", NULL), 0);
  int one = maps_of_dir();
  ck_assert_int_gt(one, 0);
  enum { RELOADS = 20 };
  for (int i = 1; i <= RELOADS; i++) {
    deploy(builds[_i][i % 2]);
    ck_assert_int_eq(uvp_host_reload(fx.host, "r", path, "", NULL), 0);
    uvt_run_turns(&fx, 2);
  }
  ck_assert_str_eq(ask(1), "v1 inits=1");
  int after = maps_of_dir();
  printf("%s: %d reloads of a changed file: %d -> %d mappings\n", builds[_i][0],
         RELOADS, one, after);
  if (_i == 0)
    ck_assert_int_eq(after, one * (RELOADS + 1));
  else
    ck_assert_int_eq(after, one);
}
END_TEST

static Suite *reload_suite(void) {
  Suite *s = suite_create("load_reload");
  TCase *tc = uvt_tcase(s, "reload");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_loop_test(tc, reload_runs_new_file, 0, 2);
  tcase_add_test(tc, instances_of_one_file_share_object);
  tcase_add_test(tc, stale_fd_name_is_not_reused);
  tcase_add_test(tc, swap_between_check_and_load);
  tcase_add_loop_test(tc, changed_reload_leaves_old_mapping, 0, 2);
  return s;
}

int main(void) { return uvt_main(reload_suite()); }
