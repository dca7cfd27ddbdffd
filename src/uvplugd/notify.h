/* uvplugd's systemd notifications (sd_notify): READY=1, RELOADING=1,
 * STOPPING=1, STATUS=... and WATCHDOG=1 pings.
 *
 * Built on libsystemd when CMake found it (UVPD_HAVE_SYSTEMD); without it
 * every call is a no-op, and so it is when NOTIFY_SOCKET is not set.
 * Process-wide state: one daemon, one notify socket.
 */
#ifndef UVPD_NOTIFY_H
#define UVPD_NOTIFY_H

#include <uv.h>

/**
 * Arm WATCHDOG=1 pings at half of WATCHDOG_USEC, when systemd set it for
 * this process, from an unreferenced timer (it never keeps the loop alive).
 *
 * @param loop  the daemon's loop.
 *
 * THREAD:    the loop thread.
 * OWNERSHIP: the timer is internal; uvpd_notify_stop closes it.
 * LIFETIME:  call once; call uvpd_notify_stop before the loop closes.
 * SINCE:     0.1
 */
void uvpd_notify_start(uv_loop_t *loop);

/**
 * Send one notification: "READY=1", "RELOADING=1" (MONOTONIC_USEC is
 * added, as Type=notify-reload wants), "STOPPING=1", "STATUS=...".
 *
 * @param state  the assignment(s), newline-separated; NULL is ignored.
 *
 * THREAD:    any thread.
 * OWNERSHIP: state is only read during the call.
 * LIFETIME:  no-op without NOTIFY_SOCKET or without libsystemd.
 * SINCE:     0.1
 */
void uvpd_notify(const char *state);

/**
 * Close the watchdog timer (if armed); the handle closes on the loop.
 *
 * THREAD:    the loop thread.
 * OWNERSHIP: none.
 * LIFETIME:  safe to call more than once, or without uvpd_notify_start.
 * SINCE:     0.1
 */
void uvpd_notify_stop(void);

#endif /* UVPD_NOTIFY_H */
