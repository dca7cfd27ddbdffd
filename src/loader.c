/* Loader: open a plugin's file once, check what it is, map exactly that
 * file and validate its descriptor before any of its code runs (A8).
 *
 *   plugfile_open (O_PATH, fstat, regular file) ─► elf_check (class, byte
 *   order, machine, ET_DYN) ─► dlopen_fd (/proc/self/fd/N, RTLD_NOW |
 *   RTLD_LOCAL) ─► dlsym in that object, not a dependency ─► symbol size
 *   ─► magic ─► ABI major ─► descriptor size ─► fields
 *
 * Each failure has its own status and one log line naming the file; the
 * same text is kept as the host's last load error (A15). The host copies
 * only the fields both sides know (size negotiation, A5). An object that
 * is not unload-safe is pinned with RTLD_NODELETE, through the name it was
 * opened by, so that every later dlclose leaves it mapped (A10:
 * rust-lang/rust#91979, #59629).
 * Thread: loop thread only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr1, RTLD_NODELETE */
#endif
#include <dlfcn.h>
#include <inttypes.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uvp-internal.h"

int uvp__name_check(const char *name) {
  if (name == NULL) return UVP_EINVAL;
  size_t len = strnlen(name, UVP_NAME_MAX + 1);
  if (len == 0 || len > UVP_NAME_MAX) return UVP_EINVAL;
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return UVP_EINVAL;
  }
  return 0;
}

/* Bytes the symbol occupies per the ELF symbol table, 0 if unknown. */
static size_t symbol_size(const void *sym) {
  Dl_info info;
  const ElfW(Sym) *elf = NULL;
  if (dladdr1(sym, &info, (void **)&elf, RTLD_DL_SYMENT) == 0 || elf == NULL)
    return 0;
  return elf->st_size;
}

static int check_desc(uvp_host *h, const char *path, const uvp_plugin_desc *d,
                      size_t sym_size) {
  const size_t header = offsetof(uvp_plugin_desc, flags);
  if (sym_size != 0 && sym_size < header)
    return uvp__load_fail(h, path, UVP_ESHORT,
                          "descriptor symbol is %zu bytes, too small",
                          sym_size);
  if (d->magic != UVP_PLUGIN_MAGIC)
    return uvp__load_fail(h, path, UVP_EBADMAGIC, "bad descriptor magic 0x%08x",
                          (unsigned)d->magic);
  if (d->abi_major != UVP_ABI_MAJOR)
    return uvp__load_fail(h, path, UVP_EABI,
                          "built for ABI %u.%u, host speaks ABI %u.%u",
                          (unsigned)d->abi_major, (unsigned)d->abi_minor,
                          UVP_ABI_MAJOR, UVP_ABI_MINOR);
  if (d->size < UVP__DESC_V1_SIZE ||
      (sym_size != 0 && sym_size < UVP__DESC_V1_SIZE))
    return uvp__load_fail(h, path, UVP_ESHORT,
                          "descriptor is %u bytes, ABI 1.0 needs %zu",
                          (unsigned)d->size, (size_t)UVP__DESC_V1_SIZE);
  return 0;
}

static int check_fields(uvp_host *h, const char *path,
                        const uvp_plugin_desc *d) {
  if (d->on_init == NULL || uvp__name_check(d->name) < 0)
    return uvp__load_fail(h, path, UVP_EBADDESC,
                          "descriptor needs on_init and a name of 1..%d "
                          "bytes of [A-Za-z0-9_.-]",
                          UVP_NAME_MAX);
  return 0;
}

/* Keeps "path: why" as the host's last load error; returns its length. */
static size_t record(uvp_host *h, const char *path, const char *why) {
  char line[PATH_MAX + UVP__LOAD_ERROR_MAX];
  int n = snprintf(line, sizeof line, "%s: %s", path, why);
  size_t len = n < 0                     ? 0
               : (size_t)n < sizeof line ? (size_t)n
                                         : sizeof line - 1;
  uvp__log_escape(h->load_error, sizeof h->load_error, line, len);
  return len;
}

int uvp__load_fail(uvp_host *h, const char *path, int status, const char *fmt,
                   ...) {
  char why[UVP__LOAD_ERROR_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  h->load_status = status;
  record(h, path, why);
  uvp__log(h, "host", UVP_LOG_ERROR, "%s: %s", path, why);
  return status;
}

int uvp__load_done(uvp_host *h, const char *path, int status) {
  h->load_status = status;
  if (status == 0)
    h->load_error[0] = '\0';
  else if (h->load_error[0] == '\0') /* no step said more than the code */
    record(h, path != NULL ? path : "(null)", uvp_strerror(status));
  return status;
}

int uvp_host_load_error(uvp_host *host, int *out_status, const char **out_msg) {
  if (host == NULL || out_status == NULL || out_msg == NULL) return UVP_EINVAL;
  if (!uvp__on_loop_thread(host)) return UVP_EWRONGTHREAD; /* T3 */
  *out_status = host->load_status;
  *out_msg = host->load_error;
  return 0;
}

/* The descriptor symbol of the object itself: dlsym on a handle also
 * searches its dependencies, which would load a library's plugin under
 * another file's name (A2). */
static int find_desc(uvp_host *h, const char *path, void *dl,
                     const uvp_plugin_desc **out) {
  const uvp_plugin_desc *d = dlsym(dl, UVP_PLUGIN_SYMBOL_NAME);
  if (d == NULL)
    return uvp__load_fail(h, path, UVP_ENOSYM, "no symbol %s",
                          UVP_PLUGIN_SYMBOL_NAME);
  struct link_map *own = NULL, *holder = NULL;
  Dl_info info;
  if (dlinfo(dl, RTLD_DI_LINKMAP, &own) != 0 ||
      dladdr1(d, &info, (void **)&holder, RTLD_DL_LINKMAP) == 0 ||
      holder != own)
    return uvp__load_fail(h, path, UVP_ENOSYM,
                          "no symbol %s of its own (%s has it)",
                          UVP_PLUGIN_SYMBOL_NAME,
                          holder != NULL ? holder->l_name : "a dependency");
  *out = d;
  return 0;
}

/* Copies and validates the descriptor (A3-A5, A7); sym_size is what the
 * ELF symbol table says it occupies, 0 if unknown. Not static: the
 * descriptor fuzzer (fuzz/fuzz_desc.c) runs exactly this. */
int uvp__desc_read(uvp_host *h, const char *path, const uvp_plugin_desc *d,
                   size_t sym_size, uvp_plugin_desc *out) {
  int rc = check_desc(h, path, d, sym_size);
  if (rc < 0) return rc;
  memset(out, 0, sizeof *out);
  memcpy(out, d, d->size < sizeof *out ? d->size : sizeof *out); /* A5 */
  out->size = sizeof *out;
  return check_fields(h, path, out);
}

/* A10: RTLD_NODELETE through the name the object was opened by, never the
 * path, which may name another file by now. */
static int pin(uvp_host *h, const char *path, const char *name) {
  void *again =
      dlopen(name, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD | RTLD_NODELETE);
  if (again == NULL) {
    const char *why = dlerror();
    return uvp__load_fail(h, path, UVP_ENOTSO, "cannot pin: %s",
                          why ? why : "dlopen failed");
  }
  dlclose(again); /* drop the pin's extra reference; NODELETE stays */
  return 0;
}

/* Opens path and runs every check on the descriptor that will be mapped
 * (A11, A17, A18); *out_fd is that descriptor, *out_st its identity. */
static int vet_file(uvp_host *h, const char *path, const uvp_load_options *o,
                    int *out_fd, struct stat *out_st) {
  int fd;
  int rc = uvp__plugfile_open(h, path, &fd, out_st);
  if (rc < 0) return rc;
  if (o->strict_modes) rc = uvp__strict_check(h, path, fd, out_st);
  if (rc == 0 && o->sha256 != NULL) {
    int pinned;
    rc = uvp__pin_copy(h, path, fd, o->sha256, &pinned);
    if (rc == 0) {
      close(fd);
      fd = pinned;
      if (fstat(fd, out_st) < 0)
        rc = uvp__load_fail(h, path, UVP_ENOMEM, "cannot stat the copy");
    }
  }
  if (rc == 0) rc = uvp__elf_check(h, path, fd);
  if (rc < 0) {
    close(fd);
    return rc;
  }
  *out_fd = fd;
  return 0;
}

int uvp__loader_open(uvp_host *h, const char *path,
                     const uvp_load_options *opts, uvp_plugin_desc *out_desc,
                     void **out_dl) {
  int fd;
  struct stat st;
  int rc = vet_file(h, path, opts, &fd, &st);
  if (rc < 0) return rc;
  /* the point a swap of the path would have to hit (A13) */
  uvp__log(h, "host", UVP_LOG_DEBUG, "%s: checked, mapping inode %ju", path,
           (uintmax_t)st.st_ino);
  char name[64 + UVP__DLFD_NAME_MAX];
  void *dl = NULL;
  rc = uvp__dlopen_fd(h, path, fd, &st, name, sizeof name, &dl);
  close(fd); /* the mapping holds the file from here on */
  if (rc < 0) return rc;
  const uvp_plugin_desc *d = NULL;
  uvp_plugin_desc copy;
  rc = find_desc(h, path, dl, &d);
  if (rc == 0) rc = uvp__desc_read(h, path, d, symbol_size(d), &copy);
  if (rc == 0 && !(copy.flags & UVP_PLUGIN_UNLOAD_SAFE))
    rc = pin(h, path, name);
  if (rc < 0) {
    dlclose(dl);
    return rc;
  }
  *out_desc = copy;
  *out_dl = dl;
  return 0;
}
