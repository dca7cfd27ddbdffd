/* Plugin file: open the path once, without side effects on whatever it
 * names, and keep the descriptor that every later check and the dynamic
 * loader use, so nothing can be swapped in between (A11, A12).
 *
 *   open(O_PATH) ─► fstat: regular file? ─► reopen /proc/self/fd/P O_RDONLY
 *
 * O_PATH opens no device and waits for no FIFO writer (issue 9: a FIFO
 * blocked the loop thread forever inside dlopen); reading starts only once
 * fstat said "regular file". The reopen goes through the O_PATH descriptor,
 * so it reaches the same inode. A path without '/' is relative to the
 * working directory, never looked up on the system library path (A12).
 * Thread: loop thread only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* O_PATH */
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uvp-internal.h"

/* The status of a failed open: one code per cause (A11). */
static int open_status(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ELOOP:
    case ENAMETOOLONG:
      return UVP_ENOTFOUND;
    case EACCES:
    case EPERM:
      return UVP_EACCES;
    case ENOMEM:
      return UVP_ENOMEM;
    default: /* EMFILE, EIO, ...: the system refused the file */
      return UVP_ENOTSO;
  }
}

static const char *kind_name(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

int uvp__plugfile_open(uvp_host *h, const char *path, int *out_fd,
                       struct stat *out_st) {
  int pfd = open(path, O_PATH | O_CLOEXEC);
  if (pfd < 0) {
    int err = errno;
    return uvp__load_fail(h, path, open_status(err), "cannot open: %s",
                          strerror(err));
  }
  struct stat st;
  if (fstat(pfd, &st) < 0) {
    int err = errno;
    close(pfd);
    return uvp__load_fail(h, path, open_status(err), "cannot stat: %s",
                          strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    close(pfd);
    return uvp__load_fail(h, path, UVP_ENOTREG, "%s, not a regular file",
                          kind_name(st.st_mode));
  }
  char proc[32];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", pfd);
  int fd = open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  int err = errno;
  close(pfd);
  if (fd < 0)
    return uvp__load_fail(h, path, open_status(err), "cannot read: %s",
                          strerror(err));
  *out_fd = fd;
  *out_st = st;
  return 0;
}
