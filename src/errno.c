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

/* libuv's codes never leave the API: each becomes the uvplug code of the
 * same cause, and what is left is the caller's bad argument. */
int uvp__status_from_uv(int uv_status) {
  switch (uv_status) {
    case 0:
      return 0;
    case UV_ENOMEM:
      return UVP_ENOMEM;
    case UV_EEXIST: /* the fd is already watched on this loop */
    case UV_EBUSY:
      return UVP_EBUSY;
    case UV_EAGAIN:
      return UVP_EAGAIN;
    case UV_ENOSPC:
      return UVP_ENOSPC;
    case UV_ECANCELED:
      return UVP_ECANCELED;
    default: /* EBADF, EPERM (a regular file), ENOTSOCK, EINVAL, ... */
      return UVP_EINVAL;
  }
}

const char *uvp_version_string(void) { return UVP_VERSION_STRING; }
