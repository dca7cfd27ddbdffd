/* A shared object without a descriptor of its own that needs newer_minor.so
 * (linked by CMakeLists.txt), which has one: dlsym on its handle would find
 * the dependency's, so the load must still be UVP_ENOSYM (A2). */
#include <uvplug/plugin.h>

extern const uvp_plugin_desc uvp_plugin_descriptor;

/* A reference, so the link keeps the dependency even with --as-needed. */
__attribute__((visibility("default"))) const void *uvt_dep_desc_ref(void) {
  return &uvp_plugin_descriptor;
}
