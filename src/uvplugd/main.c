/* uvplugd: the demo daemon, and the seed of the real one.
 *
 *   uvplugd [--run-ms N] [--quiet] SPEC...
 *   SPEC = PATH[:NAME[:CONFIG]]   (split on the first two ':' only)
 *
 * It embeds uvplug exactly as any C daemon would (docs/embedding.md): one
 * libuv loop, one host on it, each SPEC loaded in order, then the loop runs
 * until --run-ms elapses or SIGINT/SIGTERM arrives. On the way out it prints
 * one stats line per plugin, closes the host with a callback and runs the
 * loop until everything is closed, so uv_loop_close succeeds.
 *
 * Thread rule: everything runs on the main thread, which runs the loop and
 * owns the host (T3).
 *
 *   main ── uvp_host_new ── uvp_host_load × N ── uv_run ──┐
 *                                                        │ timer / signal
 *   exit ◄─ uv_loop_close ◄─ uv_run returns ◄─ on_closed ◄─ stop(): stats,
 *                                                  uvp_host_close, uv_close
 *
 * Exit status: 0 on a clean run, 2 on bad usage or a plugin that cannot be
 * loaded, 1 on any other failure.
 */
/* strdup and strsignal are POSIX, not C11. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include <uvplug/uvplug.h>

/* The daemon's state; lives on main's stack for the whole run. */
typedef struct uvpd {
  uv_loop_t loop;
  uvp_host *host;
  uv_signal_t sigint;
  uv_signal_t sigterm;
  uv_timer_t run_timer;
  uint64_t run_ms; /* 0: run until a signal */
  int quiet;       /* only warnings and errors from the log hook */
  int stopping;    /* stop() ran once */
  int host_closed; /* the host's on_closed ran */
} uvpd;

/* One parsed SPEC; the strings point into a copy of the argument. */
typedef struct uvpd_spec {
  char *buf;    /* owns the copy */
  char *path;   /* never NULL */
  char *name;   /* NULL: the descriptor's name */
  char *config; /* NULL: "" */
} uvpd_spec;

/* Print the usage line to f. */
static void usage(FILE *f) {
  fprintf(f,
          "usage: uvplugd [--run-ms N] [--quiet] SPEC...\n"
          "  SPEC     PATH[:NAME[:CONFIG]]  load PATH as instance NAME with "
          "CONFIG\n"
          "  --run-ms N  stop after N milliseconds (default: on SIGINT or "
          "SIGTERM)\n"
          "  --quiet     log only warnings and errors\n");
}

/* Name a uvp_log_level for the log prefix. */
static const char *level_name(int level) {
  switch (level) {
    case UVP_LOG_ERROR:
      return "error";
    case UVP_LOG_WARN:
      return "warn";
    case UVP_LOG_INFO:
      return "info";
    case UVP_LOG_DEBUG:
      return "debug";
    default:
      return "log";
  }
}

/* The host's log hook: `[level] plugin: msg` on stderr. Runs on the loop
 * thread and must not call back into the host. */
static void log_line(void *log_data, int level, const char *plugin,
                     const char *msg, size_t len) {
  (void)log_data;
  int n = len > INT_MAX ? INT_MAX : (int)len;
  fprintf(stderr, "[%s] %s: %.*s\n", level_name(level),
          plugin != NULL ? plugin : "?", n, msg != NULL ? msg : "");
}

/* Split arg as PATH[:NAME[:CONFIG]] on its first two ':'. An empty NAME
 * means the descriptor's name. Returns 0, or UVP_EINVAL / UVP_ENOMEM. */
static int spec_parse(const char *arg, uvpd_spec *out) {
  if (arg == NULL || arg[0] == '\0' || arg[0] == ':') return UVP_EINVAL;
  char *buf = strdup(arg);
  if (buf == NULL) return UVP_ENOMEM;

  out->buf = buf;
  out->path = buf;
  out->name = NULL;
  out->config = NULL;

  char *sep = strchr(buf, ':');
  if (sep == NULL) return 0;
  *sep = '\0';
  out->name = sep + 1;

  sep = strchr(out->name, ':');
  if (sep != NULL) {
    *sep = '\0';
    out->config = sep + 1;
  }
  if (out->name[0] == '\0') out->name = NULL;
  return 0;
}

/* Parse a non-negative millisecond count; returns 0 or -1. */
static int parse_ms(const char *s, uint64_t *out_ms) {
  if (s == NULL || *s < '0' || *s > '9') return -1;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0') return -1;
  *out_ms = (uint64_t)v;
  return 0;
}

/* Print one line of counters per loaded plugin, in load order, on stdout. */
static void print_stats(uvpd *d) {
  const char *name;
  for (uint32_t i = 0; uvp_host_plugin_name(d->host, i, &name) == 0; i++) {
    uvp_plugin_stats st;
    memset(&st, 0, sizeof(st));
    st.size = sizeof(st);
    int rc = uvp_host_plugin_stats(d->host, name, &st);
    if (rc < 0) {
      printf("plugin %s: stats unavailable: %s\n", name, uvp_err_name(rc));
      continue;
    }
    printf("plugin %s: calls=%" PRIu64 " events=%" PRIu64 " published=%" PRIu64
           " errors=%" PRIu64 " panics=%" PRIu64 "\n",
           name, st.calls, st.events, st.published, st.errors, st.panics);
  }
  fflush(stdout);
}

/* uvp_host_close finished: the host is freed. */
static void on_host_closed(void *data) {
  uvpd *d = data;
  d->host = NULL;
  d->host_closed = 1;
}

/* Close one of our handles unless it was never initialised or is closing. */
static void close_handle(uv_handle_t *h) {
  if (h->loop != NULL && !uv_is_closing(h)) uv_close(h, NULL);
}

/* Close the host (stats first when wanted) and our own handles. The loop
 * then runs out of work and uv_run returns. Safe to call more than once.
 * After the signal handles are closed a second SIGINT gets the default
 * action, which is the escape hatch if a plugin hangs the shutdown. */
static void stop(uvpd *d, int want_stats) {
  if (d->stopping) return;
  d->stopping = 1;

  if (d->host != NULL) {
    if (want_stats) print_stats(d);
    int rc = uvp_host_close(d->host, on_host_closed, d);
    if (rc < 0) {
      fprintf(stderr, "uvplugd: uvp_host_close: %s (%s)\n", uvp_err_name(rc),
              uvp_strerror(rc));
      d->host = NULL;
    }
  }
  close_handle((uv_handle_t *)&d->sigint);
  close_handle((uv_handle_t *)&d->sigterm);
  close_handle((uv_handle_t *)&d->run_timer);
}

/* --run-ms elapsed. */
static void on_run_timer(uv_timer_t *t) {
  uvpd *d = t->data;
  stop(d, 1);
}

/* SIGINT or SIGTERM arrived. */
static void on_signal(uv_signal_t *s, int signum) {
  uvpd *d = s->data;
  if (!d->quiet) fprintf(stderr, "uvplugd: %s, stopping\n", strsignal(signum));
  stop(d, 1);
}

/* Print a handle still open at exit (uv_walk callback): a leak to fix. */
static void report_handle(uv_handle_t *h, void *arg) {
  (void)arg;
  fprintf(stderr, "uvplugd: handle still open at exit: %s%s\n",
          uv_handle_type_name(uv_handle_get_type(h)),
          uv_is_closing(h) ? " (closing)" : "");
}

/* Run the loop until nothing is left, then close it. Returns 0 or 1. */
static int drain_and_close(uvpd *d) {
  uv_run(&d->loop, UV_RUN_DEFAULT);
  int rc = uv_loop_close(&d->loop);
  if (rc != 0) {
    fprintf(stderr, "uvplugd: uv_loop_close: %s\n", uv_strerror(rc));
    uv_walk(&d->loop, report_handle, NULL);
    return 1;
  }
  return 0;
}

/* Start the handles that end the run: SIGINT, SIGTERM and --run-ms. */
static int start_stoppers(uvpd *d) {
  int rc = uv_signal_init(&d->loop, &d->sigint);
  if (rc == 0) {
    d->sigint.data = d;
    rc = uv_signal_start(&d->sigint, on_signal, SIGINT);
  }
  if (rc == 0) rc = uv_signal_init(&d->loop, &d->sigterm);
  if (rc == 0) {
    d->sigterm.data = d;
    rc = uv_signal_start(&d->sigterm, on_signal, SIGTERM);
  }
  if (rc == 0 && d->run_ms > 0) {
    rc = uv_timer_init(&d->loop, &d->run_timer);
    if (rc == 0) {
      d->run_timer.data = d;
      rc = uv_timer_start(&d->run_timer, on_run_timer, d->run_ms, 0);
    }
  }
  if (rc != 0) fprintf(stderr, "uvplugd: libuv: %s\n", uv_strerror(rc));
  return rc;
}

/* Load every SPEC in order. Returns 0, or 2 after printing why. */
static int load_all(uvpd *d, char **specs, int n) {
  for (int i = 0; i < n; i++) {
    uvpd_spec spec;
    int rc = spec_parse(specs[i], &spec);
    if (rc < 0) {
      fprintf(stderr, "uvplugd: bad SPEC '%s': %s\n", specs[i],
              uvp_strerror(rc));
      return 2;
    }
    rc = uvp_host_load(d->host, spec.path, spec.name, spec.config, NULL);
    if (rc < 0) {
      int status;
      const char *why = NULL;
      if (uvp_host_load_error(d->host, &status, &why) < 0 || status != rc)
        why = uvp_strerror(rc);
      /* why is "PATH: cause", escaped by the host (contract A15, A16) */
      fprintf(stderr, "uvplugd: cannot load: %s (%s)\n", why, uvp_err_name(rc));
      free(spec.buf);
      return 2;
    }
    if (!d->quiet) {
      fprintf(stderr, "uvplugd: loaded %s as %s\n", spec.path,
              spec.name != NULL ? spec.name : "(descriptor name)");
    }
    free(spec.buf);
  }
  return 0;
}

/* Parse options, run the host, shut down cleanly. */
int main(int argc, char **argv) {
  uvpd d;
  memset(&d, 0, sizeof(d));

  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
      d.quiet = 1;
    } else if (strcmp(a, "--run-ms") == 0 && i + 1 < argc) {
      if (parse_ms(argv[++i], &d.run_ms) != 0) {
        fprintf(stderr, "uvplugd: --run-ms wants milliseconds, got '%s'\n",
                argv[i]);
        return 2;
      }
    } else if (strncmp(a, "--run-ms=", 9) == 0) {
      if (parse_ms(a + 9, &d.run_ms) != 0) {
        fprintf(stderr, "uvplugd: --run-ms wants milliseconds, got '%s'\n",
                a + 9);
        return 2;
      }
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    } else {
      fprintf(stderr, "uvplugd: unknown option '%s'\n", a);
      usage(stderr);
      return 2;
    }
  }
  if (i >= argc) {
    usage(stderr);
    return 2;
  }

  int rc = uv_loop_init(&d.loop);
  if (rc != 0) {
    fprintf(stderr, "uvplugd: uv_loop_init: %s\n", uv_strerror(rc));
    return 1;
  }

  uvp_host_options opts = UVP_HOST_OPTIONS_INIT;
  opts.log = log_line;
  opts.log_data = &d;
  opts.log_level = d.quiet ? UVP_LOG_WARN : UVP_LOG_INFO;
  rc = uvp_host_new(&d.loop, &opts, &d.host);
  if (rc < 0) {
    fprintf(stderr, "uvplugd: uvp_host_new: %s (%s)\n", uvp_err_name(rc),
            uvp_strerror(rc));
    uv_loop_close(&d.loop);
    return 1;
  }

  int status = load_all(&d, argv + i, argc - i);
  if (status == 0 && start_stoppers(&d) != 0) status = 1;
  if (status != 0) stop(&d, 0);

  if (drain_and_close(&d) != 0 && status == 0) status = 1;
  if (!d.host_closed) {
    fprintf(stderr, "uvplugd: the host did not finish closing\n");
    if (status == 0) status = 1;
  }
  return status;
}
