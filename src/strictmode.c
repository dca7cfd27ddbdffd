/* Strict modes: refuse a plugin file that someone other than root or the
 * effective user could have written, as OpenSSH's StrictModes does for
 * authorized_keys (A17).
 *
 *   file: owner root or euid, not group/other writable
 *   each directory up to "/": owner root or euid, and not group/other
 *   writable unless sticky with the entry below it owned by root or euid
 *
 * The directories are those of the opened file's real path (read from
 * /proc/self/fd/N), so a symlink cannot point the walk elsewhere. Only the
 * daemon's own users can change a chain that passes, so it stays safe
 * after the check. Thread: any (no state).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uvp-internal.h"

static bool trusted(uid_t uid) { return uid == 0 || uid == geteuid(); }

static int check_dir(uvp_host *h, const char *path, const char *dir,
                     uid_t below) {
  struct stat st;
  if (stat(dir, &st) < 0)
    return uvp__load_fail(h, path, UVP_EDIRMODE, "cannot stat %s", dir);
  if (!trusted(st.st_uid))
    return uvp__load_fail(h, path, UVP_EDIRMODE,
                          "directory %s is owned by uid %u, not root or "
                          "uid %u",
                          dir, (unsigned)st.st_uid, (unsigned)geteuid());
  bool writable = st.st_mode & (S_IWGRP | S_IWOTH);
  bool sticky_ok = (st.st_mode & S_ISVTX) && trusted(below);
  if (writable && !sticky_ok)
    return uvp__load_fail(h, path, UVP_EDIRMODE,
                          "directory %s (mode %04o) is writable by group or "
                          "others",
                          dir, (unsigned)(st.st_mode & 07777));
  return 0;
}

int uvp__strict_check(uvp_host *h, const char *path, int fd,
                      const struct stat *st) {
  if (!trusted(st->st_uid))
    return uvp__load_fail(h, path, UVP_EFILEOWNER,
                          "owned by uid %u, not root or uid %u",
                          (unsigned)st->st_uid, (unsigned)geteuid());
  if (st->st_mode & (S_IWGRP | S_IWOTH))
    return uvp__load_fail(h, path, UVP_EFILEMODE,
                          "mode %04o: writable by group or others",
                          (unsigned)(st->st_mode & 07777));
  char proc[32], real[PATH_MAX];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(proc, real, sizeof real - 1);
  if (n <= 0 || real[0] != '/')
    return uvp__load_fail(h, path, UVP_EDIRMODE, "cannot tell its directory");
  real[n] = '\0';
  uid_t below = st->st_uid;
  for (char *slash = strrchr(real, '/'); slash != NULL;
       slash = strrchr(real, '/')) {
    if (slash == real) return check_dir(h, path, "/", below);
    *slash = '\0';
    int rc = check_dir(h, path, real, below);
    if (rc < 0) return rc;
    struct stat d;
    below = stat(real, &d) == 0 ? d.st_uid : (uid_t)-1;
  }
  return 0;
}
