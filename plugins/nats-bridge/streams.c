/* Per-stream sequence accounting (streams.h). A linear table with a
 * one-entry cache: a bridge sees a handful of streams (peers x topics),
 * and consecutive frames almost always belong to the same one.
 * Thread: the loop thread.
 */
#include "streams.h"

#include <stdlib.h>

static nb_stream *find(nb_streams *s, uint64_t origin, uint32_t topic) {
  if (s->hit < s->n && s->v[s->hit].origin == origin &&
      s->v[s->hit].topic == topic)
    return &s->v[s->hit];
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].origin == origin && s->v[i].topic == topic) {
      s->hit = i;
      return &s->v[i];
    }
  return NULL;
}

static nb_stream *add(nb_streams *s, uint64_t origin, uint32_t topic) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 8;
    nb_stream *v = realloc(s->v, cap * sizeof *v);
    if (v == NULL) return NULL;
    s->v = v;
    s->cap = cap;
  }
  s->hit = s->n;
  nb_stream *st = &s->v[s->n++];
  st->origin = origin;
  st->topic = topic;
  st->last = 0;
  return st;
}

int nb_streams_seen(nb_streams *s, uint64_t origin, uint32_t topic,
                    uint64_t seq, int is_sync, nb_seen *out) {
  out->dropped = 0;
  out->out_of_order = 0;
  nb_stream *st = find(s, origin, topic);
  if (st == NULL) {
    if ((st = add(s, origin, topic)) == NULL) return -1;
    st->last = is_sync ? seq : seq - 1; /* baseline: nothing before it */
  }
  if (seq > st->last) {
    out->dropped = seq - st->last - (is_sync ? 0 : 1);
    st->last = seq;
  } else if (!is_sync) {
    out->out_of_order = 1;
  }
  return 0;
}

void nb_streams_free(nb_streams *s) {
  free(s->v);
  s->v = NULL;
  s->n = s->cap = s->hit = 0;
}
