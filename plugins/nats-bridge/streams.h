/* Receive-side accounting of the bridge: the last sequence number seen
 * per stream (origin bridge, topic), so that a gap is counted as dropped
 * (docs/nats-bridge.md, "Delivery"). Thread: the loop thread.
 */
#ifndef NB_STREAMS_H
#define NB_STREAMS_H

#include <stddef.h>
#include <stdint.h>

typedef struct nb_stream {
  uint64_t origin;
  uint32_t topic;
  uint64_t last; /* highest seq seen (or announced by a sync frame) */
} nb_stream;

typedef struct nb_streams {
  nb_stream *v;
  size_t n, cap;
  size_t hit; /* index of the last stream found: most frames repeat it */
} nb_streams;

/* What one frame changes. */
typedef struct nb_seen {
  uint64_t dropped; /* seqs skipped before this one */
  int out_of_order; /* 1: seq not above the last one (still delivered) */
} nb_seen;

/* Records seq for (origin, topic). A data frame (is_sync 0) of a new
 * stream sets its baseline: what came before the receiver saw the stream
 * is not counted. A sync frame announces the last seq sent: a gap up to it
 * is dropped. Returns 0, or -1 when a new stream cannot be stored (out of
 * memory; out is then zero). */
int nb_streams_seen(nb_streams *s, uint64_t origin, uint32_t topic,
                    uint64_t seq, int is_sync, nb_seen *out);

void nb_streams_free(nb_streams *s);

#endif
