/* Scenarios: the Rust plugin rust-plugins/examples/scenarios
 * (libscenarios.so) runs each of its named scenarios in the real host, and
 * its trace must equal tests/scenarios/NAME.trace, the same file its cargo
 * test (tests/golden.rs) compares the fake host's trace with: the fake
 * host of uvplug::testing and this host must agree line by line.
 *
 * The driver below does exactly what run_on_fake in golden.rs does, noting
 * each step in the trace; the scenarios and their trace live in the
 * plugin. The rules each scenario checks are named in its comment in
 * rust-plugins/examples/scenarios/src/lib.rs (D3, F1, W1, U6, L2, L8, R4,
 * D6, D1, D7, ...). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uvp_test.h"

#define SCN_PATH UVP_RUST_PLUGIN_DIR "/libscenarios.so"
#define SCN_MAX 64
#define LINES_MAX 256

/* The plugin's exported trace functions (see its lib.rs). */
static struct {
  void (*reset)(void);
  void (*note)(const char *line);
  uint64_t (*finished)(void);
  uint64_t (*kept)(void);
  uint64_t (*has_peer)(const char *name);
  const char *(*trace)(void);
  const char *(*names)(void);
} scn;

static char *names[SCN_MAX];
static int n_names;

static void note(const char *fmt, long v) {
  char line[64];
  snprintf(line, sizeof line, fmt, v);
  scn.note(line);
}

static bool finished(void *arg) {
  (void)arg;
  return scn.finished() != 0;
}

/* The driver: the same steps as run_on_fake in golden.rs. */
static void run_scenario(const char *name) {
  scn.reset();
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  char config[128];
  snprintf(config, sizeof config, "scenario=%s", name);
  note("load %ld", uvp_host_load(fx.host, SCN_PATH, "scn", config, NULL));
  if (scn.has_peer(name)) {
    strcat(config, ";peer");
    note("load peer %ld",
         uvp_host_load(fx.host, SCN_PATH, "scn-peer", config, NULL));
  }
  uvt_run_until(&fx, finished, NULL, 5000);
  uvp_plugin_stats st;
  bool live = uvt_stats(&fx, "scn", &st) == 0 && st.state == UVP_PLUGIN_RUNNING;
  note("loaded %ld", live);
  if (live) {
    char line[96];
    snprintf(line, sizeof line, "errors %llu panics %llu registrations %u",
             (unsigned long long)st.errors, (unsigned long long)st.panics,
             (unsigned)st.registrations);
    scn.note(line);
  }
  if (live && !scn.kept()) {
    scn.note("unload");
    ck_assert_int_eq(uvp_host_unload(fx.host, "scn"), 0);
    uvt_run_turns(&fx, 10);
  }
  scn.note("close");
  uvt_fx_close(&fx);
  scn.note("end");
}

/* Splits text (modified in place) into at most max lines. */
static int split_lines(char *text, char **lines, int max) {
  int n = 0;
  for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && n < max;
       l = strtok_r(NULL, "\n", &save))
    lines[n++] = l;
  return n;
}

/* Prints want and got as a diff: "  " both, "- " only expected, "+ " only
 * got (longest common subsequence, as golden.rs prints it). */
static void print_diff(char **want, int n, char **got, int m) {
  static int lcs[LINES_MAX + 1][LINES_MAX + 1];
  for (int i = n; i >= 0; i--)
    for (int j = m; j >= 0; j--)
      lcs[i][j] = i == n || j == m                ? 0
                  : strcmp(want[i], got[j]) == 0  ? lcs[i + 1][j + 1] + 1
                  : lcs[i + 1][j] > lcs[i][j + 1] ? lcs[i + 1][j]
                                                  : lcs[i][j + 1];
  int i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && strcmp(want[i], got[j]) == 0) {
      fprintf(stderr, "  %s\n", want[i++]);
      j++;
    } else if (j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j])) {
      fprintf(stderr, "+ %s\n", got[j++]);
    } else {
      fprintf(stderr, "- %s\n", want[i++]);
    }
  }
}

static char *read_golden(const char *name) {
  /* tests/integration/test_scenarios.c -> tests/scenarios/NAME.trace */
  char path[4096];
  const char *slash = strrchr(__FILE__, '/');
  int dir = slash ? (int)(slash - __FILE__) : 1;
  snprintf(path, sizeof path, "%.*s/../scenarios/%s.trace", dir,
           slash ? __FILE__ : ".", name);
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot read %s", path);
  static char buf[1 << 16];
  size_t len = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[len] = '\0';
  return strdup(buf);
}

/* Every scenario's trace in this host equals its golden file. */
START_TEST(scenario) {
  const char *name = names[_i];
  run_scenario(name);
  char *got_text = strdup(scn.trace());
  char *want_text = read_golden(name);
  char *got[LINES_MAX], *want[LINES_MAX];
  int m = split_lines(got_text, got, LINES_MAX);
  int n = split_lines(want_text, want, LINES_MAX);
  bool same = n == m;
  for (int i = 0; same && i < n; i++) same = strcmp(want[i], got[i]) == 0;
  if (!same) {
    fprintf(stderr,
            "scenario %s: real host trace differs from "
            "tests/scenarios/%s.trace (- expected, + got):\n",
            name, name);
    print_diff(want, n, got, m);
  }
  free(got_text);
  free(want_text);
  ck_assert_msg(same, "scenario %s: trace differs (diff on stderr)", name);
}
END_TEST

/* Maps the plugin once, here: the host's load of the same file shares this
 * mapping (A14), so its trace is the one these functions read. */
static void open_plugin(void) {
  void *dl = dlopen(SCN_PATH, RTLD_NOW | RTLD_LOCAL);
  if (dl == NULL) {
    fprintf(stderr, "%s: %s\n", SCN_PATH, dlerror());
    exit(1);
  }
  *(void **)&scn.reset = dlsym(dl, "uvp_scn_reset");
  *(void **)&scn.note = dlsym(dl, "uvp_scn_note");
  *(void **)&scn.finished = dlsym(dl, "uvp_scn_finished");
  *(void **)&scn.kept = dlsym(dl, "uvp_scn_kept");
  *(void **)&scn.has_peer = dlsym(dl, "uvp_scn_has_peer");
  *(void **)&scn.trace = dlsym(dl, "uvp_scn_trace");
  *(void **)&scn.names = dlsym(dl, "uvp_scn_names");
  if (!scn.reset || !scn.note || !scn.finished || !scn.kept || !scn.has_peer ||
      !scn.trace || !scn.names) {
    fprintf(stderr, "%s lacks a uvp_scn_* function\n", SCN_PATH);
    exit(1);
  }
  n_names = split_lines(strdup(scn.names()), names, SCN_MAX);
}

static Suite *scenarios_suite(void) {
  Suite *s = suite_create("scenarios");
  TCase *tc = uvt_tcase(s, "traces");
  tcase_add_loop_test(tc, scenario, 0, n_names);
  return s;
}

int main(void) {
  open_plugin();
  return uvt_main(scenarios_suite());
}
