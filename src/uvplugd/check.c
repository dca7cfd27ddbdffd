/* Checking a plugin before it runs: open, verify and load it in a child
 * process with a host of its own, so that a constructor that crashes,
 * aborts or hangs costs the child, not the daemon (like `nginx -t`, but per
 * plugin). Used by --check for every plugin and by SIGHUP for the plugins
 * a new config adds or changes.
 *
 * The child is uvplugd itself, spawned afresh (posix_spawn of
 * /proc/self/exe with --check-one), not a bare fork: the running daemon
 * has the threads of its plugins, and running plugin code in a fork of a
 * multi-threaded process is undefined (a lock another thread held at the
 * fork stays held forever in the child).
 *
 *   parent ── posix_spawn ──► uvplugd --check-one: new loop, new host,
 *      │                       uvp_host_load ── exit
 *      │◄──── pipe (its fd 3): "why" on failure ──┘
 *      └── waitpid: exit 0 ok, 1 refused (why), signal N: crashed
 */
#define _GNU_SOURCE /* strsignal; environ */

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#include "daemon.h"

/* How long a child may take to load one plugin. */
#define UVPD_CHECK_TIMEOUT_S 10
/* The child's end of the pipe. */
#define UVPD_CHECK_FD 3

/* Plugins' own warnings and errors are worth seeing in the child (a bad
 * config says why); their info lines (a counter's "seen 0 events" when it
 * stops) would only confuse the daemon's log. */
static void child_log(void *data, int level, const char *plugin,
                      const char *msg, size_t len) {
  (void)data;
  /* the host's own line says what the parent reports anyway */
  if (plugin == NULL || strcmp(plugin, "host") == 0) return;
  if (level <= UVP_LOG_WARN) dlog_plugin(level, plugin, msg, len);
}

static void write_all(int fd, const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    s += w;
    n -= (size_t)w;
  }
}

/* After a load: "descriptor NAME VERSION" for the parent to show. */
static void report_descriptor(uvp_host *host, const uvpd_plugin_conf *pc,
                              int fd) {
  const char *name = pc->name;
  if (name == NULL && uvp_host_plugin_name(host, 0, &name) != 0) return;
  uvp_plugin_info info;
  memset(&info, 0, sizeof info);
  info.size = sizeof info;
  if (uvp_host_plugin_info(host, name, &info) != 0) return;
  char msg[300];
  int n = snprintf(msg, sizeof msg, "descriptor %s %s%s", info.desc_name,
                   info.desc_version[0] ? info.desc_version : "(no version)",
                   info.unload_safe ? ", unload-safe" : "");
  write_all(fd, msg, n > 0 ? (size_t)n : 0);
}

/* The child: loads pc into a host of its own, reports on fd; exit code. */
static int check_in_child(const uvpd_config *cfg, const uvpd_plugin_conf *pc,
                          int fd) {
  alarm(UVPD_CHECK_TIMEOUT_S);
  /* static: the loop outlives this frame until _exit. A plugin may queue
   * work in on_init (the NATS bridge does); the pool thread that runs it
   * then signals the loop's mutex and async handle, which must not be a
   * dead stack frame by then. */
  static uv_loop_t loop;
  uvp_host *host = NULL;
  uvp_host_options ho = UVP_HOST_OPTIONS_INIT;
  ho.log = child_log;
  ho.log_level = UVP_LOG_WARN;
  if (uv_loop_init(&loop) != 0 || uvp_host_new(&loop, &ho, &host) != 0) {
    write_all(fd, "cannot create a host", 20);
    return 1;
  }
  uvp_load_options lo = uvpd_load_options(cfg, pc);
  int rc = uvp_host_load(host, pc->resolved, pc->name, pc->config, &lo);
  if (rc == 0) {
    report_descriptor(host, pc, fd);
    return 0;
  }
  int status;
  const char *why = NULL;
  if (uvp_host_load_error(host, &status, &why) != 0 || status != rc)
    why = uvp_strerror(rc);
  char msg[1200];
  int n = snprintf(msg, sizeof msg, "%s (%s)", why, uvp_err_name(rc));
  write_all(fd, msg, n > 0 ? (size_t)n : 0);
  return 1;
}

/* uvplugd --check-one STRICT SHA256|"" REMOTE_LIMIT PATH NAME|"" CONFIG:
 * what check_in_child needs, as uvpd_check_plugin passes it. The process
 * ends right after, with _exit: the host is not closed, since nothing of
 * the plugin may run beyond its load. */
int uvpd_check_one_main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "uvplugd: --check-one is internal to uvplugd\n");
    return UVPD_EXIT_USAGE;
  }
  dlog_open(UVPD_TARGET_STDERR, UVP_LOG_WARN);
  uvpd_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.unsafe_loading = strcmp(argv[2], "1") != 0;
  uvpd_plugin_conf pc;
  memset(&pc, 0, sizeof pc);
  pc.has_sha256 = argv[3][0] != '\0';
  if (pc.has_sha256 && uvpd_parse_sha256(argv[3], pc.sha256) != 0) return 1;
  pc.remote_limit = (uint32_t)strtoul(argv[4], NULL, 10);
  pc.resolved = argv[5];
  pc.name = argv[6][0] != '\0' ? argv[6] : NULL;
  pc.config = argv[7];
  int rc = check_in_child(&cfg, &pc, UVPD_CHECK_FD);
  fflush(stderr);
  _exit(rc); /* not exit(): no atexit, no leak check of the open host */
}

/* Spawns `uvplugd --check-one ...` for pc with the pipe's write end as its
 * fd 3 and the daemon's signal handlers back to their defaults. */
static int spawn_check(const uvpd_config *cfg, const uvpd_plugin_conf *pc,
                       const int p[2], pid_t *pid) {
  char sha[65] = "", strict[2] = {cfg->unsafe_loading ? '0' : '1', '\0'};
  char limit[16];
  for (int i = 0; pc->has_sha256 && i < 32; i++)
    snprintf(sha + 2 * i, 3, "%02x", pc->sha256[i]);
  snprintf(limit, sizeof limit, "%u", (unsigned)pc->remote_limit);
  char *args[] = {"uvplugd",
                  "--check-one",
                  strict,
                  sha,
                  limit,
                  pc->resolved,
                  pc->name ? pc->name : "",
                  pc->config,
                  NULL};
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addclose(&fa, p[0]);
  posix_spawn_file_actions_adddup2(&fa, p[1], UVPD_CHECK_FD);
  posix_spawnattr_init(&at);
  posix_spawnattr_setsigdefault(&at, &all);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  int rc = posix_spawn(pid, "/proc/self/exe", &fa, &at, args, environ);
  posix_spawnattr_destroy(&at);
  posix_spawn_file_actions_destroy(&fa);
  return rc;
}

static void read_reason(int fd, char *why, size_t whylen) {
  size_t o = 0;
  while (o + 1 < whylen) {
    ssize_t r = read(fd, why + o, whylen - 1 - o);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    o += (size_t)r;
  }
  why[o] = '\0';
}

int uvpd_check_plugin(const uvpd_config *cfg, const uvpd_plugin_conf *pc,
                      char *why, size_t whylen) {
  int p[2];
  if (pipe(p) != 0) {
    snprintf(why, whylen, "pipe: %s", strerror(errno));
    return -1;
  }
  fflush(stderr);
  pid_t pid;
  int err = spawn_check(cfg, pc, p, &pid);
  if (err != 0) {
    snprintf(why, whylen, "cannot start the check: %s", strerror(err));
    close(p[0]);
    close(p[1]);
    return -1;
  }
  close(p[1]);
  read_reason(p[0], why, whylen);
  close(p[0]);
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;
  if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
    snprintf(why, whylen, "%s: still loading after %d s", pc->resolved,
             UVPD_CHECK_TIMEOUT_S);
  else if (WIFSIGNALED(st))
    snprintf(why, whylen, "%s: crashed while loading (signal %d, %s)",
             pc->resolved, WTERMSIG(st), strsignal(WTERMSIG(st)));
  else if (why[0] == '\0')
    snprintf(why, whylen, "%s: check exited with status %d", pc->resolved,
             WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  return -1;
}

int uvpd_check_all(const uvpd_config *cfg) {
  int problems = 0, checked = 0;
  for (size_t i = 0; i < cfg->n_plugins; i++) {
    const uvpd_plugin_conf *pc = &cfg->plugins[i];
    const char *name = pc->name ? pc->name : pc->path;
    if (!pc->enabled) {
      dlog(UVP_LOG_INFO, "check: %s: disabled, not checked", name);
      continue;
    }
    if (pc->resolved == NULL) continue; /* no path: a config error */
    char why[1300];
    checked++;
    if (uvpd_check_plugin(cfg, pc, why, sizeof why) == 0) {
      dlog(UVP_LOG_INFO, "check: %s: ok (%s)%s%s", name, pc->resolved,
           why[0] ? " " : "", why);
    } else {
      dlog(UVP_LOG_ERROR, "check: %s: %s", name, why);
      problems++;
    }
  }
  dlog(problems ? UVP_LOG_ERROR : UVP_LOG_INFO,
       "check: %d plugin(s) checked, %d problem(s)", checked, problems);
  return problems;
}
