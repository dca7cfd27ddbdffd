/* Shared helpers of the uvplug tests; see uvp_test.h.
 *
 * Loop drivers never sleep: they run uv_run(ONCE) with a 1 ms repeating
 * tick timer, so a turn never blocks longer than that, and they give up
 * after a fixed number of turns so a broken host fails one test instead of
 * hanging until the TCase timeout.
 */
#define _GNU_SOURCE /* RTLD_NOLOAD */
#include "uvp_test.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---------------------------------------------------------------------- */
/* Environment                                                            */
/* ---------------------------------------------------------------------- */

bool uvt_valgrind(void) {
  const char *v = getenv("UVP_VALGRIND");
  return v != NULL && *v != '\0' && strcmp(v, "0") != 0;
}

int uvt_scale(int n) {
  if (!uvt_valgrind()) return n;
  return n / 10 > 0 ? n / 10 : 1;
}

int uvt_timeout(void) { return uvt_valgrind() ? 300 : 10; }

TCase *uvt_tcase(Suite *s, const char *name) {
  TCase *tc = tcase_create(name);
  tcase_set_timeout(tc, uvt_timeout());
  suite_add_tcase(s, tc);
  return tc;
}

int uvt_main(Suite *s) {
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---------------------------------------------------------------------- */
/* Log capture                                                            */
/* ---------------------------------------------------------------------- */

void uvt_log_hook(void *log_data, int level, const char *plugin,
                  const char *msg, size_t len) {
  uvt_log *log = log_data;
  if (getenv("UVT_VERBOSE") != NULL)
    fprintf(stderr, "[log %d] %s: %.*s\n", level, plugin ? plugin : "(null)",
            (int)len, msg ? msg : "");
  if (log->n == UVT_LOG_LINES) {
    log->dropped++;
    return;
  }
  uvt_log_line *line = &log->lines[log->n++];
  uv_thread_t self = uv_thread_self();
  line->on_loop_thread = uv_thread_equal(&self, &log->loop_thread) != 0;
  line->level = level;
  snprintf(line->plugin, sizeof line->plugin, "%s", plugin ? plugin : "");
  size_t n = len < UVT_LOG_LEN - 1 ? len : UVT_LOG_LEN - 1;
  if (msg != NULL && n > 0) memcpy(line->msg, msg, n);
  line->msg[msg != NULL ? n : 0] = '\0';
}

int uvt_log_count(const uvt_log *log, int from, const char *needle) {
  int count = 0;
  for (int i = from; i < log->n; i++)
    if (strstr(log->lines[i].msg, needle) != NULL ||
        strstr(log->lines[i].plugin, needle) != NULL)
      count++;
  return count;
}

int uvt_log_count_from(const uvt_log *log, int from, const char *plugin) {
  int count = 0;
  for (int i = from; i < log->n; i++)
    if (strcmp(log->lines[i].plugin, plugin) == 0) count++;
  return count;
}

int uvt_log_off_thread(const uvt_log *log) {
  int count = 0;
  for (int i = 0; i < log->n; i++)
    if (!log->lines[i].on_loop_thread) count++;
  return count;
}

/* ---------------------------------------------------------------------- */
/* Fixture                                                                */
/* ---------------------------------------------------------------------- */

static void on_tick(uv_timer_t *t) { (void)t; }

void uvt_fx_init(uvt_fx *fx, const uvp_host_options *opts) {
  memset(fx, 0, sizeof *fx);
  fx->log.loop_thread = uv_thread_self();
  ck_assert_int_eq(uv_loop_init(&fx->loop), 0);
  ck_assert_int_eq(uv_timer_init(&fx->loop, &fx->tick), 0);
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  if (opts != NULL) o = *opts;
  o.log = uvt_log_hook;
  o.log_data = &fx->log;
  ck_assert_int_eq(uvp_host_new(&fx->loop, &o, &fx->host), 0);
  ck_assert_ptr_nonnull(fx->host);
  ck_assert_int_eq(uvp_host_ctx(fx->host, &fx->ctx, &fx->api), 0);
  ck_assert_ptr_nonnull(fx->ctx);
  ck_assert_ptr_nonnull(fx->api);
}

static void on_closed(void *data) { ((uvt_fx *)data)->closed++; }

static bool closed_pred(void *arg) { return ((uvt_fx *)arg)->closed != 0; }

void uvt_fx_close_host(uvt_fx *fx) {
  if (fx->host == NULL) return;
  ck_assert_int_eq(uvp_host_close(fx->host, on_closed, fx), 0);
  fx->host = NULL;
  fx->ctx = NULL;
  fx->api = NULL;
  ck_assert_msg(uvt_run_until(fx, closed_pred, fx, 5000),
                "host did not finish closing");
  uvt_run_turns(fx, 2);
  ck_assert_int_eq(fx->closed, 1); /* S2: on_closed exactly once */
}

static void walk_cb(uv_handle_t *h, void *arg) {
  (void)arg;
  fprintf(stderr, "uvt: handle left open: %s\n",
          uv_handle_type_name(uv_handle_get_type(h)));
}

void uvt_fx_close(uvt_fx *fx) {
  uvt_fx_close_host(fx);
  uv_close((uv_handle_t *)&fx->tick, NULL);
  /* Bounded: a handle the host forgot would hang uv_run(DEFAULT). */
  for (int i = 0; i < 100 && uv_run(&fx->loop, UV_RUN_NOWAIT) != 0; i++) {
  }
  int rc = uv_loop_close(&fx->loop);
  if (rc != 0) uv_walk(&fx->loop, walk_cb, NULL);
  ck_assert_int_eq(rc, 0);
  ck_assert_int_eq(uvt_log_off_thread(&fx->log), 0); /* T1 */
}

bool uvt_run_until(uvt_fx *fx, uvt_pred pred, void *arg, int max_turns) {
  if (pred(arg)) return true;
  uv_timer_start(&fx->tick, on_tick, 1, 1);
  bool ok = false;
  for (int i = 0; i < max_turns; i++) {
    uv_run(&fx->loop, UV_RUN_ONCE);
    if (pred(arg)) {
      ok = true;
      break;
    }
  }
  uv_timer_stop(&fx->tick);
  return ok;
}

typedef struct int_want {
  const int *counter;
  int want;
} int_want;

static bool int_pred(void *arg) {
  const int_want *w = arg;
  return *w->counter >= w->want;
}

bool uvt_run_until_int(uvt_fx *fx, const int *counter, int want) {
  int_want w = {counter, want};
  return uvt_run_until(fx, int_pred, &w, 5000);
}

/* The tick keeps the loop alive so each turn polls even when only unref'd
 * handles (the host's async) have work. */
void uvt_run_turns(uvt_fx *fx, int n) {
  uv_timer_start(&fx->tick, on_tick, 1, 1);
  for (int i = 0; i < n; i++) uv_run(&fx->loop, UV_RUN_NOWAIT);
  uv_timer_stop(&fx->tick);
}

uvp_topic uvt_topic(uvt_fx *fx, const char *name) {
  uvp_topic t = 0;
  ck_assert_int_eq(uvp_host_topic(fx->host, name, &t), 0);
  ck_assert_uint_ne(t, 0);
  return t;
}

/* ---------------------------------------------------------------------- */
/* Recorder                                                               */
/* ---------------------------------------------------------------------- */

void uvt_rec_init(uvt_rec *rec) {
  memset(rec, 0, sizeof *rec);
  rec->loop_thread = uv_thread_self();
}

static void check_thread(uvt_rec *rec) {
  uv_thread_t self = uv_thread_self();
  if (!uv_thread_equal(&self, &rec->loop_thread)) rec->off_thread = true;
}

void uvt_rec_push(uvt_rec *rec, uvp_topic topic, const void *data, size_t len) {
  rec->calls++;
  if (rec->n == UVT_REC_MAX) return;
  int i = rec->n++;
  rec->topic[i] = topic;
  rec->len[i] = len;
  size_t n = len < UVT_REC_LEN ? len : UVT_REC_LEN;
  if (n > 0) memcpy(rec->data[i], data, n);
  rec->data[i][n] = '\0';
}

int uvt_rec_cb(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx;
  uvt_rec *rec = user_data;
  check_thread(rec);
  if (++rec->depth > rec->max_depth) rec->max_depth = rec->depth;
  uvt_rec_push(rec, ev->topic, ev->data, ev->len);
  rec->depth--;
  return 0;
}

uvp_id uvt_rec_subscribe(uvt_fx *fx, uvt_rec *rec, const char *topic) {
  uvp_id id = 0;
  ck_assert_int_eq(fx->api->subscribe(fx->ctx, uvt_topic(fx, topic), uvt_rec_cb,
                                      rec, NULL, &id),
                   0);
  return id;
}

void uvt_rec_destroy(void *user_data) {
  uvt_rec *rec = user_data;
  check_thread(rec);
  rec->destroys++;
}

/* ---------------------------------------------------------------------- */
/* Plugins                                                                */
/* ---------------------------------------------------------------------- */

const char *uvt_path(const char *dir, const char *name) {
  static char bufs[8][4096];
  static int next;
  char *buf = bufs[next++ % 8];
  snprintf(buf, sizeof bufs[0], "%s/%s", dir, name);
  return buf;
}

/* sym of the already-mapped object path. The reference RTLD_NOLOAD takes
 * is dropped at once: the object stays mapped for its plugin. */
static void *mapped_sym(const char *path, const char *sym) {
  void *dl = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
  ck_assert_msg(dl != NULL, "%s is not mapped: %s", path, dlerror());
  void *p = dlsym(dl, sym);
  ck_assert_msg(p != NULL, "%s lacks %s", path, sym);
  dlclose(dl);
  return p;
}

uint64_t uvt_sym_u64(const char *path, const char *sym) {
  uint64_t (*fn)(void);
  *(void **)&fn = mapped_sym(path, sym);
  return fn();
}

const char *uvt_sym_str(const char *path, const char *sym) {
  const char *(*fn)(void);
  *(void **)&fn = mapped_sym(path, sym);
  return fn();
}

void uvt_copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
  ck_assert_msg(in != NULL, "cannot read %s", from);
  ck_assert_msg(out != NULL, "cannot write %s", to);
  char buf[8192];
  for (size_t n; (n = fread(buf, 1, sizeof buf, in)) > 0;)
    ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
  fclose(in);
  ck_assert_int_eq(fclose(out), 0);
}

bool uvt_is_mapped(const char *path) {
  void *dl = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
  if (dl == NULL) return false;
  dlclose(dl);
  return true;
}

bool uvt_file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

int uvt_stats(uvt_fx *fx, const char *name, uvp_plugin_stats *out) {
  memset(out, 0, sizeof *out);
  out->size = sizeof *out;
  return uvp_host_plugin_stats(fx->host, name, out);
}
