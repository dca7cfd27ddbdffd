/* A minimal program built against an installed uvplug, by pkg-config and
 * by find_package (cmake/consumer-test/run.cmake). It checks that the
 * headers, libuvplug and libuv all resolve, and that the library it runs
 * with is the one it was compiled for. It builds with strict -std=c11,
 * which needs a POSIX feature macro because <uv.h> uses pthread types. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>
#include <uv.h>
#include <uvplug/uvplug.h>

int main(void) {
  uv_loop_t loop;
  if (uv_loop_init(&loop) != 0) return 1;
  if (strcmp(uvp_version_string(), UVP_VERSION_STRING) != 0) {
    fprintf(stderr, "version %s != %s\n", uvp_version_string(),
            UVP_VERSION_STRING);
    return 1;
  }
  printf("uvplug %s, %s: %s\n", uvp_version_string(), uvp_err_name(UVP_EINVAL),
         uvp_strerror(UVP_EINVAL));
  return uv_loop_close(&loop) == 0 ? 0 : 1;
}
