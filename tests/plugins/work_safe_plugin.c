/* The work plugin, built unload-safe: an abandoned work item must keep
 * such an object mapped, since its code still runs (W6, A10).
 * Thread: as work_plugin.c. */
#include <uvplug/plugin.h>

#define WORK_FLAGS UVP_PLUGIN_UNLOAD_SAFE
#include "work_plugin.c"
