/* Registry: one slot table for every subscription, timer and fd watch.
 *
 * Ids are slot index (low 32 bits) + generation (high 32 bits). Retiring a
 * slot bumps its generation at once, so an old id can never reach a new
 * registration (GLib's reused source ids are the bug this avoids): an id
 * older than the slot is UVP_ESTALE, anything else that does not match is
 * UVP_ENOENT. Slots live in fixed 4096-slot chunks (stable addresses) and
 * are reused through a free list: register and cancel are O(1). A slot whose
 * generation reaches UVP__GEN_LAST (after 2^32 - 2 reuses, hours of churn on
 * one slot) is retired for good: 40 bytes lost instead of an old id that
 * would name a new registration.
 * Thread: loop thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "uvp-internal.h"

void uvp__registry_init(uvp__registry *reg) {
  memset(reg, 0, sizeof *reg);
  reg->free_head = UVP__NONE;
  reg->alloc = &uvp__libc_allocator; /* the host sets its own */
}

void uvp__registry_free(uvp__registry *reg) {
  const uvp_allocator *a = reg->alloc;
  for (uint32_t i = 0; i < reg->nchunks; i++) uvp__free(a, reg->chunks[i]);
  uvp__free(a, reg->chunks);
  uvp__registry_init(reg);
  reg->alloc = a;
}

static int grow(uvp__registry *reg) {
  if (reg->nchunks == (UINT32_MAX >> UVP__CHUNK_BITS)) return UVP_ENOSPC;
  uvp__slot **chunks = uvp__realloc(reg->alloc, reg->chunks,
                                    (reg->nchunks + 1) * sizeof *reg->chunks);
  if (chunks == NULL) return UVP_ENOMEM;
  reg->chunks = chunks;
  uvp__slot *chunk = uvp__calloc(reg->alloc, UVP__CHUNK_SLOTS, sizeof *chunk);
  if (chunk == NULL) return UVP_ENOMEM;
  reg->chunks[reg->nchunks++] = chunk;
  return 0;
}

int uvp__registry_alloc(uvp__registry *reg, uint32_t *out_idx) {
  uint32_t idx;
  if (reg->free_head != UVP__NONE) {
    idx = reg->free_head;
    reg->free_head = uvp__registry_at(reg, idx)->u.next_free;
  } else {
    if (reg->used == UVP__NONE) return UVP_ENOSPC;
    if (reg->used == reg->nchunks * UVP__CHUNK_SLOTS) {
      int rc = grow(reg);
      if (rc < 0) return rc;
    }
    idx = reg->used++;
    uvp__registry_at(reg, idx)->gen = 1; /* 0 would make id 0 valid */
  }
  uvp__slot *s = uvp__registry_at(reg, idx);
  assert(s->kind == UVP__FREE);
  s->flags = 0;
  reg->live++;
  *out_idx = idx;
  return 0;
}

/* The slot must already be retired (generation bumped by the caller). */
void uvp__registry_release(uvp__registry *reg, uint32_t idx) {
  uvp__slot *s = uvp__registry_at(reg, idx);
  assert(s->kind != UVP__FREE);
  assert(reg->live > 0);
  uint32_t gen = s->gen;
  memset(s, 0, sizeof *s);
  s->gen = gen;
  s->kind = UVP__FREE;
  reg->live--;
  if (gen == UVP__GEN_LAST) { /* L4: its ids would come back: keep it out */
    reg->exhausted++;
    return;
  }
  s->u.next_free = reg->free_head;
  reg->free_head = idx;
}

int uvp__registry_lookup(uvp__registry *reg, uvp_id id, uint16_t owner,
                         uint32_t *out_idx) {
  uint32_t idx = uvp__id_slot(id);
  uint32_t gen = uvp__id_gen(id);
  if (gen == 0 || idx >= reg->used) return UVP_ENOENT;
  const uvp__slot *s = uvp__registry_at(reg, idx);
  if (gen < s->gen) return UVP_ESTALE; /* L4 */
  if (gen > s->gen || s->kind == UVP__FREE) return UVP_ENOENT;
  if (s->flags & UVP__SLOT_CANCELLED) return UVP_ENOENT; /* gen not issued */
  if (s->owner != owner) return UVP_ENOENT; /* L5: never another's */
  *out_idx = idx;
  return 0;
}
