/* Status codes: names and messages, generated from UVP_ERRNO_MAP.
 * Thread: any; everything here is pure. */
#include "uvp-internal.h"

const char *uvp_strerror(int status) {
  switch (status) {
    case 0:
      return "success";
#define X(name, value, text) \
  case UVP_##name:           \
    return text;
      UVP_ERRNO_MAP(X)
#undef X
    default:
      return "unknown error";
  }
}

const char *uvp_err_name(int status) {
  switch (status) {
    case 0:
      return "UVP_OK";
#define X(name, value, text) \
  case UVP_##name:           \
    return "UVP_" #name;
      UVP_ERRNO_MAP(X)
#undef X
    default:
      return "UVP_UNKNOWN";
  }
}

const char *uvp_version_string(void) { return UVP_VERSION_STRING; }
