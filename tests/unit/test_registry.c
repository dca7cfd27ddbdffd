/* Registry: slot allocation, the free list, id packing and lookup (L4, L5).
 * Mirrors src/registry.c; uses the uvp__registry_* internals directly. */
#include <string.h>

#include "uvp-internal.h"
#include "uvp_test.h"

static uvp__registry reg;

static void setup(void) { uvp__registry_init(&reg); }
static void teardown(void) { uvp__registry_free(&reg); }

/* Allocates a slot and makes it a live subscription of owner, as
 * uvp__reg_begin does. */
static uint32_t alloc_as(uint16_t owner) {
  uint32_t idx = UVP__NONE;
  ck_assert_int_eq(uvp__registry_alloc(&reg, &idx), 0);
  uvp__slot *s = uvp__registry_at(&reg, idx);
  s->kind = UVP__SUB;
  s->owner = owner;
  return idx;
}

static uvp_id id_of(uint32_t idx) {
  return uvp__id_make(idx, uvp__registry_at(&reg, idx)->gen);
}

/* Retires a slot (bumps its generation, as cancel does) and frees it. */
static void retire(uint32_t idx) {
  uvp__registry_at(&reg, idx)->gen++;
  uvp__registry_release(&reg, idx);
}

/* -- alloc / release ---------------------------------------------------- */

START_TEST(alloc_sequential) {
  for (uint32_t i = 0; i < 5; i++) {
    uint32_t idx = alloc_as(1);
    ck_assert_uint_eq(idx, i);
    ck_assert_uint_eq(uvp__registry_at(&reg, idx)->gen, 1); /* id never 0 */
  }
  ck_assert_uint_eq(reg.live, 5);
  ck_assert_uint_eq(reg.used, 5);
}
END_TEST

START_TEST(release_then_reuse) {
  uint32_t a = alloc_as(1), b = alloc_as(1), c = alloc_as(1);
  ck_assert_uint_eq(reg.live, 3);
  retire(b);
  ck_assert_uint_eq(reg.live, 2);
  ck_assert_uint_eq(uvp__registry_at(&reg, b)->kind, UVP__FREE);
  uint32_t d = alloc_as(1);
  ck_assert_uint_eq(d, b);                              /* free list */
  ck_assert_uint_eq(uvp__registry_at(&reg, d)->gen, 2); /* new generation */
  ck_assert_uint_eq(reg.used, 3);                       /* no growth */
  retire(a);
  retire(c);
  uint32_t e = alloc_as(1), f = alloc_as(1);
  ck_assert((e == a && f == c) || (e == c && f == a));
  ck_assert_uint_eq(reg.used, 3);
  ck_assert_uint_eq(reg.live, 3);
}
END_TEST

START_TEST(release_clears_slot) {
  uint32_t a = alloc_as(7);
  uvp__slot *s = uvp__registry_at(&reg, a);
  s->user_data = &reg;
  s->flags = UVP__SLOT_CANCELLED;
  retire(a);
  uint32_t b = alloc_as(2);
  ck_assert_uint_eq(b, a);
  ck_assert_ptr_null(s->user_data);
  ck_assert_uint_eq(s->flags, 0);
}
END_TEST

/* Chunks keep slot addresses stable while the table grows, so a callback
 * that registers more never invalidates the slot it runs from. */
START_TEST(growth_keeps_addresses) {
  uint32_t first = alloc_as(1);
  uvp__slot *p = uvp__registry_at(&reg, first);
  uint32_t n = UVP__CHUNK_SLOTS * 2 + 3;
  for (uint32_t i = 1; i < n; i++) ck_assert_uint_eq(alloc_as(1), i);
  ck_assert_ptr_eq(uvp__registry_at(&reg, first), p);
  ck_assert_uint_eq(reg.live, n);
  ck_assert_uint_ge(reg.nchunks, 3);
  /* L4 across chunks: a slot in the third chunk goes stale as well */
  uint32_t far = n - 1;
  uvp_id id = id_of(far);
  retire(far);
  uint32_t out;
  ck_assert_int_eq(uvp__registry_lookup(&reg, id, 1, &out), UVP_ESTALE);
}
END_TEST

/* -- id encoding -------------------------------------------------------- */

static const struct {
  uint32_t idx, gen;
  uvp_id id;
} id_cases[] = {
    {0, 1, 0x0000000100000000ull},
    {5, 7, 0x0000000700000005ull},
    {0xFFFFFFFEu, 1, 0x00000001FFFFFFFEull},
    {1, 0xFFFFFFFFu, 0xFFFFFFFF00000001ull},
};

START_TEST(id_encode) {
  uvp_id id = uvp__id_make(id_cases[_i].idx, id_cases[_i].gen);
  ck_assert_uint_eq(id, id_cases[_i].id);
  ck_assert_uint_eq(uvp__id_slot(id), id_cases[_i].idx);
  ck_assert_uint_eq(uvp__id_gen(id), id_cases[_i].gen);
  ck_assert_uint_ne(id, 0);
}
END_TEST

/* -- lookup ------------------------------------------------------------- */

START_TEST(lookup_live) {
  alloc_as(1);
  uint32_t b = alloc_as(2);
  uint32_t out = UVP__NONE;
  ck_assert_int_eq(uvp__registry_lookup(&reg, id_of(b), 2, &out), 0);
  ck_assert_uint_eq(out, b);
}
END_TEST

/* L4: a cancelled id is stale, and stays stale after its slot is reused;
 * the new id of the reused slot still works. */
START_TEST(lookup_stale_after_cancel_and_reuse) {
  uint32_t a = alloc_as(1);
  uvp_id old = id_of(a);
  retire(a);
  uint32_t out = 77;
  ck_assert_int_eq(uvp__registry_lookup(&reg, old, 1, &out), UVP_ESTALE);
  ck_assert_uint_eq(out, 77); /* out-parameter written only on success */
  uint32_t b = alloc_as(1);
  ck_assert_uint_eq(b, a);
  ck_assert_int_eq(uvp__registry_lookup(&reg, old, 1, &out), UVP_ESTALE);
  ck_assert_int_eq(uvp__registry_lookup(&reg, id_of(b), 1, &out), 0);
  ck_assert_uint_eq(out, b);
  /* stale even when the reused slot now belongs to another owner */
  retire(b);
  uint32_t c = alloc_as(9);
  ck_assert_uint_eq(c, a);
  ck_assert_int_eq(uvp__registry_lookup(&reg, old, 1, &out), UVP_ESTALE);
}
END_TEST

/* L5: ids the caller may not use get UVP_ENOENT, never a slot. */
enum {
  FOREIGN,
  NEVER_ISSUED_IDX,
  FUTURE_GEN,
  GEN_ZERO,
  ZERO,
  ALL_ONES,
  FREE_SLOT_NEXT_GEN,
  N_ENOENT
};
static const char *const enoent_names[] = {"foreign owner",
                                           "never-issued slot",
                                           "future generation",
                                           "generation 0",
                                           "id 0",
                                           "all ones",
                                           "free slot's next generation"};

START_TEST(lookup_enoent) {
  uint32_t a = alloc_as(1);
  uint32_t b = alloc_as(1);
  retire(b); /* b is free now, with generation 2 */
  uvp_id id = 0;
  uint16_t owner = 1;
  switch (_i) {
    case FOREIGN:
      id = id_of(a), owner = 2;
      break;
    case NEVER_ISSUED_IDX:
      id = uvp__id_make(1000, 1);
      break;
    case FUTURE_GEN:
      id = uvp__id_make(a, 2);
      break;
    case GEN_ZERO:
      id = uvp__id_make(a, 0);
      break;
    case ZERO:
      id = 0;
      break;
    case ALL_ONES:
      id = ~(uvp_id)0;
      break;
    case FREE_SLOT_NEXT_GEN:
      id = uvp__id_make(b, 2);
      break;
  }
  uint32_t out = 77;
  ck_assert_msg(uvp__registry_lookup(&reg, id, owner, &out) == UVP_ENOENT, "%s",
                enoent_names[_i]);
  ck_assert_uint_eq(out, 77);
}
END_TEST

/* -- the same rules through the public API ------------------------------ */

static int api_calls;
static int api_cb(uvp_ctx *ctx, const uvp_event *ev, void *ud) {
  (void)ctx, (void)ev, (void)ud;
  api_calls++;
  return 0;
}
static int api_destroys;
static void api_destroy(void *ud) {
  (void)ud;
  api_destroys++;
}

/* L4: an id whose slot was reused by a newer registration is stale; the
 * stale cancel must not touch the newer registration. */
START_TEST(api_stale_after_slot_reuse) {
  static uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  api_calls = api_destroys = 0;
  uvp_topic t = uvt_topic(&fx, "t");
  uvp_id a, b;
  ck_assert_int_eq(fx.api->subscribe(fx.ctx, t, api_cb, NULL, api_destroy, &a),
                   0);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, a), 0);
  ck_assert_int_eq(fx.api->subscribe(fx.ctx, t, api_cb, NULL, api_destroy, &b),
                   0);
  ck_assert_uint_eq(uvp__id_slot(a), uvp__id_slot(b)); /* reused slot */
  ck_assert_uint_ne(a, b);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, a), UVP_ESTALE);
  ck_assert_int_eq(api_destroys, 1);
  ck_assert_int_eq(uvp_host_publish(fx.host, t, "x", 1), 0);
  ck_assert(uvt_run_until_int(&fx, &api_calls, 1));
  ck_assert_int_eq(fx.api->cancel(fx.ctx, b), 0);
  ck_assert_int_eq(api_destroys, 2);
  /* L5 through the API: never issued, garbage, 0 */
  ck_assert_int_eq(fx.api->cancel(fx.ctx, 0), UVP_ENOENT);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, uvp__id_make(4000, 1)), UVP_ENOENT);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, ~(uvp_id)0), UVP_ENOENT);
  uvt_fx_close(&fx);
  ck_assert_int_eq(api_destroys, 2);
}
END_TEST

/* L5: another context's live id is UVP_ENOENT and stays live: a second
 * ctx on the same host stands in for another plugin. */
START_TEST(api_foreign_ctx_enoent) {
  static uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  api_calls = api_destroys = 0;
  uvp_ctx *other = NULL;
  ck_assert_int_eq(uvp__ctx_new(fx.host, "other", &other), 0);
  other->state = UVP__RUNNING;
  uvp_topic t = uvt_topic(&fx, "t");
  uvp_id mine, theirs;
  ck_assert_int_eq(
      fx.api->subscribe(fx.ctx, t, api_cb, NULL, api_destroy, &mine), 0);
  ck_assert_int_eq(
      fx.api->subscribe(other, t, api_cb, NULL, api_destroy, &theirs), 0);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, theirs), UVP_ENOENT);
  ck_assert_int_eq(fx.api->cancel(other, mine), UVP_ENOENT);
  ck_assert_int_eq(api_destroys, 0);
  ck_assert_int_eq(uvp_host_publish(fx.host, t, "x", 1), 0);
  ck_assert(uvt_run_until_int(&fx, &api_calls, 2));
  ck_assert_int_eq(fx.api->cancel(other, theirs), 0);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, mine), 0);
  ck_assert_int_eq(api_destroys, 2);
  other->state = UVP__DEAD; /* as an unloaded plugin: the host frees it */
  uvt_fx_close(&fx);
}
END_TEST

/* L4: ids never come back. A slot churned to its last generation (the
 * hook below stands in for 2^32 - 2 subscribe/cancel rounds on one slot)
 * is retired for good: the first id ever issued on it stays stale and a
 * cancel of it cannot destroy the registration that now lives elsewhere. */
START_TEST(api_generation_never_wraps) {
  static uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  api_calls = api_destroys = 0;
  uvp_topic t = uvt_topic(&fx, "t");
  uvp_id first, late, now;
  ck_assert_int_eq(
      fx.api->subscribe(fx.ctx, t, api_cb, NULL, api_destroy, &first), 0);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, first), 0);
  uint32_t slot = uvp__id_slot(first);
  uvp__registry_at(&fx.host->reg, slot)->gen = UVP__GEN_LAST - 1; /* hook */
  ck_assert_int_eq(
      fx.api->subscribe(fx.ctx, t, api_cb, NULL, api_destroy, &late), 0);
  ck_assert_uint_eq(uvp__id_slot(late), slot); /* LIFO free list */
  ck_assert_uint_eq(uvp__id_gen(late), UVP__GEN_LAST - 1);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, late), 0);
  for (int i = 0; i < 3; i++) { /* more churn never reaches the slot */
    ck_assert_int_eq(
        fx.api->subscribe(fx.ctx, t, api_cb, NULL, api_destroy, &now), 0);
    ck_assert_uint_ne(uvp__id_slot(now), slot);
    ck_assert_int_eq(fx.api->cancel(fx.ctx, now), 0);
  }
  ck_assert_int_eq(
      fx.api->subscribe(fx.ctx, t, api_cb, NULL, api_destroy, &now), 0);
  ck_assert_int_eq(api_destroys, 5);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, first), UVP_ESTALE);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, late), UVP_ESTALE);
  ck_assert_int_eq(api_destroys, 5); /* `now` untouched */
  ck_assert_uint_eq(fx.host->reg.exhausted, 1);
  ck_assert_int_eq(uvp_host_publish(fx.host, t, "x", 1), 0);
  ck_assert(uvt_run_until_int(&fx, &api_calls, 1));
  uvt_fx_close(&fx);
  ck_assert_int_eq(api_destroys, 6);
}
END_TEST

/* L4, L5: a cancelled id is UVP_ESTALE whichever plugin presents it (the
 * host cannot know a slot's past owners, and a stale id names nothing);
 * only another plugin's live id is UVP_ENOENT. */
START_TEST(api_foreign_stale_is_estale) {
  static uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  api_destroys = 0;
  uvp_ctx *other = NULL;
  ck_assert_int_eq(uvp__ctx_new(fx.host, "other", &other), 0);
  other->state = UVP__RUNNING;
  uvp_topic t = uvt_topic(&fx, "t");
  uvp_id theirs;
  ck_assert_int_eq(
      fx.api->subscribe(other, t, api_cb, NULL, api_destroy, &theirs), 0);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, theirs), UVP_ENOENT); /* L5 */
  ck_assert_int_eq(fx.api->cancel(other, theirs), 0);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, theirs), UVP_ESTALE); /* L4 */
  ck_assert_int_eq(api_destroys, 1);
  other->state = UVP__DEAD; /* as an unloaded plugin: the host frees it */
  uvt_fx_close(&fx);
}
END_TEST

static Suite *registry_suite(void) {
  Suite *s = suite_create("registry");
  TCase *tc = uvt_tcase(s, "alloc");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, alloc_sequential);
  tcase_add_test(tc, release_then_reuse);
  tcase_add_test(tc, release_clears_slot);
  tcase_add_test(tc, growth_keeps_addresses);
  tc = uvt_tcase(s, "id");
  tcase_add_loop_test(tc, id_encode, 0,
                      (int)(sizeof id_cases / sizeof id_cases[0]));
  tc = uvt_tcase(s, "lookup");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, lookup_live);
  tcase_add_test(tc, lookup_stale_after_cancel_and_reuse);
  tcase_add_loop_test(tc, lookup_enoent, 0, N_ENOENT);
  tc = uvt_tcase(s, "api");
  tcase_add_test(tc, api_stale_after_slot_reuse);
  tcase_add_test(tc, api_foreign_ctx_enoent);
  tcase_add_test(tc, api_generation_never_wraps);
  tcase_add_test(tc, api_foreign_stale_is_estale);
  return s;
}

int main(void) { return uvt_main(registry_suite()); }
