/* Shared helpers of the uvplug tests: a loop + host fixture, a log capture
 * hook, loop drivers with a safety cap, a payload recorder, plugin paths and
 * the Check boilerplate every test file repeats.
 *
 * Thread: everything here runs on the fixture's loop thread, except
 * uvt_timeout/uvt_scale/uvt_valgrind, which are pure.
 */
#ifndef UVP_TEST_H
#define UVP_TEST_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "uvplug/uvplug.h"

/* ---------------------------------------------------------------------- */
/* Environment                                                            */
/* ---------------------------------------------------------------------- */

/* True when the test runs under valgrind (env UVP_VALGRIND set). */
bool uvt_valgrind(void);
/* n, or n / 10 (at least 1) under valgrind: shrink big loops. */
int uvt_scale(int n);
/* TCase timeout in seconds: generous under valgrind. */
int uvt_timeout(void);
/* Creates a TCase with uvt_timeout() and adds it to s. */
TCase *uvt_tcase(Suite *s, const char *name);
/* Runs s (Check's fork mode unless CK_FORK=no), returns the exit status. */
int uvt_main(Suite *s);

/* ---------------------------------------------------------------------- */
/* Log capture                                                            */
/* ---------------------------------------------------------------------- */

#define UVT_LOG_LINES 256
#define UVT_LOG_LEN 512

typedef struct uvt_log_line {
  int level;
  bool on_loop_thread; /* the hook ran on the fixture's loop thread (T1) */
  char plugin[UVP_NAME_MAX + 1];
  char msg[UVT_LOG_LEN];
} uvt_log_line;

typedef struct uvt_log {
  int n;       /* lines recorded (capped at UVT_LOG_LINES) */
  int dropped; /* lines past the cap */
  uv_thread_t loop_thread;
  uvt_log_line lines[UVT_LOG_LINES];
} uvt_log;

/* uvp_log_fn that appends to the uvt_log given as log_data. Prints the
 * line to stderr too when UVT_VERBOSE is set. */
void uvt_log_hook(void *log_data, int level, const char *plugin,
                  const char *msg, size_t len);
/* Lines from index `from` on whose msg or plugin contains needle. */
int uvt_log_count(const uvt_log *log, int from, const char *needle);
/* Lines from index `from` on whose plugin field equals plugin. */
int uvt_log_count_from(const uvt_log *log, int from, const char *plugin);
/* Lines recorded off the loop thread (must be 0, T1). */
int uvt_log_off_thread(const uvt_log *log);

/* ---------------------------------------------------------------------- */
/* Fixture: a loop, a host on it, the host's own ctx and API              */
/* ---------------------------------------------------------------------- */

typedef struct uvt_fx {
  uv_loop_t loop;
  uv_timer_t tick; /* wakes uv_run(ONCE) every ms while a driver waits */
  uvp_host *host;  /* NULL once closed */
  uvp_ctx *ctx;    /* uvp_host_ctx */
  const uvp_api *api;
  int closed; /* on_closed calls */
  uvt_log log;
} uvt_fx;

/* Initializes loop and host. opts may be NULL; its log hook is replaced by
 * uvt_log_hook on fx->log (log_level kept when opts sets it). */
void uvt_fx_init(uvt_fx *fx, const uvp_host_options *opts);
/* Closes the host (if still open), runs the loop until on_closed ran
 * exactly once, then closes the loop and asserts uv_loop_close == 0. */
void uvt_fx_close(uvt_fx *fx);
/* Closes only the host and runs until on_closed; the loop stays usable. */
void uvt_fx_close_host(uvt_fx *fx);

typedef bool (*uvt_pred)(void *arg);

/* Runs uv_run(ONCE) turns until pred(arg) holds; at most max_turns turns
 * (each turn waits at most ~1 ms). Returns whether pred held. */
bool uvt_run_until(uvt_fx *fx, uvt_pred pred, void *arg, int max_turns);
/* Runs until *counter >= want (cap: 5000 turns). Returns whether it did. */
bool uvt_run_until_int(uvt_fx *fx, const int *counter, int want);
/* Runs exactly n uv_run(NOWAIT) turns: lets queued work drain. */
void uvt_run_turns(uvt_fx *fx, int n);

/* The host ctx's topic id for name (asserts success). */
uvp_topic uvt_topic(uvt_fx *fx, const char *name);

/* ---------------------------------------------------------------------- */
/* Recorder of payloads and callbacks                                     */
/* ---------------------------------------------------------------------- */

#define UVT_REC_MAX 128
#define UVT_REC_LEN 256

typedef struct uvt_rec {
  int n;
  int calls;    /* callback calls, including ones past UVT_REC_MAX */
  int destroys; /* destroy calls with this recorder as user_data */
  int depth;    /* callbacks on the stack (D2: must never exceed 1) */
  int max_depth;
  bool off_thread; /* a callback or destroy ran off the loop thread (T1) */
  uv_thread_t loop_thread;
  uvp_topic topic[UVT_REC_MAX];
  size_t len[UVT_REC_MAX];
  char data[UVT_REC_MAX][UVT_REC_LEN + 1]; /* NUL-terminated copy */
} uvt_rec;

void uvt_rec_init(uvt_rec *rec);
/* Appends (topic, data, len); data truncated to UVT_REC_LEN bytes. */
void uvt_rec_push(uvt_rec *rec, uvp_topic topic, const void *data, size_t len);
/* uvp_event_cb recording every event into the uvt_rec user_data. */
int uvt_rec_cb(uvp_ctx *ctx, const uvp_event *ev, void *user_data);
/* Subscribes the fixture's host ctx to topic with uvt_rec_cb into rec (no
 * destroy); returns the id. */
uvp_id uvt_rec_subscribe(uvt_fx *fx, uvt_rec *rec, const char *topic);
/* uvp_destroy_fn counting into the uvt_rec user_data. */
void uvt_rec_destroy(void *user_data);
/* Asserts the i-th record equals the NUL-terminated string s. */
#define uvt_rec_is(rec, i, s)                      \
  do {                                             \
    ck_assert_int_gt((rec)->n, (i));               \
    ck_assert_uint_eq((rec)->len[(i)], strlen(s)); \
    ck_assert_str_eq((rec)->data[(i)], (s));       \
  } while (0)

/* ---------------------------------------------------------------------- */
/* Plugins                                                                */
/* ---------------------------------------------------------------------- */

/* dir "/" name into a static buffer (one of 8 rotating buffers). */
const char *uvt_path(const char *dir, const char *name);
/* Calls `uint64_t sym(void)` exported by the already-mapped object path
 * (dlopen RTLD_NOLOAD). Fails the test when the object is not mapped or
 * lacks sym. */
uint64_t uvt_sym_u64(const char *path, const char *sym);
/* The same for `const char *sym(void)`, e.g. a plugin's trace. */
const char *uvt_sym_str(const char *path, const char *sym);
/* Copies the file from to the file to (created or truncated). */
void uvt_copy_file(const char *from, const char *to);
/* Whether path is currently mapped in the process (RTLD_NOLOAD). */
bool uvt_is_mapped(const char *path);
/* Whether path exists as a file. */
bool uvt_file_exists(const char *path);

/* Reads a plugin's stats; returns the uvp_host_plugin_stats status. */
int uvt_stats(uvt_fx *fx, const char *name, uvp_plugin_stats *out);

#endif /* UVP_TEST_H */
