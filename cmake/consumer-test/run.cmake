# ctest install.<KIND>: install the build tree into a staging prefix, then
# compile, link and run cmake/consumer-test/consumer.c against it.
#
#   cmake -DKIND=pkgconfig|find_package -DBUILD_DIR=... -DSTAGE=...
#         -DSOURCE_DIR=... -DC_COMPILER=... -DLIBDIR=... -DPKG_CONFIG=...
#         -P run.cmake
cmake_minimum_required(VERSION 3.16)

foreach(var KIND BUILD_DIR STAGE SOURCE_DIR C_COMPILER LIBDIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run.cmake: -D${var}= is required")
  endif()
endforeach()

# Run a command; stop the test with its output when it fails.
function(run what)
  execute_process(COMMAND ${ARGN}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${ARGN}\n${out}${err}")
  endif()
  message(STATUS "${what}: ok ${out}")
endfunction()

set(prefix ${STAGE}/prefix)
file(REMOVE_RECURSE ${STAGE})
run("install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

foreach(f include/uvplug/uvplug.h include/uvplug/plugin.h
          ${LIBDIR}/libuvplug.a ${LIBDIR}/pkgconfig/uvplug.pc
          ${LIBDIR}/cmake/uvplug/uvplugConfig.cmake bin/uvplugd)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "not installed: ${prefix}/${f}")
  endif()
endforeach()

set(ENV{LD_LIBRARY_PATH} "${prefix}/${LIBDIR}")

if(KIND STREQUAL "pkgconfig")
  if(NOT PKG_CONFIG)
    set(PKG_CONFIG pkg-config)
  endif()
  set(ENV{PKG_CONFIG_PATH} "${prefix}/${LIBDIR}/pkgconfig")
  execute_process(COMMAND ${PKG_CONFIG} --cflags --libs uvplug
    RESULT_VARIABLE rc OUTPUT_VARIABLE flags ERROR_VARIABLE err
    OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pkg-config --cflags --libs uvplug failed:\n${err}")
  endif()
  message(STATUS "pkg-config --cflags --libs uvplug: ${flags}")
  # The flags must point into the staged prefix, not at a system install.
  string(FIND "${flags}" "${prefix}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "uvplug.pc does not point into ${prefix}")
  endif()
  separate_arguments(flags UNIX_COMMAND "${flags}")
  set(exe ${STAGE}/consumer)
  run("compile and link" ${C_COMPILER} -std=c11 -Wall -Wextra -Werror
      ${SOURCE_DIR}/consumer.c ${flags} -o ${exe})
  run("run" ${exe})
elseif(KIND STREQUAL "find_package")
  set(bin ${STAGE}/build)
  run("configure" ${CMAKE_COMMAND} -S ${SOURCE_DIR}/find_package -B ${bin}
      -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_C_COMPILER=${C_COMPILER}
      -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DUVP_EXPECT_PREFIX=${prefix})
  run("build" ${CMAKE_COMMAND} --build ${bin})
  run("run shared" ${bin}/consumer_shared)
  run("run static" ${bin}/consumer_static)
else()
  message(FATAL_ERROR "unknown KIND ${KIND}")
endif()
