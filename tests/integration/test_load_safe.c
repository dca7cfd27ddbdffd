/* Safe loading (A17, A18): strict modes refuse files and directories that
 * others could have written, each with its own status; a SHA-256 pin maps
 * exactly the bytes it hashed.
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

static void setup(void) {
  snprintf(dir, sizeof dir, "/tmp/uvt-safe-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  ck_assert_int_eq(chmod(dir, 0755), 0);
  uvt_fx_init(&fx, NULL);
  uvt_rec_init(&rec);
}

static void teardown(void) {
  uvt_fx_close(&fx);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}

static int load(const char *path, const char *name, int strict,
                const uint8_t *sha256) {
  uvp_load_options o = UVP_LOAD_OPTIONS_INIT;
  o.strict_modes = strict;
  o.sha256 = sha256;
  return uvp_host_load(fx.host, path, name, "", &o);
}

static void expect(const char *path, int strict, const uint8_t *sha, int want,
                   const char *cause) {
  int lines = fx.log.n;
  int rc = load(path, "p", strict, sha);
  ck_assert_msg(rc == want, "%s: got %s, want %s", cause, uvp_err_name(rc),
                uvp_err_name(want));
  if (want == 0) return;
  int status;
  const char *msg;
  ck_assert_int_eq(uvp_host_load_error(fx.host, &status, &msg), 0);
  ck_assert_int_eq(status, want);
  ck_assert_msg(strstr(msg, cause) != NULL, "'%s' lacks '%s'", msg, cause);
  ck_assert_int_eq(uvt_log_count(&fx.log, lines, cause), 1);
}

/* A17: a file writable by group or others is UVP_EFILEMODE with
 * strict_modes, and loads without it. */
START_TEST(strict_file_mode) {
  const char *path = uvt_path(dir, "p.so");
  uvt_copy_file(PLUGIN("newer_minor"), path);
  ck_assert_int_eq(chmod(path, 0664), 0);
  expect(path, 1, NULL, UVP_EFILEMODE, "mode 0664: writable by group");
  ck_assert_int_eq(chmod(path, 0646), 0);
  expect(path, 1, NULL, UVP_EFILEMODE, "mode 0646: writable by group");
  expect(path, 0, NULL, 0, "strict_modes off");
}
END_TEST

/* A17: a directory on the path writable by others is UVP_EDIRMODE, unless
 * it is sticky and the entry below it is the user's or root's (/tmp). */
START_TEST(strict_directory_mode) {
  char sub[96], path[128];
  snprintf(sub, sizeof sub, "%s/d", dir);
  snprintf(path, sizeof path, "%s/p.so", sub);
  ck_assert_int_eq(mkdir(sub, 0755), 0);
  uvt_copy_file(PLUGIN("newer_minor"), path);
  ck_assert_int_eq(chmod(path, 0644), 0);
  ck_assert_int_eq(chmod(sub, 0777), 0);
  expect(path, 1, NULL, UVP_EDIRMODE, "(mode 0777) is writable by group");
  ck_assert_int_eq(chmod(sub, 01777), 0); /* sticky, file is ours: fine */
  expect(path, 1, NULL, 0, "sticky");
}
END_TEST

/* A17: a file, or a directory, owned by another user than root or the
 * effective user is refused (needs root to make one; as another user the
 * caller's own files pass, which is checked instead). */
START_TEST(strict_owner) {
  const char *path = uvt_path(dir, "p.so");
  uvt_copy_file(PLUGIN("newer_minor"), path);
  ck_assert_int_eq(chmod(path, 0644), 0);
  if (geteuid() != 0) {
    expect(path, 1, NULL, 0, "own file");
    return;
  }
  ck_assert_int_eq(chown(path, 65534, 65534), 0);
  expect(path, 1, NULL, UVP_EFILEOWNER, "owned by uid 65534, not root");
  char sub[96], inner[128];
  snprintf(sub, sizeof sub, "%s/d", dir);
  snprintf(inner, sizeof inner, "%s/p.so", sub);
  ck_assert_int_eq(mkdir(sub, 0755), 0);
  uvt_copy_file(PLUGIN("newer_minor"), inner);
  ck_assert_int_eq(chmod(inner, 0644), 0);
  ck_assert_int_eq(chown(sub, 65534, 65534), 0);
  expect(inner, 1, NULL, UVP_EDIRMODE, "is owned by uid 65534");
}
END_TEST

/* The SHA-256 of path, by sha256sum (not by the code under test). */
static void sha256_of(const char *path, uint8_t out[32]) {
  char cmd[300], line[128];
  snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
  FILE *p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  ck_assert_ptr_nonnull(fgets(line, sizeof line, p));
  ck_assert_int_eq(pclose(p), 0);
  for (int i = 0; i < 32; i++) {
    unsigned v;
    ck_assert_int_eq(sscanf(line + 2 * i, "%2x", &v), 1);
    out[i] = (uint8_t)v;
  }
}

/* A18: a matching pin loads; a wrong one is UVP_EHASH naming both sums. */
START_TEST(pin_match_and_mismatch) {
  const char *path = uvt_path(dir, "p.so");
  uvt_copy_file(PLUGIN("newer_minor"), path);
  uint8_t sum[32];
  sha256_of(path, sum);
  uint8_t wrong[32];
  memcpy(wrong, sum, sizeof wrong);
  wrong[31] ^= 1;
  char want[160];
  snprintf(want, sizeof want, "the pin wants ");
  for (int i = 0; i < 32; i++)
    snprintf(want + strlen(want), 3, "%02x", wrong[i]);
  expect(path, 0, wrong, UVP_EHASH, want);
  expect(path, 1, sum, 0, "pinned");
}
END_TEST

/* A18: what is mapped is the pinned copy: overwriting the file in place
 * after the load changes nothing (an unpinned load would run the new
 * bytes or crash), and the plugin keeps answering. */
START_TEST(pinned_copy_is_what_runs) {
  const char *path = uvt_path(dir, "p.so");
  uvt_copy_file(PLUGIN("newer_minor"), path);
  uint8_t sum[32];
  sha256_of(path, sum);
  ck_assert_int_eq(load(path, "p", 0, sum), 0);
  int fd = open(path, O_WRONLY);
  ck_assert_int_ge(fd, 0);
  static const char zeros[4096];
  struct stat st;
  ck_assert_int_eq(fstat(fd, &st), 0);
  for (off_t off = 0; off < st.st_size; off += (off_t)sizeof zeros)
    ck_assert_int_eq(pwrite(fd, zeros, sizeof zeros, off), sizeof zeros);
  close(fd);
  uvt_rec_subscribe(&fx, &rec, "nm.out");
  ck_assert_int_eq(uvp_host_publish(fx.host, uvt_topic(&fx, "nm.in"), "hi", 2),
                   0);
  ck_assert(uvt_run_until_int(&fx, &rec.n, 1));
  uvt_rec_is(&rec, 0, "hi");
}
END_TEST

/* A14, A18: every pinned load is its own object: two pinned instances of
 * one file do not share static state. */
START_TEST(pinned_instances_do_not_share) {
  const char *path = uvt_path(dir, "p.so");
  uvt_copy_file(PLUGIN("reload_v1"), path);
  uint8_t sum[32];
  sha256_of(path, sum);
  ck_assert_int_eq(load(path, "a", 0, sum), 0);
  ck_assert_int_eq(load(path, "b", 0, sum), 0);
  uvt_rec_subscribe(&fx, &rec, "reload.ver");
  ck_assert_int_eq(
      uvp_host_publish(fx.host, uvt_topic(&fx, "reload.ask"), "?", 1), 0);
  ck_assert(uvt_run_until_int(&fx, &rec.n, 2));
  uvt_rec_is(&rec, 0, "v1 inits=1");
  uvt_rec_is(&rec, 1, "v1 inits=1");
}
END_TEST

static Suite *safe_suite(void) {
  Suite *s = suite_create("load_safe");
  TCase *tc = uvt_tcase(s, "safe");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, strict_file_mode);
  tcase_add_test(tc, strict_directory_mode);
  tcase_add_test(tc, strict_owner);
  tcase_add_test(tc, pin_match_and_mismatch);
  tcase_add_test(tc, pinned_copy_is_what_runs);
  tcase_add_test(tc, pinned_instances_do_not_share);
  return s;
}

int main(void) { return uvt_main(safe_suite()); }
