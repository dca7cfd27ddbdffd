/* The bridge's config string: space-separated key=value tokens
 * (docs/nats-bridge.md, "Config"). Thread: any thread (pure).
 */
#ifndef NB_CONFIG_H
#define NB_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* Largest `pending`: libnats 3.4 refuses a subscription bound of 2^21. */
#define NB_PENDING_MAX 2097151u

typedef struct nb_config {
  char url[256];    /* url=: the NATS server(s), comma-separated */
  char prefix[128]; /* prefix=: out topic T goes to subject prefix + T */
  char status[256]; /* status=: local topic of connection events */
  char **out;       /* out=: local topics sent to NATS */
  size_t n_out;
  char **in; /* in=: NATS subjects received (wildcards allowed) */
  size_t n_in;
  uint64_t buffer;            /* buffer=: reconnect buffer, bytes */
  uint64_t inbox;             /* inbox=: messages waiting for the loop */
  uint64_t pending;           /* pending=: libnats per-subscription bound */
  uint64_t batch;             /* batch=: messages per loop callback */
  uint64_t sync_ms;           /* sync_ms=: sync frame period; 0: none */
  uint64_t reconnect_wait_ms; /* reconnect_wait_ms= */
  int echo;                   /* echo=1: let the server echo our messages */
} nb_config;

/* Parses text into c (defaults first). Returns 0, or -1 with a message in
 * err (err_cap bytes) naming the bad token. nb_config_free frees c either
 * way. */
int nb_config_parse(const char *text, nb_config *c, char *err, size_t err_cap);

void nb_config_free(nb_config *c);

/* Whether s is usable as NATS subject tokens: 1..255 bytes, no space, tab,
 * '*' or '>', no empty token. */
int nb_subject_ok(const char *s, size_t len);

#endif
