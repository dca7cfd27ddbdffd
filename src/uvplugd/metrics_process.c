/* process_* metrics (see metrics_process.h), named as the Prometheus client
 * libraries name them, so existing dashboards and alerts work unchanged. */
#define _GNU_SOURCE

#include "metrics_process.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Appends to a fixed buffer; what does not fit is dropped whole. */
typedef struct out {
  char *buf;
  size_t cap, len;
} out;

static void put(out *o, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
  va_end(ap);
  if (n > 0 && (size_t)n < o->cap - o->len)
    o->len += (size_t)n;
  else
    o->buf[o->len] = '\0';
}

/* One family of one sample. */
static void family(out *o, const char *name, const char *type, const char *help,
                   double v) {
  put(o, "# HELP %s %s\n# TYPE %s %s\n%s %.15g\n", name, help, name, type, name,
      v);
}

/* Open fds: the entries of /proc/self/fd, less the one opendir holds. */
static long open_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL) return -1;
  long n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n - 1;
}

/* Start time in seconds since the epoch: boot time (/proc/stat btime) plus
 * field 22 of /proc/self/stat, in clock ticks since boot. */
static double start_time(void) {
  char buf[1024];
  FILE *f = fopen("/proc/self/stat", "re");
  if (f == NULL) return -1;
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  /* comm (field 2) may hold spaces and parentheses: skip to its last ')'. */
  char *p = strrchr(buf, ')');
  unsigned long long ticks;
  if (p == NULL ||
      sscanf(p + 2,
             "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
             "%*d %*d %*d %*d %llu",
             &ticks) != 1)
    return -1;
  f = fopen("/proc/stat", "re");
  if (f == NULL) return -1;
  unsigned long long btime = 0;
  int found = 0;
  while (!found && fgets(buf, sizeof(buf), f) != NULL)
    found = sscanf(buf, "btime %llu", &btime) == 1;
  fclose(f);
  long hz = sysconf(_SC_CLK_TCK);
  if (!found || hz <= 0) return -1;
  return (double)btime + (double)ticks / (double)hz;
}

size_t uvpd_metrics_process(char *buf, size_t cap) {
  if (cap == 0) return 0;
  out o = {buf, cap, 0};
  buf[0] = '\0';
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) == 0)
    family(&o, "process_cpu_seconds_total", "counter",
           "User and system CPU time spent in seconds.",
           (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
  unsigned long long vsz_pages, rss_pages;
  FILE *f = fopen("/proc/self/statm", "re");
  if (f != NULL) {
    if (fscanf(f, "%llu %llu", &vsz_pages, &rss_pages) == 2) {
      double page = (double)sysconf(_SC_PAGESIZE);
      family(&o, "process_virtual_memory_bytes", "gauge",
             "Virtual memory size in bytes.", (double)vsz_pages * page);
      family(&o, "process_resident_memory_bytes", "gauge",
             "Resident memory size in bytes.", (double)rss_pages * page);
    }
    fclose(f);
  }
  long fds = open_fds();
  if (fds >= 0)
    family(&o, "process_open_fds", "gauge", "Number of open file descriptors.",
           (double)fds);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    family(&o, "process_max_fds", "gauge",
           "Maximum number of open file descriptors.", (double)rl.rlim_cur);
  double st = start_time();
  if (st >= 0)
    family(&o, "process_start_time_seconds", "gauge",
           "Start time of the process since unix epoch in seconds.", st);
  return o.len;
}
