# libfuse.cmake -- which libfuse pxeimagesfs is built against: target pxe_fuse3.
#
# PXE_LIBFUSE=auto (default): the system's libfuse when pkg-config finds 3.17 or
# newer (kernel passthrough), else the bundled one. system: the system's,
# whatever its version (3.10 or newer; older than 3.17 serves every read
# through the daemon). bundled: a static libfuse built by packaging/libfuse.sh
# from Debian's source package of the testing release (3.18 or newer, with
# FUSE over io_uring: links liburing and libnuma), kept in PXE_LIBFUSE_CACHE.
set(PXE_LIBFUSE auto CACHE STRING "libfuse to build against: auto, system or bundled")
set_property(CACHE PXE_LIBFUSE PROPERTY STRINGS auto system bundled)
set(PXE_LIBFUSE_CACHE "${CMAKE_BINARY_DIR}/libfuse" CACHE PATH
    "Where the bundled libfuse is fetched and built (kept between builds)")

if(NOT PXE_LIBFUSE MATCHES "^(auto|system|bundled)$")
  message(FATAL_ERROR "PXE_LIBFUSE must be auto, system or bundled (not '${PXE_LIBFUSE}')")
endif()

add_library(pxe_fuse3 INTERFACE)
set(pxe_fuse_from "")
if(PXE_LIBFUSE STREQUAL "auto")
  pkg_check_modules(FUSE3 QUIET IMPORTED_TARGET fuse3>=3.17)
  if(FUSE3_FOUND)
    set(pxe_fuse_from system)
  endif()
elseif(PXE_LIBFUSE STREQUAL "system")
  pkg_check_modules(FUSE3 REQUIRED IMPORTED_TARGET fuse3>=3.10)
  set(pxe_fuse_from system)
endif()

if(pxe_fuse_from STREQUAL "system")
  target_link_libraries(pxe_fuse3 INTERFACE PkgConfig::FUSE3)
  set(PXE_FUSE_VERSION ${FUSE3_VERSION})
else()
  set(pxe_fuse_from bundled)
  execute_process(COMMAND bash "${CMAKE_SOURCE_DIR}/packaging/libfuse.sh" "${PXE_LIBFUSE_CACHE}"
                  RESULT_VARIABLE pxe_fuse_rc OUTPUT_VARIABLE PXE_FUSE_VERSION
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT pxe_fuse_rc EQUAL 0)
    message(FATAL_ERROR "cannot build the bundled libfuse (see the message above); "
                        "configure with -DPXE_LIBFUSE=system to use the system's libfuse "
                        "(reads then go through the daemon: no kernel passthrough)")
  endif()
  # built with FUSE over io_uring (packaging/libfuse.sh insists): liburing, libnuma
  pkg_check_modules(LIBURING REQUIRED IMPORTED_TARGET liburing)
  pkg_check_modules(LIBNUMA REQUIRED IMPORTED_TARGET numa)
  target_include_directories(pxe_fuse3 SYSTEM INTERFACE "${PXE_LIBFUSE_CACHE}/install/include/fuse3")
  target_link_libraries(pxe_fuse3 INTERFACE "${PXE_LIBFUSE_CACHE}/install/lib/libfuse3.a"
                                            PkgConfig::LIBURING PkgConfig::LIBNUMA
                                            Threads::Threads ${CMAKE_DL_LIBS} rt)
endif()
set(PXE_LIBFUSE_FROM ${pxe_fuse_from})
message(STATUS "libfuse ${PXE_FUSE_VERSION} (${pxe_fuse_from})")
