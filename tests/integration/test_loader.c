/* The loader (A1-A10, S1-S3, T4): every refusal has its own status and
 * one log line naming the file; init failures leave nothing behind;
 * instances of one object have separate state; unload order; unload-safe
 * objects are unmapped, others stay mapped. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "uvp_test.h"

#define PLUGIN(stem) UVP_TEST_PLUGIN_DIR "/" stem ".so"

static uvt_fx fx;
static void setup(void) { uvt_fx_init(&fx, NULL); }
static void teardown(void) { uvt_fx_close(&fx); }

/* The counter plugin's trace (counter_plugin.c), read via RTLD_NOLOAD. */
static const char *counter_trace(void) {
  void *dl = dlopen(PLUGIN("counter_plugin"), RTLD_NOW | RTLD_NOLOAD);
  ck_assert_ptr_nonnull(dl);
  const char *(*fn)(void);
  *(void **)&fn = dlsym(dl, "uvp_counter_trace");
  ck_assert_ptr_nonnull(fn);
  const char *t = fn();
  dlclose(dl);
  return t;
}

static void counter_trace_reset(void) {
  void *dl = dlopen(PLUGIN("counter_plugin"), RTLD_NOW | RTLD_NOLOAD);
  ck_assert_ptr_nonnull(dl);
  void (*fn)(void);
  *(void **)&fn = dlsym(dl, "uvp_counter_trace_reset");
  ck_assert_ptr_nonnull(fn);
  fn();
  dlclose(dl);
}

static uint64_t counter_u64(const char *sym) {
  return uvt_sym_u64(PLUGIN("counter_plugin"), sym);
}

static void load_counter(const char *name, const char *config) {
  int rc = uvp_host_load(fx.host, PLUGIN("counter_plugin"), name, config, NULL);
  ck_assert_msg(rc == 0, "load %s: %s", name, uvp_strerror(rc));
}

/* -- refusals (A1-A5, A7, A8) ------------------------------------------- */

static const struct {
  const char *path;
  int want;
  const char *rule;
} refusals[] = {
    {UVP_TEST_PLUGIN_DIR "/no_such_plugin.so", UVP_ENOTFOUND, "A11 missing"},
    {PLUGIN("no_entry"), UVP_ENOSYM, "A2"},
    {PLUGIN("bad_magic"), UVP_EBADMAGIC, "A3"},
    {PLUGIN("abi_major"), UVP_EABI, "A4"},
    {PLUGIN("short_desc"), UVP_ESHORT, "A5 12-byte symbol"},
    {PLUGIN("short_size"), UVP_ESHORT, "A5 size field too small"},
    {PLUGIN("bad_desc"), UVP_EBADDESC, "A7 on_init NULL"},
    {PLUGIN("bad_name"), UVP_EBADDESC, "A7 bad name"},
    {PLUGIN("long_name"), UVP_EBADDESC, "A7 64-byte name"},
    {PLUGIN("empty_name"), UVP_EBADDESC, "A7 empty name"},
};

/* A1-A5, A7: each refusal's exact status and exactly one log line naming
 * the file; A8: no hook of the refused plugin ran (bad_magic, abi_major
 * and bad_name set UVT_A8_RAN from on_init; short_size, long_name and
 * empty_name abort() there); nothing is loaded after. */
START_TEST(load_refused) {
  unsetenv("UVT_A8_RAN");
  int lines = fx.log.n;
  int rc = uvp_host_load(fx.host, refusals[_i].path, NULL, "", NULL);
  ck_assert_msg(rc == refusals[_i].want, "%s: got %s (%d), want %s",
                refusals[_i].rule, uvp_err_name(rc), rc,
                uvp_err_name(refusals[_i].want));
  ck_assert_int_eq(uvt_log_count(&fx.log, lines, refusals[_i].path), 1);
  ck_assert_ptr_null(getenv("UVT_A8_RAN"));
  const char *name;
  ck_assert_int_eq(uvp_host_plugin_name(fx.host, 0, &name), UVP_ENOENT);
  /* a refusal is final, not a warning: the same again gives the same */
  ck_assert_int_eq(uvp_host_load(fx.host, refusals[_i].path, "again", "", NULL),
                   refusals[_i].want);
}
END_TEST

/* A11: a text file named .so is UVP_ENOTELF (refused before dlopen),
 * logged with its path. */
START_TEST(text_file_named_so) {
  char dir[] = "/tmp/uvt-loader-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof path, "%s/text.so", dir);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs("this is not an ELF object\n", f);
  fclose(f);
  int lines = fx.log.n;
  ck_assert_int_eq(uvp_host_load(fx.host, path, "text", "", NULL), UVP_ENOTELF);
  ck_assert_int_eq(uvt_log_count(&fx.log, lines, path), 1);
  unlink(path);
  rmdir(dir);
}
END_TEST

/* A5: a larger descriptor of a newer minor loads; the host reads only the
 * fields it knows (the extra ones hold garbage) and the plugin works. */
START_TEST(newer_minor_loads) {
  ck_assert_int_eq(
      uvp_host_load(fx.host, PLUGIN("newer_minor"), NULL, "", NULL), 0);
  const char *name = NULL;
  ck_assert_int_eq(uvp_host_plugin_name(fx.host, 0, &name), 0);
  ck_assert_str_eq(name, "newer_minor");
  static uvt_rec rec;
  uvt_rec_init(&rec);
  uvt_rec_subscribe(&fx, &rec, "nm.out");
  ck_assert_int_eq(uvp_host_publish(fx.host, uvt_topic(&fx, "nm.in"), "hi", 2),
                   0);
  ck_assert(uvt_run_until_int(&fx, &rec.n, 1));
  uvt_rec_is(&rec, 0, "hi");
}
END_TEST

/* -- names and instances (A6, T4) --------------------------------------- */

/* A6: a second instance with a loaded name is UVP_EDUPNAME, logged with
 * the file; after unload the name is free again. */
START_TEST(duplicate_name) {
  load_counter("c1", "");
  int lines = fx.log.n;
  ck_assert_int_eq(
      uvp_host_load(fx.host, PLUGIN("counter_plugin"), "c1", "", NULL),
      UVP_EDUPNAME);
  ck_assert_int_eq(uvt_log_count(&fx.log, lines, PLUGIN("counter_plugin")), 1);
  /* the descriptor's name counts too: "counter" twice */
  ck_assert_int_eq(
      uvp_host_load(fx.host, PLUGIN("counter_plugin"), NULL, "", NULL), 0);
  ck_assert_int_eq(
      uvp_host_load(fx.host, PLUGIN("counter_plugin"), NULL, "", NULL),
      UVP_EDUPNAME);
  /* another object under a loaded instance name */
  ck_assert_int_eq(uvp_host_load(fx.host, PLUGIN("ref_plugin"), "c1", "", NULL),
                   UVP_EDUPNAME);
  ck_assert_int_eq(uvp_host_unload(fx.host, "c1"), 0);
  load_counter("c1", "");
  const char *n0, *n1, *n2;
  ck_assert_int_eq(uvp_host_plugin_name(fx.host, 0, &n0), 0);
  ck_assert_int_eq(uvp_host_plugin_name(fx.host, 1, &n1), 0);
  ck_assert_int_eq(uvp_host_plugin_name(fx.host, 2, &n2), UVP_ENOENT);
  ck_assert_str_eq(n0, "counter");
  ck_assert_str_eq(n1, "c1");
}
END_TEST

/* T4: one object loaded as two instances: separate config and state. */
START_TEST(two_instances_separate_state) {
  load_counter("c1", "tag=a");
  load_counter("c2", "tag=b");
  const char *name = NULL;
  ck_assert_int_eq(uvp_host_plugin_name(fx.host, 0, &name), 0);
  ck_assert_str_eq(name, "c1");
  ck_assert_int_eq(uvp_host_plugin_name(fx.host, 1, &name), 0);
  ck_assert_str_eq(name, "c2");
  ck_assert_int_eq(uvp_host_plugin_name(fx.host, 2, &name), UVP_ENOENT);
  static uvt_rec rec;
  uvt_rec_init(&rec);
  uvp_topic in = uvt_topic(&fx, "counter.in");
  uvp_topic cmd = uvt_topic(&fx, "counter.cmd");
  uvt_rec_subscribe(&fx, &rec, "counter.out");
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(uvp_host_publish(fx.host, in, "x", 1), 0);
  ck_assert_int_eq(uvp_host_publish(fx.host, cmd, "get", 3), 0);
  ck_assert(uvt_run_until_int(&fx, &rec.n, 2));
  uvt_rec_is(&rec, 0, "a:3"); /* D1: subscribers in load order */
  uvt_rec_is(&rec, 1, "b:3");
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&fx, "c1", &st), 0);
  ck_assert_int_eq(st.state, UVP_PLUGIN_RUNNING);
  ck_assert_uint_eq(st.registrations, 2);
  ck_assert_uint_eq(st.events, 4);
  ck_assert_uint_eq(st.calls, 4);
  ck_assert_uint_eq(st.published, 1);
  ck_assert_uint_eq(st.errors, 0);
  ck_assert_int_eq(uvp_host_unload(fx.host, "c1"), 0);
  ck_assert_int_eq(uvt_stats(&fx, "c1", &st), UVP_ENOENT);
  ck_assert_int_eq(uvp_host_publish(fx.host, in, "x", 1), 0);
  ck_assert_int_eq(uvp_host_publish(fx.host, in, "x", 1), 0);
  ck_assert_int_eq(uvp_host_publish(fx.host, cmd, "get", 3), 0);
  ck_assert(uvt_run_until_int(&fx, &rec.n, 4));
  uvt_run_turns(&fx, 5);
  ck_assert_int_eq(rec.n, 4);
  uvt_rec_is(&rec, 2, "stopping"); /* c1's on_stop, queued first */
  uvt_rec_is(&rec, 3, "b:5");
  ck_assert_int_eq(uvp_host_plugin_name(fx.host, 0, &name), 0);
  ck_assert_str_eq(name, "c2");
}
END_TEST

/* F3: stats need a size; a smaller (older) struct gets only the fields
 * that fit and nothing past its size is written. */
START_TEST(stats_size_negotiation) {
  load_counter("c1", "");
  uvp_plugin_stats st;
  memset(&st, 0x5A, sizeof st);
  st.size = 0;
  ck_assert_int_eq(uvp_host_plugin_stats(fx.host, "c1", &st), UVP_EINVAL);
  ck_assert_int_eq(uvp_host_plugin_stats(fx.host, "c1", NULL), UVP_EINVAL);
  st.size = offsetof(uvp_plugin_stats, errors);
  ck_assert_int_eq(uvp_host_plugin_stats(fx.host, "c1", &st), 0);
  ck_assert_int_eq(st.state, UVP_PLUGIN_RUNNING);
  ck_assert_uint_eq(st.calls, 0);
  ck_assert_uint_eq(st.errors, 0x5A5A5A5A5A5A5A5Aull); /* past its size */
  ck_assert_uint_eq(st.registrations, 0x5A5A5A5Au);
  ck_assert_int_eq(uvt_stats(&fx, "c1", &st), 0);
  ck_assert_uint_eq(st.size, sizeof st);
  ck_assert_uint_eq(st.registrations, 2);
  ck_assert_uint_eq(st.errors, 0);
}
END_TEST

/* -- init and start failures (A9) --------------------------------------- */

/* A9: on_init registers a subscription and a timer, then fails: the load
 * is UVP_EINIT, both destroys ran before it returned, on_unload was not
 * called, no callback ran, the failure is logged with the file, nothing
 * stays loaded, and (valgrind) nothing leaks. */
START_TEST(init_fail_leaves_nothing) {
  const char *path = PLUGIN("init_fail");
  for (int round = 0; round < 2; round++) {
    int lines = fx.log.n;
    ck_assert_int_eq(uvp_host_load(fx.host, path, NULL, "", NULL), UVP_EINIT);
    ck_assert_int_eq(uvt_log_count(&fx.log, lines, path), 1);
    /* A10: not unload-safe, so still mapped and its counters readable */
    ck_assert_uint_eq(uvt_sym_u64(path, "uvp_initfail_destroyed"),
                      2 * (round + 1));
    ck_assert_uint_eq(uvt_sym_u64(path, "uvp_initfail_unloaded"), 0);
    const char *name;
    ck_assert_int_eq(uvp_host_plugin_name(fx.host, 0, &name), UVP_ENOENT);
    uvp_plugin_stats st;
    ck_assert_int_eq(uvt_stats(&fx, "init_fail", &st), UVP_ENOENT);
  }
  /* its topic still exists (topics live as long as the host); publishing
   * reaches nobody, and its 0 ms timer never fires */
  ck_assert_int_eq(uvp_host_publish(fx.host, uvt_topic(&fx, "if.in"), "x", 1),
                   0);
  uvt_run_turns(&fx, 10);
  ck_assert_uint_eq(uvt_sym_u64(path, "uvp_initfail_calls"), 0);
  ck_assert_uint_eq(uvt_sym_u64(path, "uvp_initfail_destroyed"), 4);
}
END_TEST

/* A9: on_start fails: UVP_EINIT; on_stop is not called, on_unload is, and
 * the subscription made in on_init is destroyed. */
START_TEST(start_fail_unloads) {
  const char *path = PLUGIN("start_fail");
  int lines = fx.log.n;
  ck_assert_int_eq(uvp_host_load(fx.host, path, NULL, "", NULL), UVP_EINIT);
  ck_assert_int_eq(uvt_log_count(&fx.log, lines, path), 1);
  ck_assert_uint_eq(uvt_sym_u64(path, "uvp_startfail_destroyed"), 1);
  ck_assert_uint_eq(uvt_sym_u64(path, "uvp_startfail_unloaded"), 1);
  ck_assert_uint_eq(uvt_sym_u64(path, "uvp_startfail_stopped"), 0);
  const char *name;
  ck_assert_int_eq(uvp_host_plugin_name(fx.host, 0, &name), UVP_ENOENT);
}
END_TEST

/* -- unload (S1, S2, S3, A10) ------------------------------------------- */

/* S1: on_stop, then registrations refused with UVP_ECLOSED (publish still
 * works), every destroy, queued deliveries dropped, then on_unload. */
START_TEST(unload_order) {
  load_counter("c1", "tag=a");
  static uvt_rec rec;
  uvt_rec_init(&rec);
  uvt_rec_subscribe(&fx, &rec, "counter.out");
  counter_trace_reset();
  uint64_t events = counter_u64("uvp_counter_events");
  uvp_topic in = uvt_topic(&fx, "counter.in");
  ck_assert_int_eq(uvp_host_publish(fx.host, in, "x", 1), 0);
  ck_assert_int_eq(uvp_host_publish(fx.host, in, "x", 1), 0);
  ck_assert_int_eq(uvp_host_unload(fx.host, "c1"), 0);
  ck_assert_str_eq(counter_trace(),
                   "stop:a sub=-4004 pub=0,destroy:a,destroy:a,unload:a");
  ck_assert_int_eq(uvp_host_unload(fx.host, "c1"), UVP_ENOENT);
  ck_assert(uvt_run_until_int(&fx, &rec.n, 1));
  uvt_run_turns(&fx, 5);
  ck_assert_uint_eq(counter_u64("uvp_counter_events"), events); /* dropped */
  uvt_rec_is(&rec, 0, "stopping"); /* published from on_stop */
  /* A10: the default object stays mapped after unload */
  ck_assert(uvt_is_mapped(PLUGIN("counter_plugin")));
}
END_TEST

static int unload_c1_calls, unload_c1_rc = 1;
static int unload_c1(uvp_ctx *ctx, const uvp_event *ev, void *ud) {
  (void)ctx, (void)ev, (void)ud;
  unload_c1_calls++;
  unload_c1_rc = uvp_host_unload(fx.host, "c1");
  return 0;
}

/* S1, L3: the embedder, first subscriber of counter.in, unloads c1 while
 * an event is in flight: c1's pending delivery of it, and of the next
 * queued one, is dropped; c2 (later in the list) still gets both (F6). */
START_TEST(unload_during_dispatch) {
  uvp_id id;
  unload_c1_calls = 0;
  ck_assert_int_eq(fx.api->subscribe(fx.ctx, uvt_topic(&fx, "counter.in"),
                                     unload_c1, NULL, NULL, &id),
                   0);
  load_counter("c1", "tag=a");
  load_counter("c2", "tag=b");
  counter_trace_reset();
  uint64_t events = counter_u64("uvp_counter_events");
  uvp_topic in = uvt_topic(&fx, "counter.in");
  ck_assert_int_eq(uvp_host_publish(fx.host, in, "1", 1), 0);
  ck_assert_int_eq(uvp_host_publish(fx.host, in, "2", 1), 0);
  ck_assert(uvt_run_until_int(&fx, &unload_c1_calls, 2));
  uvt_run_turns(&fx, 5);
  ck_assert_int_eq(unload_c1_rc, UVP_ENOENT); /* 2nd call: already gone */
  ck_assert_uint_eq(counter_u64("uvp_counter_events"), events + 2);
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&fx, "c2", &st), 0);
  ck_assert_uint_eq(st.events, 2);
  ck_assert_int_eq(uvt_stats(&fx, "c1", &st), UVP_ENOENT);
  ck_assert_str_eq(counter_trace(),
                   "stop:a sub=-4004 pub=0,destroy:a,destroy:a,unload:a");
}
END_TEST

/* S2: host close unloads every plugin, newest first, each in S1 order. */
START_TEST(close_unloads_newest_first) {
  load_counter("c1", "tag=a");
  load_counter("c2", "tag=b");
  load_counter("c3", "tag=c");
  counter_trace_reset();
  uint64_t unloaded = counter_u64("uvp_counter_unloaded");
  uvt_fx_close_host(&fx);
  ck_assert_uint_eq(counter_u64("uvp_counter_unloaded"), unloaded + 3);
  const char *t = counter_trace();
  const char *c = strstr(t, "unload:c"), *b = strstr(t, "unload:b"),
             *a = strstr(t, "unload:a");
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_nonnull(b);
  ck_assert_ptr_nonnull(c);
  ck_assert(c < b && b < a);
  ck_assert_ptr_nonnull(strstr(t, "stop:c sub=-4004"));
  ck_assert(strstr(t, "destroy:c") < c);
}
END_TEST

typedef struct hook_arg {
  uvp_host *host;
  int rc;
  int calls;
} hook_arg;

static void unload_hook(void *arg) {
  hook_arg *h = arg;
  h->calls++;
  h->rc = uvp_host_unload(h->host, "c1");
}

/* S3: unloading a plugin from inside one of its own callbacks (the
 * embedder's hook runs under the plugin's "hook" command): uvp_host_unload
 * returns 0, nothing is stopped or destroyed under the callback, and the
 * unload finishes right after it returns. */
START_TEST(unload_inside_own_callback) {
  static hook_arg ha;
  memset(&ha, 0, sizeof ha);
  ha.host = fx.host;
  char config[128];
  snprintf(config, sizeof config, "tag=a hook=%llx arg=%llx",
           (unsigned long long)(uintptr_t)unload_hook,
           (unsigned long long)(uintptr_t)&ha);
  load_counter("c1", config);
  counter_trace_reset();
  uint64_t destroyed = counter_u64("uvp_counter_destroyed");
  uint64_t unloaded = counter_u64("uvp_counter_unloaded");
  ck_assert_int_eq(
      uvp_host_publish(fx.host, uvt_topic(&fx, "counter.cmd"), "hook", 4), 0);
  ck_assert(uvt_run_until_int(&fx, &ha.calls, 1));
  ck_assert_int_eq(ha.rc, 0);
  char want[256];
  snprintf(want, sizeof want,
           "hook-begin:a,hook-end:a destroyed=%llu unloaded=%llu,"
           "stop:a sub=-4004 pub=0,destroy:a,destroy:a,unload:a",
           (unsigned long long)destroyed, (unsigned long long)unloaded);
  ck_assert_str_eq(counter_trace(), want);
  ck_assert_uint_eq(counter_u64("uvp_counter_destroyed"), destroyed + 2);
  ck_assert_uint_eq(counter_u64("uvp_counter_unloaded"), unloaded + 1);
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&fx, "c1", &st), UVP_ENOENT);
}
END_TEST

static int got_bye;
static int bye_cb(uvp_ctx *ctx, const uvp_event *ev, void *ud) {
  (void)ctx, (void)ud;
  ck_assert_uint_eq(ev->len, 3);
  ck_assert_int_eq(memcmp(ev->data, "bye", 3), 0);
  /* L8: delivered from the host's copy after the publisher was unmapped */
  ck_assert(!uvt_is_mapped(PLUGIN("unload_safe")));
  got_bye++;
  return 0;
}

/* A10, L8: an unload-safe object is unmapped at unload: the owned payload
 * it published from on_stop is copied and freed (by its own free_fn)
 * before on_unload, and still delivered. */
START_TEST(unload_safe_unmapped) {
  const char *path = PLUGIN("unload_safe");
  ck_assert(!uvt_is_mapped(path));
  got_bye = 0;
  uvp_id id;
  ck_assert_int_eq(fx.api->subscribe(fx.ctx, uvt_topic(&fx, "us.out"), bye_cb,
                                     NULL, NULL, &id),
                   0);
  ck_assert_int_eq(uvp_host_load(fx.host, path, NULL, "", NULL), 0);
  ck_assert(uvt_is_mapped(path));
  ck_assert_int_eq(uvp_host_unload(fx.host, "unload_safe"), 0);
  ck_assert(!uvt_is_mapped(path)); /* its "bye" is queued as a copy */
  ck_assert(uvt_run_until_int(&fx, &got_bye, 1));
  uvt_run_turns(&fx, 5);
  ck_assert(!uvt_is_mapped(path));
  /* and it loads again from scratch */
  ck_assert_int_eq(uvp_host_load(fx.host, path, NULL, "", NULL), 0);
  ck_assert(uvt_is_mapped(path));
  ck_assert_int_eq(uvp_host_unload(fx.host, "unload_safe"), 0);
  ck_assert(uvt_run_until_int(&fx, &got_bye, 2));
}
END_TEST

/* S2, A10, L8: closing the host while the unload-safe plugin is loaded:
 * its on_stop publishes an owned payload during the close; the host frees
 * it (free_fn is code in the object) before it unmaps the object. A wrong
 * order crashes here or shows up under valgrind/ASan. */
START_TEST(close_with_unload_safe_payload) {
  const char *path = PLUGIN("unload_safe");
  got_bye = 0;
  ck_assert_int_eq(uvp_host_load(fx.host, path, NULL, "", NULL), 0);
  ck_assert(uvt_is_mapped(path));
  uvt_fx_close_host(&fx);
  ck_assert_int_eq(got_bye, 0); /* dropped at close, never delivered */
  ck_assert(!uvt_is_mapped(path));
}
END_TEST

/* A10: the default (not unload-safe) object stays mapped after unload
 * and after host close. */
START_TEST(default_object_stays_mapped) {
  ck_assert_int_eq(uvp_host_load(fx.host, PLUGIN("ref_plugin"), NULL, "", NULL),
                   0);
  ck_assert_int_eq(uvp_host_unload(fx.host, "ref"), 0);
  ck_assert(uvt_is_mapped(PLUGIN("ref_plugin")));
  ck_assert_int_eq(uvp_host_load(fx.host, PLUGIN("ref_plugin"), NULL, "", NULL),
                   0);
  uvt_fx_close_host(&fx);
  ck_assert(uvt_is_mapped(PLUGIN("ref_plugin")));
}
END_TEST

static Suite *loader_suite(void) {
  Suite *s = suite_create("loader");
  TCase *tc = uvt_tcase(s, "refuse");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_loop_test(tc, load_refused, 0,
                      (int)(sizeof refusals / sizeof refusals[0]));
  tcase_add_test(tc, text_file_named_so);
  tcase_add_test(tc, newer_minor_loads);
  tc = uvt_tcase(s, "names");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, duplicate_name);
  tcase_add_test(tc, two_instances_separate_state);
  tcase_add_test(tc, stats_size_negotiation);
  tc = uvt_tcase(s, "init");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, init_fail_leaves_nothing);
  tcase_add_test(tc, start_fail_unloads);
  tc = uvt_tcase(s, "unload");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, unload_order);
  tcase_add_test(tc, unload_during_dispatch);
  tcase_add_test(tc, close_unloads_newest_first);
  tcase_add_test(tc, unload_inside_own_callback);
  tcase_add_test(tc, unload_safe_unmapped);
  tcase_add_test(tc, close_with_unload_safe_payload);
  tcase_add_test(tc, default_object_stays_mapped);
  return s;
}

int main(void) { return uvt_main(loader_suite()); }
