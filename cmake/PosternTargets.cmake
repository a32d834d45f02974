# Shared compile flags, linked PRIVATE into every target (cmake_template,
# CAF's caf_internal, VAST's libvast_internal).
add_library(postern_warnings INTERFACE)
target_compile_options(postern_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wold-style-cast -Wnon-virtual-dtor -Woverloaded-virtual
  -Wnull-dereference -Wimplicit-fallthrough
  $<$<BOOL:${POSTERN_WARNINGS_AS_ERRORS}>:-Werror>)

add_library(postern_options INTERFACE)
target_compile_definitions(postern_options INTERFACE
  BOOST_ASIO_NO_DEPRECATED)
if(POSTERN_SANITIZERS)
  target_compile_options(postern_options INTERFACE
    -fsanitize=${POSTERN_SANITIZERS} -fno-omit-frame-pointer)
  target_link_options(postern_options INTERFACE -fsanitize=${POSTERN_SANITIZERS})
endif()

# postern_library(NAME folder SOURCES ...): the static library of one folder,
# aliased postern::<folder>, headers under <folder>/postern/.
function(postern_library folder)
  cmake_parse_arguments(arg "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  set(target postern_${folder})
  add_library(${target} STATIC ${arg_SOURCES})
  add_library(postern::${folder} ALIAS ${target})
  target_include_directories(${target} PUBLIC
    "${CMAKE_CURRENT_SOURCE_DIR}")
  target_link_libraries(${target}
    PUBLIC ${arg_PUBLIC_DEPS}
    PRIVATE ${arg_PRIVATE_DEPS} postern_warnings postern_options)
endfunction()
