/* The host's allocator (uvp_host_options.allocator): every allocation of
 * the library goes through a host's copy of it, or through the inbox's
 * copy for what outlives the host (remotes, R5). The default forwards to
 * the C library.
 * Thread: any; the embedder's functions must be thread-safe.
 */
#include <stdlib.h>
#include <string.h>

#include "uvp-internal.h"

static void *libc_malloc(void *data, size_t size) {
  (void)data;
  return malloc(size);
}

static void *libc_calloc(void *data, size_t n, size_t size) {
  (void)data;
  return calloc(n, size);
}

static void *libc_realloc(void *data, void *ptr, size_t size) {
  (void)data;
  return realloc(ptr, size);
}

static void libc_free(void *data, void *ptr) {
  (void)data;
  free(ptr);
}

const uvp_allocator uvp__libc_allocator = {
    .size = sizeof(uvp_allocator),
    .malloc = libc_malloc,
    .calloc = libc_calloc,
    .realloc = libc_realloc,
    .free = libc_free,
};

/* The 0.2 struct ends with data: a smaller size is no version's. */
int uvp__allocator_copy(const uvp_allocator *in, uvp_allocator *out) {
  if (in == NULL) {
    *out = uvp__libc_allocator;
    return 0;
  }
  if (in->size < sizeof(uvp_allocator) || in->malloc == NULL ||
      in->calloc == NULL || in->realloc == NULL || in->free == NULL)
    return UVP_EINVAL;
  *out = *in;
  out->size = sizeof *out;
  return 0;
}

char *uvp__strdup(const uvp_allocator *a, const char *s) {
  size_t len = strlen(s) + 1;
  char *copy = uvp__malloc(a, len);
  if (copy != NULL) memcpy(copy, s, len);
  return copy;
}
