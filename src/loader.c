/* Loader: open a plugin's shared object and validate its descriptor before
 * any of its code runs (A8).
 *
 *   dlopen(RTLD_NOW|RTLD_LOCAL) ─► dlsym(uvp_plugin_descriptor)
 *     ─► symbol size ─► magic ─► ABI major ─► descriptor size ─► fields
 *
 * Each failure has its own status and one log line naming the file. The
 * host copies only the fields both sides know (size negotiation, A5). An
 * object that is not unload-safe is pinned with RTLD_NODELETE so that every
 * later dlclose leaves it mapped (A10: rust-lang/rust#91979, #59629).
 * Thread: loop thread only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr1, RTLD_NODELETE */
#endif
#include <dlfcn.h>
#include <link.h>
#include <string.h>

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
  if (sym_size != 0 && sym_size < header) {
    uvp__log(h, "host", UVP_LOG_ERROR,
             "%s: descriptor symbol is %zu bytes, too small", path, sym_size);
    return UVP_ESHORT;
  }
  if (d->magic != UVP_PLUGIN_MAGIC) {
    uvp__log(h, "host", UVP_LOG_ERROR, "%s: bad descriptor magic 0x%08x", path,
             (unsigned)d->magic);
    return UVP_EBADMAGIC;
  }
  if (d->abi_major != UVP_ABI_MAJOR) {
    uvp__log(h, "host", UVP_LOG_ERROR,
             "%s: built for ABI %u.%u, host speaks ABI %u.%u", path,
             (unsigned)d->abi_major, (unsigned)d->abi_minor, UVP_ABI_MAJOR,
             UVP_ABI_MINOR);
    return UVP_EABI;
  }
  if (d->size < UVP__DESC_V1_SIZE ||
      (sym_size != 0 && sym_size < UVP__DESC_V1_SIZE)) {
    uvp__log(h, "host", UVP_LOG_ERROR,
             "%s: descriptor is %u bytes, ABI 1.0 needs %zu", path,
             (unsigned)d->size, (size_t)UVP__DESC_V1_SIZE);
    return UVP_ESHORT;
  }
  return 0;
}

static int check_fields(uvp_host *h, const char *path,
                        const uvp_plugin_desc *d) {
  if (d->on_init == NULL || uvp__name_check(d->name) < 0) {
    uvp__log(h, "host", UVP_LOG_ERROR,
             "%s: descriptor needs on_init and a name of 1..%d bytes of "
             "[A-Za-z0-9_.-]",
             path, UVP_NAME_MAX);
    return UVP_EBADDESC;
  }
  return 0;
}

int uvp__loader_open(uvp_host *h, const char *path, uvp_plugin_desc *out_desc,
                     void **out_dl) {
  void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (dl == NULL) {
    const char *why = dlerror();
    uvp__log(h, "host", UVP_LOG_ERROR, "%s: cannot load: %s", path,
             why ? why : "dlopen failed");
    return UVP_ENOTSO; /* A1 */
  }
  const uvp_plugin_desc *d = dlsym(dl, UVP_PLUGIN_SYMBOL_NAME);
  if (d == NULL) {
    uvp__log(h, "host", UVP_LOG_ERROR, "%s: no symbol %s", path,
             UVP_PLUGIN_SYMBOL_NAME);
    dlclose(dl);
    return UVP_ENOSYM; /* A2 */
  }
  size_t sym_size = symbol_size(d);
  int rc = check_desc(h, path, d, sym_size);
  uvp_plugin_desc copy;
  if (rc == 0) {
    memset(&copy, 0, sizeof copy);
    memcpy(&copy, d, d->size < sizeof copy ? d->size : sizeof copy); /* A5 */
    copy.size = sizeof copy;
    rc = check_fields(h, path, &copy);
  }
  if (rc == 0 && !(copy.flags & UVP_PLUGIN_UNLOAD_SAFE) &&
      dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD | RTLD_NODELETE) ==
          NULL) {
    uvp__log(h, "host", UVP_LOG_ERROR, "%s: cannot pin: %s", path, dlerror());
    rc = UVP_ENOTSO;
  } else if (rc == 0 && !(copy.flags & UVP_PLUGIN_UNLOAD_SAFE)) {
    dlclose(dl); /* drop the pin's extra reference; NODELETE stays */
  }
  if (rc < 0) {
    dlclose(dl);
    return rc;
  }
  *out_desc = copy;
  *out_dl = dl;
  return 0;
}
