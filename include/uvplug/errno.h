/* uvplug status codes: the one table every code comes from.
 *
 * 0 is success; failures are negative. Where a POSIX errno fits, the value is
 * -errno; uvplug's own codes live in the reserved range -4000..-4099.
 * UVP_ERRNO_MAP generates the enum below, uvp_strerror() and uvp_err_name():
 * adding a code is adding one line here (and bumping UVP_ABI_MINOR).
 */
#ifndef UVPLUG_ERRNO_H
#define UVPLUG_ERRNO_H

#include <errno.h>

#define UVP_ERRNO_MAP(X)                                                  \
  X(EINVAL, -EINVAL, "invalid argument")                                  \
  X(ENOMEM, -ENOMEM, "out of memory")                                     \
  X(EAGAIN, -EAGAIN, "queue full, try again later")                       \
  X(ENOENT, -ENOENT, "no such handle, topic or plugin")                   \
  X(EMSGSIZE, -EMSGSIZE, "payload larger than the host allows")           \
  X(ENOSPC, -ENOSPC, "host table full")                                   \
  X(EBUSY, -EBUSY, "resource busy")                                       \
  X(ECANCELED, -ECANCELED, "cancelled")                                   \
  X(EWRONGTHREAD, -4001, "called off the loop thread")                    \
  X(EPANIC, -4002, "plugin callback panicked")                            \
  X(ESTALE, -4003, "stale handle (already cancelled or finished)")        \
  X(ECLOSED, -4004, "plugin stopping or host closing")                    \
  X(EINIT, -4005, "plugin init failed")                                   \
  X(ENOTSO, -4010, "the dynamic loader refused the object")               \
  X(ENOSYM, -4011, "plugin entry symbol missing")                         \
  X(EBADMAGIC, -4012, "plugin descriptor has a bad magic number")         \
  X(EABI, -4013, "plugin built for another ABI major version")            \
  X(ESHORT, -4014, "plugin descriptor smaller than ABI 1.0")              \
  X(EDUPNAME, -4015, "a plugin with this name is already loaded")         \
  X(EBADDESC, -4016, "plugin descriptor invalid (name or hook missing)")  \
  X(EACCES, -EACCES, "permission denied")                                 \
  X(ENOTFOUND, -4017, "plugin file not found")                            \
  X(ENOTREG, -4018, "plugin path is not a regular file")                  \
  X(ENOTELF, -4019, "plugin file is not an ELF object")                   \
  X(EMACHINE, -4020, "plugin built for another machine or word size")     \
  X(ENOTDYN, -4021, "plugin file is an ELF file but not a shared object") \
  X(EFILEMODE, -4022, "plugin file writable by group or others")          \
  X(EFILEOWNER, -4023, "plugin file owned by another user")               \
  X(EDIRMODE, -4024, "a directory on the plugin's path is unsafe")        \
  X(EHASH, -4025, "plugin file does not match its SHA-256 pin")           \
  X(ESVCDUP, -4026, "a service with this name is already exported")       \
  X(ESVCMAJOR, -4027, "service exported with another major version")      \
  X(ESVCMINOR, -4028, "service minor version older than required")

/* Status codes returned by every fallible uvplug function. */
typedef enum uvp_status {
  UVP_OK = 0,
#define UVP__ERRNO_ENUM(name, value, text) UVP_##name = (value),
  UVP_ERRNO_MAP(UVP__ERRNO_ENUM)
#undef UVP__ERRNO_ENUM
} uvp_status;

#endif /* UVPLUG_ERRNO_H */
