/* The daemon's log: every line, its own and the plugins', goes through
 * here.
 *
 *   stderr (default)   2026-12-02T00:40:00.123Z info counter-a: msg
 *   stderr = journal   <6>counter-a: msg      (JOURNAL_STREAM matches fd 2:
 *                      journald adds the time and keeps the level)
 *   syslog             syslog(LOG_INFO, "counter-a: msg")
 *
 * Control characters are escaped (\n, \t, \r, others as \xNN; in the
 * daemon's own lines \ as \\ too, as the host already does for plugins'
 * lines, A16) so one call is one line, and a message longer than UVPD_LOG_MAX
 * bytes after escaping is cut in the middle with a marker saying how many
 * bytes were dropped.
 * Loop thread only (the host calls its hook there, T3).
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

static int log_target = UVPD_TARGET_STDERR;
/* Worker loops log from their threads: the level is read everywhere and
 * set on reload, lines are built in one buffer under log_mu, and each
 * thread tags its lines with its worker (dlog_set_worker). */
static _Atomic int log_level = UVP_LOG_INFO;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local int log_worker = -1;
static int log_journal; /* stderr is connected to journald */
static int syslog_open;

/* JOURNAL_STREAM is "DEV:INO" of the stream systemd gave us; it only
 * counts when fd 2 is still that stream (not redirected by a wrapper). */
static int stderr_is_journal(void) {
  const char *js = getenv("JOURNAL_STREAM");
  if (js == NULL || js[0] == '\0') return 0;
  unsigned long long dev, ino;
  if (sscanf(js, "%llu:%llu", &dev, &ino) != 2) return 0;
  struct stat st;
  if (fstat(STDERR_FILENO, &st) != 0) return 0;
  return (unsigned long long)st.st_dev == dev &&
         (unsigned long long)st.st_ino == ino;
}

void dlog_open(int target, int level) {
  dlog_close();
  log_target = target;
  log_level = level;
  log_journal = stderr_is_journal();
  if (target == UVPD_TARGET_SYSLOG) {
    openlog("uvplugd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    syslog_open = 1;
  }
}

void dlog_set_level(int level) { log_level = level; }

void dlog_set_worker(int k) { log_worker = k; }

int dlog_level(void) { return log_level; }

void dlog_close(void) {
  if (syslog_open) closelog();
  syslog_open = 0;
  log_target = UVPD_TARGET_STDERR;
}

int dlog_parse_level(const char *s) {
  static const char *const names[] = {"error", "warn", "info", "debug"};
  for (int i = 0; i < 4; i++)
    if (strcmp(s, names[i]) == 0) return i;
  return -1;
}

const char *dlog_level_str(int level) {
  static const char *const names[] = {"error", "warn", "info", "debug"};
  return level >= 0 && level < 4 ? names[level] : "log";
}

/* syslog(3) priority of a uvp_log_level: also journald's <N> prefix. */
static int level_priority(int level) {
  static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
  return level >= 0 && level < 4 ? prio[level] : LOG_NOTICE;
}

/* Escape msg into out (room for 4 bytes per input byte); returns the
 * bytes written. */
static size_t escape(char *out, const char *msg, size_t len, int backslash) {
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)msg[i];
    if (c == '\n')
      memcpy(out + o, "\\n", 2), o += 2;
    else if (c == '\t')
      memcpy(out + o, "\\t", 2), o += 2;
    else if (c == '\r')
      memcpy(out + o, "\\r", 2), o += 2;
    else if (c == '\\' && backslash)
      memcpy(out + o, "\\\\", 2), o += 2;
    else if (c < 0x20 || c == 0x7f)
      o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
    else
      out[o++] = (char)c;
  }
  return o;
}

/* Cut an escaped line longer than UVPD_LOG_MAX in the middle, keeping its
 * start (who, which file) and its end (the cause), as the host does for
 * plugin lines (A16). Returns the new length. */
static size_t cut_middle(char *s, size_t n) {
  if (n <= UVPD_LOG_MAX) return n;
  char marker[48];
  size_t cut = n - UVPD_LOG_HEAD - UVPD_LOG_TAIL;
  int m = snprintf(marker, sizeof marker, " [... %zu bytes cut] ", cut);
  memmove(s + UVPD_LOG_HEAD + (size_t)m, s + n - UVPD_LOG_TAIL, UVPD_LOG_TAIL);
  memcpy(s + UVPD_LOG_HEAD, marker, (size_t)m);
  return UVPD_LOG_HEAD + (size_t)m + UVPD_LOG_TAIL;
}

/* "2026-12-02T00:40:00.123Z" (UTC, milliseconds). */
static void timestamp(char *buf, size_t n) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  size_t k = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + k, n - k, ".%03ldZ", ts.tv_nsec / 1000000L);
}

/* Build the message part and hand the line to its target. */
static void emit_locked(int level, const char *who, const char *msg, size_t len,
                        int backslash) {
  static char body[UVPD_LOG_IN_MAX * 4 + 1];
  if (len > UVPD_LOG_IN_MAX) len = UVPD_LOG_IN_MAX;
  size_t n = cut_middle(body, escape(body, msg, len, backslash));
  body[n] = '\0';

  if (log_target == UVPD_TARGET_SYSLOG) {
    syslog(level_priority(level), "%s: %s", who, body);
    return;
  }
  if (log_journal) {
    fprintf(stderr, "<%d>%s: %s\n", level_priority(level), who, body);
  } else {
    char ts[40];
    timestamp(ts, sizeof ts);
    fprintf(stderr, "%s %s %s: %s\n", ts, dlog_level_str(level), who, body);
  }
  fflush(stderr);
}

static void emit(int level, const char *who, const char *msg, size_t len,
                 int backslash) {
  if (level > log_level) return;
  char tagged[UVP_NAME_MAX + 16];
  if (log_worker >= 0) {
    snprintf(tagged, sizeof tagged, "%s@w%d", who, log_worker);
    who = tagged;
  }
  pthread_mutex_lock(&log_mu);
  emit_locked(level, who, msg, len, backslash);
  pthread_mutex_unlock(&log_mu);
}

void dlog(int level, const char *fmt, ...) {
  if (level > log_level) return;
  char buf[UVPD_LOG_IN_MAX];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  size_t len = (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
  emit(level, "uvplugd", buf, len, 1);
}

void dlog_plugin(int level, const char *plugin, const char *msg, size_t len) {
  emit(level, plugin != NULL ? plugin : "uvplug", msg != NULL ? msg : "",
       msg != NULL ? len : 0, 0);
}

void dlog_hook(void *data, int level, const char *plugin, const char *msg,
               size_t len) {
  (void)data;
  dlog_plugin(level, plugin, msg, len);
}
