# Debian's libetpan.pc puts `-specs=/usr/share/dpkg/no-pie-link.specs` into
# its Libs, which CMake would turn into a link option that silently makes our
# executables non-PIE. Find the header and library by hand instead.
find_path(ETPAN_INCLUDE_DIR libetpan/libetpan.h)
find_library(ETPAN_LIBRARY etpan)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Etpan REQUIRED_VARS ETPAN_INCLUDE_DIR ETPAN_LIBRARY)
if(Etpan_FOUND AND NOT TARGET Etpan::etpan)
  add_library(Etpan::etpan UNKNOWN IMPORTED)
  set_target_properties(Etpan::etpan PROPERTIES
    IMPORTED_LOCATION "${ETPAN_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${ETPAN_INCLUDE_DIR}")
endif()
