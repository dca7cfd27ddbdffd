/* The bridge's wire frame: what one NATS message carries (docs/nats-bridge.md).
 *
 *   0       u8   version (NB_FRAME_VERSION)
 *   1       u8   flags (NB_FRAME_SYNC: no payload, seq = last one sent)
 *   2       u8   topic name length, 1..255
 *   3       u8   0 (reserved)
 *   4..11   u64  origin id of the publishing bridge, little-endian
 *   12..19  u64  sequence number, per (origin, topic), from 1
 *   20..    topic name, then the payload (the rest of the message)
 *
 * Thread: pure functions, any thread.
 */
#ifndef NB_FRAME_H
#define NB_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define NB_FRAME_VERSION 1
#define NB_FRAME_HDR 20
#define NB_FRAME_SYNC 0x01u

typedef struct nb_frame {
  uint8_t flags;
  uint64_t origin;
  uint64_t seq;
  const char *topic; /* points into the decoded buffer */
  size_t topic_len;
  const void *data; /* points into the decoded buffer; NULL when len 0 */
  size_t len;
} nb_frame;

/* Bytes a frame of this topic and payload takes. */
size_t nb_frame_size(size_t topic_len, size_t len);

/* Writes the frame into out (nb_frame_size bytes); f->topic_len must be
 * 1..255. Returns the bytes written. */
size_t nb_frame_encode(const nb_frame *f, unsigned char *out);

/* Parses buf; f's pointers then point into buf. Returns 0, or -1 for a
 * frame that is too short, of another version or with an empty topic. */
int nb_frame_decode(const void *buf, size_t len, nb_frame *f);

#endif
