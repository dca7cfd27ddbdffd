/* dlopen by descriptor: map exactly the file the loader opened and checked
 * (A12, A13), through the name /proc/self/fd/N, never the path again.
 *
 *   pick a name no loaded object has ─► dlopen(name) ─► mapped file is
 *   the fd's (dev, inode)? ─► yes: done / no: dlclose, next spelling
 *
 * glibc's dlopen first compares the name with every loaded object's names
 * (l_name and the names added to it, by string) and only then opens the
 * file and compares (dev, inode). An object that stays mapped (A10) keeps
 * the name /proc/self/fd/N after N is closed and reused, so the same name
 * could return that old object. The name is therefore spelled with extra
 * slashes ("/proc/self/fd//N", ...) until no loaded object has it, and
 * what dlopen returned is verified against the fd's (dev, inode) from
 * /proc/self/maps. The same (dev, inode) as a loaded object (an unchanged
 * file) returns that object: instances of one file share it (A14).
 * Thread: loop thread only; no process-global state (T4).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dlinfo, dl_iterate_phdr */
#endif
#include <dlfcn.h>
#include <inttypes.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "uvp-internal.h"

/* Names tried per load; each one in use is an object mapped from an fd
 * number since reused, so 256 is far more than a process accumulates. */
#define MAX_SPELLINGS 256

static int name_in_use(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  return info->dlpi_name != NULL && strcmp(info->dlpi_name, arg) == 0;
}

/* "/proc/self/fd" + (i + 1) slashes + fd, or false if it does not fit. */
static bool spell(char *buf, size_t len, int fd, int i) {
  static const char prefix[] = "/proc/self/fd";
  if (sizeof prefix + (size_t)i + 16 > len) return false;
  memcpy(buf, prefix, sizeof prefix - 1);
  memset(buf + sizeof prefix - 1, '/', (size_t)i + 1);
  snprintf(buf + sizeof prefix + i, 16, "%d", fd);
  return true;
}

/* Whether the mapping at addr is a mapping of the file st describes. */
static bool mapped_from(const void *addr, const struct stat *st) {
  FILE *maps = fopen("/proc/self/maps", "re");
  if (maps == NULL) return false;
  uintptr_t a = (uintptr_t)addr;
  bool same = false;
  char line[512];
  while (fgets(line, sizeof line, maps) != NULL) {
    uintptr_t lo, hi;
    unsigned maj, min;
    uint64_t ino;
    if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %*s %*s %x:%x %" SCNu64, &lo,
               &hi, &maj, &min, &ino) != 5)
      continue;
    if (a < lo || a >= hi) continue;
    same = ino == (uint64_t)st->st_ino && maj == major(st->st_dev) &&
           min == minor(st->st_dev);
    break;
  }
  fclose(maps);
  return same;
}

int uvp__dlopen_fd(uvp_host *h, const char *path, int fd, const struct stat *st,
                   char *name, size_t name_len, void **out_dl) {
  for (int i = 0; i < MAX_SPELLINGS && spell(name, name_len, fd, i); i++) {
    if (dl_iterate_phdr(name_in_use, name) != 0) continue;
    void *dl = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL) {
      const char *why = dlerror();
      size_t n =
          strlen(name); /* glibc starts with the name: the path says it */
      if (why != NULL && strncmp(why, name, n) == 0 && why[n] == ':')
        why += n + (why[n + 1] == ' ' ? 2 : 1);
      return uvp__load_fail(h, path, UVP_ENOTSO, "cannot load: %s",
                            why ? why : "dlopen failed");
    }
    /* A new object carries the name it was opened by; an existing one
     * matched by (dev, inode) is the same file, by a stale name is not. */
    struct link_map *lm = NULL;
    if (dlinfo(dl, RTLD_DI_LINKMAP, &lm) == 0 && lm != NULL &&
        (strcmp(lm->l_name, name) == 0 || mapped_from(lm->l_ld, st))) {
      *out_dl = dl;
      return 0;
    }
    uvp__log(h, "host", UVP_LOG_DEBUG,
             "%s: %s names an older object; trying another name", path, name);
    dlclose(dl); /* an older object that was given this name too */
  }
  return uvp__load_fail(h, path, UVP_ENOTSO,
                        "cannot map: no unused /proc/self/fd name for it");
}
