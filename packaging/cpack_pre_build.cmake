# cpack_pre_build.cmake -- run by CPack on the staged tree, before each package is made.
# The .rpm carries neither the Debian changelog nor the lintian overrides.
if(CPACK_GENERATOR STREQUAL "RPM")
  file(GLOB_RECURSE debian_only "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*/changelog.Debian.gz")
  file(GLOB lintian_dirs LIST_DIRECTORIES true "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/usr/share/lintian"
       "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*/usr/share/lintian")
  if(debian_only OR lintian_dirs)
    file(REMOVE_RECURSE ${debian_only} ${lintian_dirs})
  endif()
endif()
