/* Status codes: the UVP_ERRNO_MAP table, uvp_strerror, uvp_err_name and
 * uvp_version_string. Mirrors src/errno.c. */
#include <limits.h>
#include <string.h>

#include "uvp_test.h"

typedef struct code_case {
  int value;
  const char *name;
  const char *text;
} code_case;

#define CODE_CASE(name, value, text) {UVP_##name, "UVP_" #name, text},
static const code_case codes[] = {UVP_ERRNO_MAP(CODE_CASE)};
#undef CODE_CASE
static const int ncodes = (int)(sizeof codes / sizeof codes[0]);

/* Codes no table line produces; each must get the fallbacks. */
static const int unknown_codes[] = {1,     -1,    -3,    12345,   -3999,
                                    -4000, -4099, -5000, INT_MIN, INT_MAX};

START_TEST(code_is_negative) { ck_assert_int_lt(codes[_i].value, 0); }
END_TEST

START_TEST(code_is_distinct) {
  for (int j = 0; j < ncodes; j++)
    if (j != _i) ck_assert_int_ne(codes[_i].value, codes[j].value);
}
END_TEST

/* uvplug's own codes stay in the reserved range -4000..-4099; the others
 * are -errno values, far below that range. */
START_TEST(code_range) {
  int v = codes[_i].value;
  ck_assert(v > -4000 ? v >= -200 : (v <= -4000 && v >= -4099));
}
END_TEST

START_TEST(strerror_names_code) {
  const char *s = uvp_strerror(codes[_i].value);
  ck_assert_ptr_nonnull(s);
  ck_assert_str_eq(s, codes[_i].text);
  ck_assert_str_ne(s, "unknown error");
}
END_TEST

START_TEST(err_name_names_code) {
  const char *s = uvp_err_name(codes[_i].value);
  ck_assert_ptr_nonnull(s);
  ck_assert_str_eq(s, codes[_i].name);
}
END_TEST

START_TEST(unknown_code_fallbacks) {
  const char *s = uvp_strerror(unknown_codes[_i]);
  ck_assert_ptr_nonnull(s);
  ck_assert_str_eq(s, "unknown error");
  s = uvp_err_name(unknown_codes[_i]);
  ck_assert_ptr_nonnull(s);
  ck_assert_str_eq(s, "UVP_UNKNOWN");
}
END_TEST

START_TEST(ok_is_zero) {
  ck_assert_int_eq(UVP_OK, 0);
  ck_assert_ptr_nonnull(uvp_strerror(0));
  ck_assert_str_eq(uvp_err_name(0), "UVP_OK");
}
END_TEST

/* The codes docs/contract.md and the headers name, pinned to their values
 * because the Rust SDK and plugins compare against the numbers. */
START_TEST(pinned_values) {
  ck_assert_int_eq(UVP_EINVAL, -EINVAL);
  ck_assert_int_eq(UVP_EAGAIN, -EAGAIN);
  ck_assert_int_eq(UVP_ENOENT, -ENOENT);
  ck_assert_int_eq(UVP_EWRONGTHREAD, -4001);
  ck_assert_int_eq(UVP_EPANIC, -4002);
  ck_assert_int_eq(UVP_ESTALE, -4003);
  ck_assert_int_eq(UVP_ECLOSED, -4004);
  ck_assert_int_eq(UVP_EINIT, -4005);
}
END_TEST

START_TEST(version_string) {
  ck_assert_str_eq(uvp_version_string(), UVP_VERSION_STRING);
}
END_TEST

static Suite *errno_suite(void) {
  Suite *s = suite_create("errno");
  TCase *tc = uvt_tcase(s, "codes");
  tcase_add_loop_test(tc, code_is_negative, 0, ncodes);
  tcase_add_loop_test(tc, code_is_distinct, 0, ncodes);
  tcase_add_loop_test(tc, code_range, 0, ncodes);
  tcase_add_test(tc, ok_is_zero);
  tcase_add_test(tc, pinned_values);
  tc = uvt_tcase(s, "strerror");
  tcase_add_loop_test(tc, strerror_names_code, 0, ncodes);
  tcase_add_loop_test(tc, err_name_names_code, 0, ncodes);
  tcase_add_loop_test(tc, unknown_code_fallbacks, 0,
                      (int)(sizeof unknown_codes / sizeof unknown_codes[0]));
  tc = uvt_tcase(s, "version");
  tcase_add_test(tc, version_string);
  return s;
}

int main(void) { return uvt_main(errno_suite()); }
