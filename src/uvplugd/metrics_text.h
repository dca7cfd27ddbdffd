/* The Prometheus text exposition (format 0.0.4) of a host's statistics and
 * the daemon's view: what GET /metrics answers (see metrics.h). */
#ifndef UVPD_METRICS_TEXT_H
#define UVPD_METRICS_TEXT_H

#include <stddef.h>
#include <uv.h>
#include <uvplug/uvplug.h>

#include "metrics.h"

/**
 * Render every uvplug_* metric family of host and view.
 *
 * @param host     the host; read through its public statistics calls.
 * @param loop     the loop, for uvplug_loop_idle_seconds_total (configured
 *                 with UV_METRICS_IDLE_TIME), or NULL to leave it out.
 * @param view     the daemon's view, or NULL to leave the daemon families
 *                 out.
 * @param out_buf  receives a malloc'd buffer (not NUL-terminated).
 * @param out_len  receives its length.
 * @return 0 or UVP_ENOMEM (nothing to free then).
 *
 * THREAD:    the loop thread (the host's).
 * OWNERSHIP: the caller frees *out_buf with free().
 * LIFETIME:  reads host and view during the call only.
 * SINCE:     0.1
 */
int uvpd_metrics_render(uvp_host *host, uv_loop_t *loop,
                        const uvpd_daemon_view *view, char **out_buf,
                        size_t *out_len);

/**
 * Append s to out as a label value of the text format: backslash, double
 * quote and line feed escaped.
 *
 * @param out     destination.
 * @param outlen  its size; the result is always NUL-terminated, cut if
 *                too long.
 * @param s       the raw value.
 * @return the length the escaped value needs (like snprintf).
 *
 * THREAD:    any thread.
 * OWNERSHIP: none.
 * LIFETIME:  none.
 * SINCE:     0.1
 */
size_t uvpd_metrics_escape(char *out, size_t outlen, const char *s);

#endif /* UVPD_METRICS_TEXT_H */
