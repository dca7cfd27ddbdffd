/* systemd notifications through libsystemd's sd_notify (see notify.h).
 *
 * The watchdog ping runs from a libuv timer on the loop thread, so a loop
 * that hangs (a plugin stuck in a callback) stops the pings and systemd
 * restarts the service: exactly what WatchdogSec= is for.
 */
#include "notify.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef UVPD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

static uv_timer_t watchdog;
static int watchdog_armed;

#ifdef UVPD_HAVE_SYSTEMD
/* One WATCHDOG=1 ping. */
static void on_watchdog(uv_timer_t *t) {
  (void)t;
  sd_notify(0, "WATCHDOG=1");
}
#endif

void uvpd_notify_start(uv_loop_t *loop) {
#ifdef UVPD_HAVE_SYSTEMD
  uint64_t usec = 0;
  if (watchdog_armed || sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
  /* Half the period, as sd_watchdog_enabled(3) advises; at least 1 ms. */
  uint64_t ms = usec / 2000;
  if (ms == 0) ms = 1;
  if (uv_timer_init(loop, &watchdog) != 0) return;
  watchdog_armed = 1;
  uv_timer_start(&watchdog, on_watchdog, ms, ms);
  uv_unref((uv_handle_t *)&watchdog);
#else
  (void)loop;
#endif
}

#ifdef UVPD_HAVE_SYSTEMD
/* CLOCK_MONOTONIC in microseconds, for RELOADING=1's MONOTONIC_USEC. */
static uint64_t monotonic_usec(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
#endif

void uvpd_notify(const char *state) {
#ifdef UVPD_HAVE_SYSTEMD
  if (state == NULL) return;
  /* Type=notify-reload (systemd 253) wants MONOTONIC_USEC with RELOADING=1
   * to tell this reload from an older one; other types ignore it. */
  if (strcmp(state, "RELOADING=1") == 0) {
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, monotonic_usec());
    return;
  }
  sd_notify(0, state);
#else
  (void)state;
#endif
}

void uvpd_notify_stop(void) {
  if (!watchdog_armed) return;
  watchdog_armed = 0;
  uv_close((uv_handle_t *)&watchdog, NULL);
}
