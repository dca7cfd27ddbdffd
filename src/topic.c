/* Topics: names interned to integers once, each with the ordered list of
 * its subscribers' slot indices.
 *
 * Cancelling a subscription leaves a tombstone (UVP__NONE) at its position
 * so a dispatch walking the list never sees indices shift under it; lists
 * are compacted once half of them is tombstones and no dispatch walks them.
 * Thread: loop thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "uvp-internal.h"

void uvp__topics_init(uvp__topics *t, uint32_t max) {
  memset(t, 0, sizeof *t);
  t->max = max;
  t->alloc = &uvp__libc_allocator; /* the host sets its own */
}

void uvp__topics_free(uvp__topics *t) {
  const uvp_allocator *a = t->alloc;
  for (uint32_t i = 0; i < t->count; i++) {
    uvp__free(a, t->items[i]->name);
    uvp__free(a, t->items[i]->subs);
    uvp__free(a, t->items[i]);
  }
  uvp__free(a, t->items);
  uvp__free(a, t->index);
  uvp__topics_init(t, t->max);
  t->alloc = a;
}

/* Length of the UTF-8 sequence at p (at most n bytes), or 0 if invalid:
 * rejects overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_seq(const unsigned char *p, size_t n) {
  unsigned char c = p[0];
  if (c < 0x80) return 1;
  size_t len;
  uint32_t cp, min;
  if ((c & 0xE0) == 0xC0)
    len = 2, cp = c & 0x1F, min = 0x80;
  else if ((c & 0xF0) == 0xE0)
    len = 3, cp = c & 0x0F, min = 0x800;
  else if ((c & 0xF8) == 0xF0)
    len = 4, cp = c & 0x07, min = 0x10000;
  else
    return 0;
  if (len > n) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

int uvp__topic_check(const char *name, size_t len) {
  if (name == NULL || len == 0 || len > UVP_TOPIC_MAX) return UVP_EINVAL;
  const unsigned char *p = (const unsigned char *)name;
  for (size_t i = 0; i < len;) {
    if (p[i] == 0) return UVP_EINVAL;
    size_t n = utf8_seq(p + i, len - i);
    if (n == 0) return UVP_EINVAL;
    i += n;
  }
  return 0;
}

static uint32_t hash_name(const char *name, size_t len) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)name[i];
    h *= 16777619u;
  }
  return h;
}

static uint32_t *index_find(const uvp__topics *t, const char *name, size_t len,
                            uint32_t hash) {
  uint32_t mask = t->index_cap - 1;
  for (uint32_t i = hash & mask;; i = (i + 1) & mask) {
    uint32_t id = t->index[i];
    if (id == 0) return &t->index[i];
    const uvp__topic *tp = t->items[id - 1];
    if (tp->hash == hash && tp->name_len == len &&
        memcmp(tp->name, name, len) == 0)
      return &t->index[i];
  }
}

/* Keeps the hash index at most half full. */
static int index_grow(uvp__topics *t) {
  uint32_t cap = t->index_cap ? t->index_cap * 2 : 64;
  uint32_t *index = uvp__calloc(t->alloc, cap, sizeof *index);
  if (index == NULL) return UVP_ENOMEM;
  uvp__free(t->alloc, t->index);
  t->index = index;
  t->index_cap = cap;
  for (uint32_t id = 1; id <= t->count; id++) {
    const uvp__topic *tp = t->items[id - 1];
    *index_find(t, tp->name, tp->name_len, tp->hash) = id;
  }
  return 0;
}

static uvp__topic *topic_new(const uvp_allocator *a, const char *name,
                             size_t len, uint32_t hash) {
  uvp__topic *tp = uvp__calloc(a, 1, sizeof *tp);
  char *copy = tp != NULL ? uvp__malloc(a, len + 1) : NULL;
  if (copy == NULL) {
    uvp__free(a, tp);
    return NULL;
  }
  memcpy(copy, name, len);
  copy[len] = '\0';
  tp->name = copy;
  tp->name_len = (uint32_t)len;
  tp->hash = hash;
  return tp;
}

int uvp__topic_intern(uvp__topics *t, const char *name, size_t len,
                      uvp_topic *out_topic) {
  int rc = uvp__topic_check(name, len);
  if (rc < 0) return rc;
  uint32_t hash = hash_name(name, len);
  if (t->index_cap != 0) {
    uint32_t *at = index_find(t, name, len, hash);
    if (*at != 0) {
      *out_topic = *at;
      return 0;
    }
  }
  if (t->count >= t->max) return UVP_ENOSPC;
  if ((t->count + 1) * 2 > t->index_cap && (rc = index_grow(t)) < 0) return rc;
  if (t->count == t->cap) {
    uint32_t cap = t->cap ? t->cap * 2 : 16;
    uvp__topic **items = uvp__realloc(t->alloc, t->items, cap * sizeof *items);
    if (items == NULL) return UVP_ENOMEM;
    t->items = items;
    t->cap = cap;
  }
  uvp__topic *tp = topic_new(t->alloc, name, len, hash);
  if (tp == NULL) return UVP_ENOMEM;
  t->items[t->count++] = tp;
  *index_find(t, name, len, hash) = t->count;
  *out_topic = t->count;
  return 0;
}

int uvp__topic_add_sub(uvp__topics *t, uvp_topic topic, uint32_t slot,
                       uint32_t *out_pos) {
  uvp__topic *tp = uvp__topic_get(t, topic);
  if (tp == NULL) return UVP_ENOENT;
  if (tp->nsubs == tp->cap) {
    if (tp->cap == UINT32_MAX / 2) return UVP_ENOSPC;
    uint32_t cap = tp->cap ? tp->cap * 2 : 4;
    uint32_t *subs = uvp__realloc(t->alloc, tp->subs, cap * sizeof *subs);
    if (subs == NULL) return UVP_ENOMEM;
    tp->subs = subs;
    tp->cap = cap;
  }
  *out_pos = tp->nsubs;
  tp->subs[tp->nsubs++] = slot;
  return 0;
}

void uvp__topic_remove_sub(uvp__topics *t, uvp_topic topic, uint32_t pos) {
  uvp__topic *tp = uvp__topic_get(t, topic);
  assert(tp != NULL && pos < tp->nsubs && tp->subs[pos] != UVP__NONE);
  tp->subs[pos] = UVP__NONE;
  tp->ndead++;
}

/* Drops tombstones and tells each moved slot its new position. */
void uvp__topic_compact(uvp__topics *t, uvp__registry *reg, uvp_topic topic) {
  uvp__topic *tp = uvp__topic_get(t, topic);
  if (tp == NULL || tp->dispatching || tp->ndead * 2 < tp->nsubs) return;
  uint32_t n = 0;
  for (uint32_t i = 0; i < tp->nsubs; i++) {
    uint32_t idx = tp->subs[i];
    if (idx == UVP__NONE) continue;
    uvp__registry_at(reg, idx)->u.sub.pos = n;
    tp->subs[n++] = idx;
  }
  tp->nsubs = n;
  tp->ndead = 0;
}
