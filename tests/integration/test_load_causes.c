/* Why a load is refused (A1, A2, A11, A12, A15, A16; B11 on hand-made
 * inputs, fuzz_desc and fuzz_elf on any): one status per cause through
 * uvp_host_load, one log line naming the file, the same text from
 * uvp_host_load_error; special files refused without blocking; paths
 * without '/' never searched on the library path; log lines escaped and
 * cut in the middle.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uvp_test.h"

#define PLUGIN(stem) UVP_TEST_PLUGIN_DIR "/" stem ".so"

static uvt_fx fx;
static char dir[64];

static const char *tmp_path(const char *name) { return uvt_path(dir, name); }

/* A copy of a good plugin with len bytes at offset replaced. */
static void patched_copy(const char *to, long offset, const void *bytes,
                         size_t len) {
  uvt_copy_file(PLUGIN("newer_minor"), to);
  int fd = open(to, O_WRONLY);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(pwrite(fd, bytes, len, offset), (ssize_t)len);
  close(fd);
}

static void setup(void) {
  snprintf(dir, sizeof dir, "/tmp/uvt-causes-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  uvt_fx_init(&fx, NULL);
}

static void teardown(void) {
  uvt_fx_close(&fx);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}

/* The machine this test runs on, and one it does not. */
static uint16_t own_machine(void) {
  Dl_info info;
  ck_assert_int_ne(dladdr((void *)own_machine, &info), 0);
  return ((const ElfW(Ehdr) *)info.dli_fbase)->e_machine;
}

enum kind {
  MISSING,
  DIRECTORY,
  FIFO,
  CHARDEV,
  TEXT,
  FOREIGN,
  CLASS32,
  RELOC,
  EXEC,
  UNRESOLVED,
  DEP_DESC,
  EMPTY,
  BARE_LIBNAME,
  PIE,
};

/* Makes the file of kind k; returns the path to load. */
static const char *make(enum kind k) {
  switch (k) {
    case MISSING:
      return tmp_path("missing.so");
    case DIRECTORY:
      return dir;
    case FIFO:
      ck_assert_int_eq(mkfifo(tmp_path("fifo.so"), 0644), 0);
      return tmp_path("fifo.so");
    case CHARDEV:
      return "/dev/null";
    case TEXT: {
      FILE *f = fopen(tmp_path("text.so"), "w");
      ck_assert_ptr_nonnull(f);
      fputs("not an ELF object\n", f);
      fclose(f);
      return tmp_path("text.so");
    }
    case FOREIGN: {
      uint16_t m = own_machine() == EM_AARCH64 ? EM_X86_64 : EM_AARCH64;
      patched_copy(tmp_path("foreign.so"), offsetof(ElfW(Ehdr), e_machine), &m,
                   sizeof m);
      return tmp_path("foreign.so");
    }
    case CLASS32: {
      unsigned char c = ELFCLASS32;
      patched_copy(tmp_path("class32.so"), EI_CLASS, &c, 1);
      return tmp_path("class32.so");
    }
    case RELOC:
    case EXEC: {
      uint16_t t = k == RELOC ? ET_REL : ET_EXEC;
      patched_copy(tmp_path("type.so"), offsetof(ElfW(Ehdr), e_type), &t,
                   sizeof t);
      return tmp_path("type.so");
    }
    case UNRESOLVED:
      return PLUGIN("unresolved");
    case DEP_DESC:
      return PLUGIN("dep_desc");
    case EMPTY:
      return "";
    case BARE_LIBNAME:
      ck_assert_int_eq(chdir(dir), 0);
      return "libc.so.6";
    case PIE:
      return "/proc/self/exe"; /* this test: an executable, PIE or not */
  }
  return NULL;
}

static const struct {
  enum kind kind;
  int want;
  const char *cause; /* in the log line and uvp_host_load_error */
  const char *rule;
} causes[] = {
    {MISSING, UVP_ENOTFOUND, "No such file or directory", "A11 missing"},
    {DIRECTORY, UVP_ENOTREG, "a directory, not a regular file", "A11 dir"},
    {TEXT, UVP_ENOTELF, "not an ELF file", "A11 text"},
    {FOREIGN, UVP_EMACHINE, "built for ", "A11 machine"},
    {CLASS32, UVP_EMACHINE, "built as 32-bit ELF, this host is 64-bit",
     "A11 class"},
    {RELOC, UVP_ENOTDYN, "a relocatable object (.o), not a shared object",
     "A11 ET_REL"},
    {EXEC, UVP_ENOTDYN, "an executable, not a shared object", "A11 ET_EXEC"},
    {PIE, UVP_ENOTDYN, "an executable, not a shared object", "A11 PIE"},
    {UNRESOLVED, UVP_ENOTSO, "undefined symbol: uvt_no_such_function",
     "A1 unresolved"},
    {DEP_DESC, UVP_ENOSYM, "newer_minor.so has it", "A2 dependency"},
    {EMPTY, UVP_EINVAL, "invalid argument", "A12 empty path"},
    {BARE_LIBNAME, UVP_ENOTFOUND, "No such file or directory",
     "A12 no library search"},
};

static void expect_refused(const char *path, int want, const char *cause,
                           const char *rule) {
  unsetenv("UVT_A8_RAN");
  int lines = fx.log.n;
  int rc = uvp_host_load(fx.host, path, NULL, "", NULL);
  ck_assert_msg(rc == want, "%s: got %s (%d), want %s", rule, uvp_err_name(rc),
                rc, uvp_err_name(want));
  int status = 1;
  const char *msg = NULL;
  ck_assert_int_eq(uvp_host_load_error(fx.host, &status, &msg), 0); /* A15 */
  ck_assert_int_eq(status, want);
  ck_assert_msg(strstr(msg, cause) != NULL, "%s: '%s' lacks '%s'", rule, msg,
                cause);
  if (path[0] != '\0') {
    ck_assert_msg(strncmp(msg, path, strlen(path)) == 0, "%s: '%s'", rule, msg);
    ck_assert_int_eq(uvt_log_count(&fx.log, lines, path), 1);
    ck_assert_int_eq(uvt_log_count(&fx.log, lines, cause), 1);
  }
  const char *name;
  ck_assert_int_eq(uvp_host_plugin_name(fx.host, 0, &name), UVP_ENOENT);
}

/* A1, A2, A11, A12, A15: each cause has its own status, its own log line
 * naming the file and cause, and uvp_host_load_error returns the same. */
START_TEST(refused_per_cause) {
  const char *path = make(causes[_i].kind);
  expect_refused(path, causes[_i].want, causes[_i].cause, causes[_i].rule);
}
END_TEST

/* A11: the machine message names both machines. */
START_TEST(foreign_machine_named) {
  const char *path = make(FOREIGN);
  char want[96];
  snprintf(want, sizeof want, "built for %s, this host is %s",
           own_machine() == EM_AARCH64 ? "x86_64" : "aarch64",
           own_machine() == EM_AARCH64 ? "aarch64" : "x86_64");
  expect_refused(path, UVP_EMACHINE, want, "A11 machine names");
}
END_TEST

/* A11: a FIFO and a character device are refused at once: the test's
 * short TCase timeout fails it if the loop thread blocks (issue 9: dlopen
 * of a FIFO waited for a writer forever). */
START_TEST(special_files_do_not_block) {
  expect_refused(make(FIFO), UVP_ENOTREG, "a FIFO, not a regular file",
                 "A11 FIFO");
  expect_refused(make(CHARDEV), UVP_ENOTREG,
                 "a character device, not a regular file", "A11 chardev");
}
END_TEST

/* Drops to nobody (keeping root as the saved id) when running as root, so
 * that permission bits apply. */
static void as_nobody(bool on) {
  if (getuid() != 0) return;
  ck_assert_int_eq(setresuid(-1, on ? 65534 : 0, 0), 0);
}

/* A11: a file the caller may not read, and one behind a directory it may
 * not search, are UVP_EACCES. */
START_TEST(permission_denied) {
  ck_assert_int_eq(chmod(dir, 0755), 0);
  const char *unreadable = tmp_path("unreadable.so");
  uvt_copy_file(PLUGIN("newer_minor"), unreadable);
  ck_assert_int_eq(chmod(unreadable, 0), 0);
  ck_assert_int_eq(mkdir(tmp_path("closed"), 0700), 0);
  char hidden[128];
  snprintf(hidden, sizeof hidden, "%s/closed/p.so", dir);
  uvt_copy_file(PLUGIN("newer_minor"), hidden);
  ck_assert_int_eq(chmod(tmp_path("closed"), 0), 0); /* not even its owner */
  as_nobody(true);
  expect_refused(unreadable, UVP_EACCES, "Permission denied", "A11 read");
  expect_refused(hidden, UVP_EACCES, "Permission denied", "A11 search");
  as_nobody(false);
  ck_assert_int_eq(chmod(tmp_path("closed"), 0700), 0); /* for teardown */
}
END_TEST

/* A12: a path without '/' is the working directory's file. */
START_TEST(bare_name_is_working_directory) {
  uvt_copy_file(PLUGIN("newer_minor"), tmp_path("p.so"));
  ck_assert_int_eq(chdir(dir), 0);
  ck_assert_int_eq(uvp_host_load(fx.host, "p.so", NULL, "", NULL), 0);
  const char *name = NULL;
  ck_assert_int_eq(uvp_host_plugin_name(fx.host, 0, &name), 0);
  ck_assert_str_eq(name, "newer_minor");
  int status = 1;
  const char *msg = NULL;
  ck_assert_int_eq(uvp_host_load_error(fx.host, &status, &msg), 0);
  ck_assert_int_eq(status, 0); /* A15: a success clears it */
  ck_assert_str_eq(msg, "");
}
END_TEST

/* A15: failures after the descriptor (EDUPNAME, EINIT) are reported too;
 * bad arguments and other threads are refused. */
START_TEST(load_error_after_descriptor) {
  ck_assert_int_eq(uvp_host_load(fx.host, PLUGIN("newer_minor"), "x", "", 0),
                   0);
  ck_assert_int_eq(uvp_host_load(fx.host, PLUGIN("newer_minor"), "x", "", 0),
                   UVP_EDUPNAME);
  int status;
  const char *msg;
  ck_assert_int_eq(uvp_host_load_error(fx.host, &status, &msg), 0);
  ck_assert_int_eq(status, UVP_EDUPNAME);
  ck_assert_ptr_nonnull(strstr(msg, "a plugin named 'x' is loaded"));
  ck_assert_int_eq(uvp_host_load(fx.host, PLUGIN("init_fail"), NULL, "", 0),
                   UVP_EINIT);
  ck_assert_int_eq(uvp_host_load_error(fx.host, &status, &msg), 0);
  ck_assert_int_eq(status, UVP_EINIT);
  ck_assert_ptr_nonnull(strstr(msg, PLUGIN("init_fail")));
  ck_assert_int_eq(uvp_host_load_error(NULL, &status, &msg), UVP_EINVAL);
  ck_assert_int_eq(uvp_host_load_error(fx.host, NULL, &msg), UVP_EINVAL);
  ck_assert_int_eq(uvp_host_load_error(fx.host, &status, NULL), UVP_EINVAL);
}
END_TEST

/* A16: a newline in a path cannot forge a log line: it is escaped in the
 * log line and in uvp_host_load_error. */
START_TEST(log_line_escaped) {
  const char *path = tmp_path("evil\nuvplug [error] host: forged.so");
  int lines = fx.log.n;
  ck_assert_int_eq(uvp_host_load(fx.host, path, NULL, "", NULL), UVP_ENOTFOUND);
  ck_assert_int_eq(fx.log.n, lines + 1);
  const char *msg = fx.log.lines[lines].msg;
  ck_assert_ptr_null(strchr(msg, '\n'));
  ck_assert_ptr_nonnull(strstr(msg, "evil\\nuvplug [error] host: forged.so"));
  int status;
  const char *err;
  ck_assert_int_eq(uvp_host_load_error(fx.host, &status, &err), 0);
  ck_assert_ptr_null(strchr(err, '\n'));
  ck_assert_ptr_nonnull(strstr(err, "evil\\nuvplug"));
}
END_TEST

/* A16: a line too long for the log is cut in the middle with a marker: its
 * start (the path) and its end (the cause) are both kept. */
START_TEST(long_line_keeps_cause) {
  char path[1200];
  int n = snprintf(path, sizeof path, "%s/", dir);
  memset(path + n, 'x', sizeof path - (size_t)n - 1);
  path[sizeof path - 1] = '\0';
  memcpy(path + n + 200, "/tail", 5); /* ENOENT, not ENAMETOOLONG */
  int lines = fx.log.n;
  ck_assert_int_eq(uvp_host_load(fx.host, path, NULL, "", NULL), UVP_ENOTFOUND);
  ck_assert_int_eq(fx.log.n, lines + 1);
  const char *msg = fx.log.lines[lines].msg;
  ck_assert_uint_le(strlen(msg), 511);
  ck_assert_ptr_nonnull(strstr(msg, " [...] "));
  ck_assert_int_eq(strncmp(msg, dir, strlen(dir)), 0);
  const char *end = "cannot open: No such file or directory";
  ck_assert_str_eq(msg + strlen(msg) - strlen(end), end);
}
END_TEST

static Suite *causes_suite(void) {
  Suite *s = suite_create("load_causes");
  TCase *tc = uvt_tcase(s, "causes");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_loop_test(tc, refused_per_cause, 0,
                      (int)(sizeof causes / sizeof causes[0]));
  tcase_add_test(tc, foreign_machine_named);
  tcase_add_test(tc, permission_denied);
  tcase_add_test(tc, bare_name_is_working_directory);
  tcase_add_test(tc, load_error_after_descriptor);
  tcase_add_test(tc, log_line_escaped);
  tcase_add_test(tc, long_line_keeps_cause);
  /* a hang fails within seconds, not at the 60 s ctest default */
  tc = tcase_create("special");
  tcase_set_timeout(tc, uvt_valgrind() ? 60 : 5);
  suite_add_tcase(s, tc);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, special_files_do_not_block);
  return s;
}

int main(void) { return uvt_main(causes_suite()); }
