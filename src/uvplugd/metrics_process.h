/* The standard process_* metrics every Prometheus exporter serves (CPU,
 * memory, fds, start time), read from /proc/self and getrusage. */
#ifndef UVPD_METRICS_PROCESS_H
#define UVPD_METRICS_PROCESS_H

#include <stddef.h>

/* Room uvpd_metrics_process needs, with margin. */
#define UVPD_PROCESS_TEXT_MAX 2048

/**
 * Write the process_* families in the text exposition format.
 *
 * @param out  destination, UVPD_PROCESS_TEXT_MAX bytes is enough.
 * @param cap  its size; the text is always NUL-terminated.
 * @return the text's length (families that could not be read are left
 *         out, so it may be 0).
 *
 * THREAD:    any thread (it reads only this process's /proc files).
 * OWNERSHIP: none.
 * LIFETIME:  none.
 * SINCE:     0.1
 */
size_t uvpd_metrics_process(char *out, size_t cap);

#endif /* UVPD_METRICS_PROCESS_H */
