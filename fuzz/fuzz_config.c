/* fuzz_config (contract B12): fuzzed bytes as uvplugd's config file,
 * through the daemon's own parser and checks: uvpd_config_load (its line
 * reader, libinih, the key and value checks, "[plugin X] has no path", the
 * relative plugin_dir), plus "-p SPEC" lines as command-line plugins
 * (uvpd_config_add_spec), then what start-up and SIGHUP do with the result:
 * uvpd_config_resolve, uvpd_load_options, uvpd_plugin_conf_copy / _same,
 * uvpd_config_free. The file is a memfd named by its /proc/self/fd path. Log
 * lines are formatted and written (run with -close_fd_mask=2 to drop them).
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon.h"

static int memfd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  memfd = memfd_create("fuzz_config", MFD_CLOEXEC);
  if (memfd < 0) abort();
  snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
  dlog_open(UVPD_TARGET_STDERR, UVP_LOG_DEBUG);
  return 0;
}

/* What the checks promise about a config they passed. */
static void check_valid(const uvpd_config *cfg) {
  for (size_t i = 0; i < cfg->n_plugins; i++) {
    const uvpd_plugin_conf *p = &cfg->plugins[i];
    if (p->path == NULL || p->config == NULL || p->resolved == NULL) abort();
    if (p->from_cli && p->name == NULL) continue; /* named by its descriptor */
    if (p->name == NULL || p->path[0] == '\0') abort();
    size_t n = strlen(p->name);
    if (n == 0 || n > UVP_NAME_MAX) abort();
    for (size_t j = 0; j < i; j++)
      if (!cfg->plugins[j].from_cli && !p->from_cli &&
          strcmp(cfg->plugins[j].name, p->name) == 0)
        abort();
  }
  if (cfg->restart_max_per_min < 1 || cfg->restart_max_per_min > 16) abort();
}

/* Lines "-p SPEC" are also given as the command line's -p PATH[:NAME[:C]]
 * (uvpd_config_add_spec), after the file, as uvplugd does; returns the
 * specs refused. */
static int add_specs(uvpd_config *cfg, const uint8_t *data, size_t size) {
  int bad = 0;
  for (size_t i = 0; i + 3 <= size; i++) {
    if ((i != 0 && data[i - 1] != '\n') || memcmp(data + i, "-p ", 3) != 0)
      continue;
    const uint8_t *end = memchr(data + i, '\n', size - i);
    size_t n = (end ? (size_t)(end - data) : size) - i - 3;
    char *spec = strndup((const char *)data + i + 3, n);
    if (spec == NULL) abort();
    bad += uvpd_config_add_spec(cfg, spec) != 0;
    free(spec);
  }
  return bad;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (ftruncate(memfd, 0) != 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
    abort();
  uvpd_config cfg;
  int errors = uvpd_config_load(path, &cfg);
  if (errors < 0) abort();
  errors += add_specs(&cfg, data, size);
  if (uvpd_config_resolve(&cfg) != 0) abort();
  if (errors == 0) check_valid(&cfg);
  for (size_t i = 0; i < cfg.n_plugins; i++) {
    uvpd_plugin_conf *p = &cfg.plugins[i];
    uvp_load_options o = uvpd_load_options(&cfg, p);
    if (o.sha256 != NULL && !p->has_sha256) abort();
    uvpd_plugin_conf copy;
    if (uvpd_plugin_conf_copy(&copy, p) != 0) abort();
    if (!uvpd_plugin_conf_same(&copy, p)) abort();
    uvpd_plugin_conf_free(&copy);
  }
  uvpd_config_free(&cfg);
  return 0;
}
