/* Encoding and decoding of the bridge's frame (frame.h). Little-endian by
 * hand, so the wire format does not depend on the host's byte order.
 * Thread: any thread.
 */
#include "frame.h"

#include <string.h>

static void put64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

size_t nb_frame_size(size_t topic_len, size_t len) {
  return NB_FRAME_HDR + topic_len + len;
}

size_t nb_frame_encode(const nb_frame *f, unsigned char *out) {
  out[0] = NB_FRAME_VERSION;
  out[1] = f->flags;
  out[2] = (unsigned char)f->topic_len;
  out[3] = 0;
  put64(out + 4, f->origin);
  put64(out + 12, f->seq);
  memcpy(out + NB_FRAME_HDR, f->topic, f->topic_len);
  if (f->len != 0) memcpy(out + NB_FRAME_HDR + f->topic_len, f->data, f->len);
  return nb_frame_size(f->topic_len, f->len);
}

int nb_frame_decode(const void *buf, size_t len, nb_frame *f) {
  const unsigned char *p = buf;
  if (buf == NULL || len < NB_FRAME_HDR || p[0] != NB_FRAME_VERSION) return -1;
  size_t tlen = p[2];
  if (tlen == 0 || len < NB_FRAME_HDR + tlen) return -1;
  f->flags = p[1];
  f->origin = get64(p + 4);
  f->seq = get64(p + 12);
  f->topic = (const char *)p + NB_FRAME_HDR;
  f->topic_len = tlen;
  f->len = len - NB_FRAME_HDR - tlen;
  f->data = f->len ? p + NB_FRAME_HDR + tlen : NULL;
  return 0;
}
