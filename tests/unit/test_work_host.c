/* The embedder's own work (queued through uvp_host_ctx) at host close: close
 * waits for it like a plugin's (W1, L1, S2), at most work_drain_ms, then
 * abandons it (W6).
 *
 * UVP_TEST_LABELS: tsan
 */
#include <string.h>

#include "uvp-internal.h"
#include "uvp_test.h"

typedef struct gate_item {
  uv_sem_t gate;
  atomic_int started;
  int done_calls, done_status, destroy_calls;
  char trace[128];
} gate_item;

static void note(gate_item *g, const char *what) {
  size_t n = strlen(g->trace);
  snprintf(g->trace + n, sizeof g->trace - n, "%s%s", n ? "," : "", what);
}

static void gate_work(void *arg) {
  gate_item *g = arg;
  atomic_store(&g->started, 1);
  uv_sem_wait(&g->gate);
}

static int gate_done(uvp_ctx *ctx, int status, void *arg) {
  (void)ctx;
  gate_item *g = arg;
  g->done_calls++;
  g->done_status = status;
  note(g, status == UVP_ECANCELED ? "done:ECANCELED" : "done:0");
  return 0;
}

static void gate_destroy(void *arg) {
  gate_item *g = arg;
  g->destroy_calls++;
  note(g, "destroy");
}

static gate_item *closed_item;
static void on_closed(void *data) {
  (void)data;
  note(closed_item, "closed");
}

static bool started(void *arg) {
  return atomic_load(&((gate_item *)arg)->started) != 0;
}

static bool closed(void *arg) { return strstr(arg, "closed") != NULL; }

static void start_gate(uvt_fx *fx, gate_item *g) {
  memset(g, 0, sizeof *g);
  ck_assert_int_eq(uv_sem_init(&g->gate, 0), 0);
  closed_item = g;
  uvp_id id;
  ck_assert_int_eq(
      fx->api->work_queue(fx->ctx, gate_work, gate_done, g, gate_destroy, &id),
      0);
  ck_assert(uvt_run_until(fx, started, g, 5000));
}

/* W1, L1, S2: close with the embedder's work running waits for it: its
 * done gets UVP_ECANCELED, then destroy, then on_closed. */
START_TEST(close_waits_for_host_work) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  gate_item g;
  start_gate(&fx, &g);
  ck_assert_int_eq(uvp_host_close(fx.host, on_closed, NULL), 0);
  fx.host = NULL;
  uvt_run_turns(&fx, 20);
  ck_assert_str_eq(g.trace, ""); /* still running: nothing ended */
  uv_sem_post(&g.gate);
  ck_assert(uvt_run_until(&fx, closed, g.trace, 5000));
  ck_assert_str_eq(g.trace, "done:ECANCELED,destroy,closed");
  ck_assert_int_eq(g.done_calls, 1);
  ck_assert_int_eq(g.destroy_calls, 1);
  uvt_fx_close(&fx); /* uv_loop_close == 0 */
  uv_sem_destroy(&g.gate);
}
END_TEST

/* W6: a hung embedder work item does not hold the close forever: after
 * work_drain_ms the host logs it, abandons it (no done, no destroy) and
 * calls on_closed; until the function returns uv_loop_close is UV_EBUSY,
 * then the loop closes cleanly. */
START_TEST(close_abandons_hung_host_work) {
  uvt_fx fx;
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.work_drain_ms = 50;
  uvt_fx_init(&fx, &o);
  gate_item g;
  start_gate(&fx, &g);
  ck_assert_int_eq(uvp_host_close(fx.host, on_closed, NULL), 0);
  fx.host = NULL;
  ck_assert_msg(uvt_run_until(&fx, closed, g.trace, 5000),
                "close waited for the hung work");
  ck_assert_str_eq(g.trace, "closed");
  ck_assert_int_eq(uvt_log_count(&fx.log, 0, "abandoned"), 1);
  ck_assert_int_eq(uvt_log_count_from(&fx.log, 0, "host"), 1);
  uv_timer_stop(&fx.tick);
  ck_assert_int_eq(uv_loop_close(&fx.loop), UV_EBUSY);
  uv_sem_post(&g.gate);
  uv_run(&fx.loop, UV_RUN_DEFAULT);    /* until libuv hands the record back */
  ck_assert_str_eq(g.trace, "closed"); /* never done or destroy */
  uvt_fx_close(&fx);
  uv_sem_destroy(&g.gate);
}
END_TEST

static Suite *work_host_suite(void) {
  Suite *s = suite_create("work_host");
  TCase *tc = uvt_tcase(s, "close");
  tcase_add_test(tc, close_waits_for_host_work);
  tcase_add_test(tc, close_abandons_hung_host_work);
  return s;
}

int main(void) { return uvt_main(work_host_suite()); }
