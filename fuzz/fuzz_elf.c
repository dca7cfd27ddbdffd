/* fuzz_elf (contract B11): fuzzed bytes as the first bytes of a plugin
 * file, through the checks the loader runs before any mapping (A11):
 * uvp__plugfile_open
 * (O_PATH, fstat, reopen) and uvp__elf_check (magic, class, byte order,
 * machine, ET_DYN, the PIE flag in the dynamic section). The file is a
 * memfd named by its /proc/self/fd path; nothing fuzzed is ever dlopened.
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "uvp-internal.h"
#include "uvplug/uvplug.h"

static uvp_host *host;
static uv_loop_t loop;
static int memfd = -1;
static char path[64];

static void quiet(void *data, int level, const char *plugin, const char *msg,
                  size_t len) {
  (void)data, (void)level, (void)plugin, (void)msg, (void)len;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.log = quiet;
  o.log_level = UVP_LOG_DEBUG;
  if (uv_loop_init(&loop) != 0 || uvp_host_new(&loop, &o, &host) != 0) abort();
  memfd = memfd_create("fuzz_elf", MFD_CLOEXEC);
  if (memfd < 0) abort();
  snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (ftruncate(memfd, 0) != 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
    abort();
  int fd;
  struct stat st;
  int rc = uvp__plugfile_open(host, path, &fd, &st);
  if (rc != 0 || (size_t)st.st_size != size) abort(); /* a regular file */
  rc = uvp__elf_check(host, path, fd);
  uvp__load_done(host, path, rc);
  close(fd);
  if (rc != 0 && rc != UVP_ENOTELF && rc != UVP_EMACHINE && rc != UVP_ENOTDYN)
    abort(); /* a status the loader does not document for this step */
  /* The header checks alone cannot accept what is not an ELF file. */
  if (rc == 0 && (size < 4 || memcmp(data, "\177ELF", 4) != 0)) abort();
  return 0;
}
