/* uvplug version and plugin-ABI version.
 *
 * Bump rule for the ABI:
 *   - UVP_ABI_MINOR grows when a field is appended to a size-prefixed struct
 *     (uvp_api, uvp_plugin_desc, uvp_event, ...) or a status code is added.
 *     Old plugins keep loading: readers check `size` before a newer field.
 *   - UVP_ABI_MAJOR grows when anything is reordered, retyped or removed.
 *     The loader refuses a plugin built for another major (UVP_EABI).
 * The library version (UVP_VERSION_*) follows semver independently.
 */
#ifndef UVPLUG_VERSION_H
#define UVPLUG_VERSION_H

#define UVP_ABI_MAJOR 1
#define UVP_ABI_MINOR 3

#define UVP_VERSION_MAJOR 0
#define UVP_VERSION_MINOR 3
#define UVP_VERSION_PATCH 0
#define UVP_VERSION_STRING "0.3.0"
/* As uvp_version() returns it: compare the two to tell the header compiled
 * against from the library linked. */
#define UVP_VERSION_HEX \
  ((UVP_VERSION_MAJOR << 16) | (UVP_VERSION_MINOR << 8) | UVP_VERSION_PATCH)

#endif /* UVPLUG_VERSION_H */
