/* SHA-256 pin: copy the plugin file into a sealed memfd, hashing the bytes
 * as they are copied, and map the memfd: the bytes checked are the bytes
 * mapped, whatever happens to the file afterwards (A18).
 *
 *   pread(file) ─► sha256_update + write(memfd) ─► seal (no write, grow,
 *   shrink) ─► digest == pin? ─► the memfd replaces the file descriptor
 *
 * SHA-256 is nettle's (Debian nettle-dev), not ours. A pinned load costs
 * a copy of the file in memory per load (not shared with the page cache or
 * with other instances: every pinned load is its own object, A14).
 * Thread: any (no state).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create, F_ADD_SEALS */
#endif
#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "uvp-internal.h"

static void hex(const uint8_t *d, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < SHA256_DIGEST_SIZE; i++) {
    out[2 * i] = digits[d[i] >> 4];
    out[2 * i + 1] = digits[d[i] & 15];
  }
  out[2 * SHA256_DIGEST_SIZE] = '\0';
}

static bool write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w, n -= (size_t)w;
  }
  return true;
}

/* Copies fd into mfd, hashing every byte written. */
static bool copy_hashed(int fd, int mfd, struct sha256_ctx *sha) {
  char buf[1 << 16];
  for (off_t off = 0;;) {
    ssize_t n = pread(fd, buf, sizeof buf, off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    sha256_update(sha, (size_t)n, (const uint8_t *)buf);
    if (!write_all(mfd, buf, (size_t)n)) return false;
    off += n;
  }
}

int uvp__pin_copy(uvp_host *h, const char *path, int fd, const uint8_t *want,
                  int *out_fd) {
  int mfd = memfd_create("uvplug-pinned", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0)
    return uvp__load_fail(h, path, UVP_ENOMEM, "memfd_create: %s",
                          strerror(errno));
  struct sha256_ctx sha;
  sha256_init(&sha);
  const int seals = F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL;
  if (!copy_hashed(fd, mfd, &sha) || fcntl(mfd, F_ADD_SEALS, seals) < 0) {
    int err = errno;
    close(mfd);
    return uvp__load_fail(h, path, UVP_ENOMEM, "cannot copy for the pin: %s",
                          strerror(err));
  }
  uint8_t got[SHA256_DIGEST_SIZE];
  sha256_digest(&sha, sizeof got, got);
  if (memcmp(got, want, sizeof got) != 0) {
    char a[2 * SHA256_DIGEST_SIZE + 1], b[sizeof a];
    hex(got, a);
    hex(want, b);
    close(mfd);
    return uvp__load_fail(h, path, UVP_EHASH, "SHA-256 is %s, the pin wants %s",
                          a, b);
  }
  *out_fd = mfd;
  return 0;
}
