/* A valid shared object without the uvp_plugin_descriptor symbol: the load
 * must fail with UVP_ENOSYM (A2). */
#include <uvplug/plugin.h>

__attribute__((visibility("default"))) int uvp_not_a_plugin(void) { return 42; }
