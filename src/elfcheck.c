/* ELF header check: read the header of the opened plugin file and refuse
 * what the dynamic loader would refuse with a misleading text (issue 9: an
 * aarch64 object on x86_64 says "No such file or directory"), before any
 * of it is mapped (A11).
 *
 *   magic ─► class ─► byte order ─► machine ─► type ET_DYN
 *
 * The host's own class, byte order and machine are read from this
 * library's ELF header in memory, so no per-architecture table decides
 * what "this host" is; names are only for the message.
 * Thread: any (no state).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr */
#endif
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "uvp-internal.h"

static const char *machine_name(unsigned m, char *buf, size_t len) {
  static const struct {
    unsigned m;
    const char *name;
  } names[] = {
      {EM_X86_64, "x86_64"},   {EM_386, "i386"},
      {EM_AARCH64, "aarch64"}, {EM_ARM, "arm"},
      {EM_RISCV, "riscv"},     {EM_PPC64, "ppc64"},
      {EM_PPC, "ppc"},         {EM_S390, "s390x"},
      {EM_MIPS, "mips"},       {EM_LOONGARCH, "loongarch"},
      {EM_SPARCV9, "sparc64"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(names); i++)
    if (names[i].m == m) return names[i].name;
  snprintf(buf, len, "ELF machine %u", m);
  return buf;
}

static const char *type_name(unsigned t) {
  switch (t) {
    case ET_EXEC:
      return "an executable";
    case ET_REL:
      return "a relocatable object (.o)";
    case ET_CORE:
      return "a core dump";
    default:
      return "not a shared object";
  }
}

/* The ELF header of the object this function is part of. */
static const ElfW(Ehdr) * own_header(void) {
  Dl_info info;
  if (dladdr((const void *)own_header, &info) == 0) return NULL;
  return info.dli_fbase;
}

/* Whether the dynamic section says "position-independent executable"
 * (DF_1_PIE): such a file is ET_DYN, but dlopen refuses it. */
static bool is_pie(int fd, const ElfW(Ehdr) * eh) {
  if (eh->e_phentsize != sizeof(ElfW(Phdr))) return false;
  for (unsigned i = 0; i < eh->e_phnum; i++) {
    ElfW(Phdr) ph;
    off_t at = (off_t)(eh->e_phoff + (ElfW(Off))i * sizeof ph);
    if (pread(fd, &ph, sizeof ph, at) != (ssize_t)sizeof ph) return false;
    if (ph.p_type != PT_DYNAMIC) continue;
    for (ElfW(Off) off = 0; off + sizeof(ElfW(Dyn)) <= ph.p_filesz;
         off += sizeof(ElfW(Dyn))) {
      ElfW(Dyn) dyn;
      if (pread(fd, &dyn, sizeof dyn, (off_t)(ph.p_offset + off)) !=
              (ssize_t)sizeof dyn ||
          dyn.d_tag == DT_NULL)
        return false;
      if (dyn.d_tag == DT_FLAGS_1) return (dyn.d_un.d_val & DF_1_PIE) != 0;
    }
    return false;
  }
  return false;
}

int uvp__elf_check(uvp_host *h, const char *path, int fd) {
  ElfW(Ehdr) eh;
  ssize_t n = pread(fd, &eh, sizeof eh, 0);
  if (n < (ssize_t)EI_NIDENT || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
    return uvp__load_fail(h, path, UVP_ENOTELF, "not an ELF file");
  const ElfW(Ehdr) *self = own_header();
  if (self == NULL) return 0; /* cannot tell: the dynamic loader decides */
  char a[32], b[32];
  if (eh.e_ident[EI_CLASS] != self->e_ident[EI_CLASS])
    return uvp__load_fail(h, path, UVP_EMACHINE,
                          "built as %d-bit ELF, this host is %d-bit",
                          eh.e_ident[EI_CLASS] == ELFCLASS32 ? 32 : 64,
                          self->e_ident[EI_CLASS] == ELFCLASS32 ? 32 : 64);
  if (eh.e_ident[EI_DATA] != self->e_ident[EI_DATA])
    return uvp__load_fail(
        h, path, UVP_EMACHINE, "built %s-endian, this host is %s-endian",
        eh.e_ident[EI_DATA] == ELFDATA2MSB ? "big" : "little",
        self->e_ident[EI_DATA] == ELFDATA2MSB ? "big" : "little");
  if (n < (ssize_t)sizeof eh)
    return uvp__load_fail(h, path, UVP_ENOTELF, "truncated ELF header");
  if (eh.e_machine != self->e_machine)
    return uvp__load_fail(h, path, UVP_EMACHINE,
                          "built for %s, this host is %s",
                          machine_name(eh.e_machine, a, sizeof a),
                          machine_name(self->e_machine, b, sizeof b));
  if (eh.e_type != ET_DYN || is_pie(fd, &eh))
    return uvp__load_fail(h, path, UVP_ENOTDYN, "%s, not a shared object",
                          type_name(eh.e_type == ET_DYN ? ET_EXEC : eh.e_type));
  return 0;
}
