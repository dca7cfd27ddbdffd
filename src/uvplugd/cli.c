/* uvplugd's command line.
 *
 *   uvplugd -c FILE [options]
 *   uvplugd [options] --plugin PATH[:NAME[:CONFIG]]... [SPEC...]
 *
 * Options are parsed by hand (getopt_long would permute and accept
 * abbreviations; the set is small and each wants a precise error).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

#ifndef UVPD_VERSION
#define UVPD_VERSION "0.0.0"
#endif

static void usage(FILE *f) {
  fprintf(
      f,
      "usage: uvplugd -c FILE [options]\n"
      "       uvplugd [options] --plugin PATH[:NAME[:CONFIG]]... [SPEC...]\n"
      "\n"
      "  -c, --config FILE      read the config file FILE (INI)\n"
      "  --plugin SPEC          load a plugin: PATH[:NAME[:CONFIG]], "
      "repeatable;\n"
      "                         a bare SPEC argument means the same\n"
      "  --plugin-dir DIR       directory of relative plugin paths "
      "(overrides\n"
      "                         plugin_dir of the file)\n"
      "  --check                check the config and every plugin, then exit\n"
      "  --log-level LEVEL      error, warn, info or debug (overrides the "
      "file)\n"
      "  -q, --quiet            same as --log-level warn\n"
      "  --run-ms N             stop by itself after N milliseconds\n"
      "  --version              print the daemon, library and ABI versions\n"
      "  -h, --help             print this help\n"
      "\n"
      "Exit codes: 0 ok, 1 --check found problems or runtime failure, 2 bad\n"
      "usage, 3 config error, 4 a plugin failed to load at start-up, 5 "
      "forced\n"
      "exit on a second SIGTERM/SIGINT. See docs/uvplugd.md.\n");
}

static void version(void) {
  printf("uvplugd %s\nlibuvplug %s (built against %s)\nplugin ABI %d.%d\n",
         UVPD_VERSION, uvp_version_string(), UVP_VERSION_STRING, UVP_ABI_MAJOR,
         UVP_ABI_MINOR);
}

static int parse_ms(const char *s, uint64_t *out) {
  if (s == NULL || *s < '0' || *s > '9') return -1;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0') return -1;
  *out = (uint64_t)v;
  return 0;
}

/* "--opt VALUE" or "--opt=VALUE": the value, advancing *i; NULL if a is
 * not opt. *missing is set when opt has no value. */
static const char *opt_value(int argc, char **argv, int *i, const char *opt,
                             int *missing) {
  const char *a = argv[*i];
  size_t n = strlen(opt);
  if (strncmp(a, opt, n) != 0) return NULL;
  if (a[n] == '=') return a + n + 1;
  if (a[n] != '\0') return NULL;
  if (*i + 1 >= argc) {
    *missing = 1;
    return NULL;
  }
  return argv[++*i];
}

static int add_plugin(uvpd_cli *c, char *spec) {
  char **p = realloc(c->plugins, sizeof *p * (size_t)(c->n_plugins + 1));
  if (p == NULL) return -1;
  c->plugins = p;
  c->plugins[c->n_plugins++] = spec;
  return 0;
}

static int bad(const char *fmt, const char *arg) {
  fprintf(stderr, "uvplugd: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n(uvplugd --help lists the options)\n");
  return UVPD_EXIT_USAGE;
}

/* One option at argv[*i]; returns -1 to go on or an exit code. */
static int parse_one(int argc, char **argv, int *i, uvpd_cli *c) {
  const char *a = argv[*i];
  const char *v;
  int missing = 0;
  if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
    usage(stdout);
    return UVPD_EXIT_OK;
  }
  if (strcmp(a, "--version") == 0) {
    version();
    return UVPD_EXIT_OK;
  }
  if (strcmp(a, "--check") == 0) {
    c->check = 1;
  } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
    c->log_level = UVP_LOG_WARN;
  } else if ((v = opt_value(argc, argv, i, "-c", &missing)) != NULL ||
             (v = opt_value(argc, argv, i, "--config", &missing)) != NULL) {
    c->config_file = v;
  } else if ((v = opt_value(argc, argv, i, "--plugin-dir", &missing)) != NULL) {
    c->plugin_dir = v;
  } else if ((v = opt_value(argc, argv, i, "--plugin", &missing)) != NULL) {
    if (add_plugin(c, (char *)v) != 0) return UVPD_EXIT_FAILURE;
  } else if ((v = opt_value(argc, argv, i, "--log-level", &missing)) != NULL) {
    c->log_level = dlog_parse_level(v);
    if (c->log_level < 0)
      return bad("--log-level wants error, warn, info or debug, got '%s'", v);
  } else if ((v = opt_value(argc, argv, i, "--run-ms", &missing)) != NULL) {
    if (parse_ms(v, &c->run_ms) != 0)
      return bad("--run-ms wants milliseconds, got '%s'", v);
  } else if (missing) {
    return bad("option '%s' needs a value", a);
  } else {
    return bad("unknown option '%s'", a);
  }
  return -1;
}

int uvpd_cli_parse(int argc, char **argv, uvpd_cli *c) {
  memset(c, 0, sizeof *c);
  c->log_level = -1;
  int opts_done = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!opts_done && strcmp(a, "--") == 0) {
      opts_done = 1;
    } else if (!opts_done && a[0] == '-' && a[1] != '\0') {
      int rc = parse_one(argc, argv, &i, c);
      if (rc >= 0) return rc;
    } else if (add_plugin(c, argv[i]) != 0) {
      return UVPD_EXIT_FAILURE;
    }
  }
  if (c->config_file == NULL && c->n_plugins == 0) {
    fprintf(stderr, "uvplugd: nothing to run: give -c FILE or --plugin\n");
    usage(stderr);
    return UVPD_EXIT_USAGE;
  }
  return -1;
}

void uvpd_cli_free(uvpd_cli *c) {
  free(c->plugins);
  c->plugins = NULL;
  c->n_plugins = 0;
}
