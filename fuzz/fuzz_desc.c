/* fuzz_desc (contract B11): fuzzed bytes as a plugin descriptor, through
 * the loader's own validation (uvp__desc_read: symbol size, magic, ABI
 * major, size, fields)
 * and its error record (uvp__load_done: the host's last load error).
 *
 * Input: [ctl][path_len][name_len][path bytes][name bytes][descriptor bytes]
 *   ctl bit 0: the ELF symbol size is known (the descriptor bytes are the
 *              whole symbol, as dladdr1 reports it) or unknown (0: the
 *              loader then trusts the struct, so the buffer is padded to
 *              sizeof(uvp_plugin_desc), as a real mapping would be);
 *   ctl bit 1: name points to a NUL-terminated copy of the name bytes,
 *              else NULL; bit 2: version likewise (the name bytes again);
 *   ctl bit 3: on_init is a real function, else NULL; bits 4-6 the same for
 *              on_start, on_stop, on_unload.
 * Pointer fields inside the descriptor bytes are overwritten so that every
 * pointer the loader may follow is valid, as it is in a mapped object; a
 * pointer field beyond the symbol's end is left alone (the loader must not
 * read it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "uvp-internal.h"
#include "uvplug/uvplug.h"

static uvp_host *host;
static uv_loop_t loop;

static void quiet(void *data, int level, const char *plugin, const char *msg,
                  size_t len) {
  (void)data, (void)level, (void)plugin, (void)msg, (void)len;
}

static int fake_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                     size_t len, void **out_state) {
  (void)ctx, (void)api, (void)config, (void)len, (void)out_state;
  return 0;
}
static int fake_start(uvp_ctx *ctx, void *state) {
  (void)ctx, (void)state;
  return 0;
}
static void fake_stop(uvp_ctx *ctx, void *state) { (void)ctx, (void)state; }
static void fake_unload(void *state) { (void)state; }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.log = quiet;
  o.log_level = UVP_LOG_DEBUG; /* format every line, drop it in quiet() */
  if (uv_loop_init(&loop) != 0 || uvp_host_new(&loop, &o, &host) != 0) abort();
  return 0;
}

/* Sets the field at off to v when the whole field lies within n bytes. */
static void put_ptr(unsigned char *buf, size_t n, size_t off, const void *v,
                    size_t vsize) {
  if (off + vsize <= n) memcpy(buf + off, v, vsize);
}

#define PUT(field, value)                                                \
  do {                                                                   \
    __typeof__(((uvp_plugin_desc *)0)->field) v_ = (value);              \
    put_ptr(buf, cap, offsetof(uvp_plugin_desc, field), &v_, sizeof v_); \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3) return 0;
  unsigned ctl = data[0];
  size_t plen = data[1], nlen = data[2];
  data += 3, size -= 3;
  if (plen + nlen > size) return 0;
  char *path = strndup((const char *)data, plen);
  char *name = strndup((const char *)data + plen, nlen);
  data += plen + nlen, size -= plen + nlen;

  int known = (ctl & 1) && size > 0; /* st_size 0 means "unknown" */
  size_t cap = known ? size : sizeof(uvp_plugin_desc);
  if (size > cap) size = cap;
  /* exactly the symbol's bytes: ASan sees any read past its end */
  unsigned char *buf = calloc(1, cap ? cap : 1);
  if (path == NULL || name == NULL || buf == NULL) abort();
  memcpy(buf, data, size);
  PUT(name, (ctl & 2) ? name : NULL);
  PUT(version, (ctl & 4) ? name : NULL);
  PUT(on_init, (ctl & 8) ? fake_init : NULL);
  PUT(on_start, (ctl & 16) ? fake_start : NULL);
  PUT(on_stop, (ctl & 32) ? fake_stop : NULL);
  PUT(on_unload, (ctl & 64) ? fake_unload : NULL);

  /* A symbol smaller than the header must be refused from its size alone,
   * before magic (past its end) is read: ASan checks that too. */
  uvp_plugin_desc out;
  int rc = uvp__desc_read(host, path, (const uvp_plugin_desc *)buf,
                          known ? cap : 0, &out);
  uvp__load_done(host, path, rc);

  /* What was accepted is exactly what the host will use later. */
  if (rc == 0) {
    if (out.size != sizeof out || out.magic != UVP_PLUGIN_MAGIC ||
        out.abi_major != UVP_ABI_MAJOR || out.on_init == NULL ||
        out.name == NULL || uvp__name_check(out.name) != 0)
      abort();
  } else if (rc != UVP_ESHORT && rc != UVP_EBADMAGIC && rc != UVP_EABI &&
             rc != UVP_EBADDESC) {
    abort(); /* a status the loader does not document for this step */
  }
  /* The last load error is a bounded, NUL-terminated line. */
  int st;
  const char *msg;
  if (uvp_host_load_error(host, &st, &msg) != 0 || st != rc) abort();
  if (rc != 0 && strnlen(msg, UVP__LOAD_ERROR_MAX) >= UVP__LOAD_ERROR_MAX)
    abort();
  free(buf);
  free(name);
  free(path);
  return 0;
}
