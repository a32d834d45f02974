# How Postern's tests are registered, in one place (included from
# tests/CMakeLists.txt). Every test binary sees tests/ as an include
# directory (`#include "support/temp_dir.hpp"`), links the library it tests
# and nothing above it, and runs with the sanitizer options in
# POSTERN_TEST_ENV.
#
#   postern_unit_test(TARGET LIBS lib... SOURCES file... [TIMEOUT s]
#                     [LABELS l...])
#       GoogleTest: every TEST becomes one CTest test (label unit unless
#       given; the fault suites talk to scripted servers on loopback).
#   postern_gtest_program(NAME TARGET SOURCES file... LIBS lib...
#                         [MAIL] [TIMEOUT s] [LABELS l...])
#       GoogleTest as one CTest test: for programs that need the mail
#       fixture (discovery would run them at build time, before any fixture
#       exists) or a live server.
#   postern_add_caf_suites(TARGET suite...)
#       CAF 0.17 test-DSL suites: suite "actors.node" lives in
#       tests/actors/node.cpp and becomes one CTest test (label actors).
#   postern_script_test(NAME SCRIPT [MAIL] [TIMEOUT s] [ENV k=v...])
#       A Python or shell test of the built server (POSTERN_BIN set).
#   postern_mail_test(NAME)
#       Runs an existing test inside the mail_servers fixture (real Dovecot
#       and Postfix on loopback, tests/mail/); the test finds them through
#       $POSTERN_MAIL_ENV.

include_guard(GLOBAL)

# One entry only: gtest_discover_tests would split a list. (LeakSanitizer is
# on by default with ASan on Linux.)
set(POSTERN_TEST_ENV
  "UBSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/ubsan.supp:print_stacktrace=1:halt_on_error=1")
set(POSTERN_TESTS_DIR "${PROJECT_SOURCE_DIR}/tests")
set(POSTERN_MAIL_ENV_FILE "${CMAKE_BINARY_DIR}/mailenv/ports.env")

function(postern_test_executable target)
  cmake_parse_arguments(arg "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${target} ${arg_SOURCES})
  target_include_directories(${target} PRIVATE "${POSTERN_TESTS_DIR}")
  target_link_libraries(${target} PRIVATE ${arg_LIBS} postern_warnings
                        postern_options)
endfunction()

function(postern_unit_test target)
  cmake_parse_arguments(arg "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  postern_test_executable(${target} SOURCES ${arg_SOURCES}
                          LIBS ${arg_LIBS} GTest::gtest_main)
  if(NOT arg_LABELS)
    set(arg_LABELS unit)
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 300)
  endif()
  gtest_discover_tests(${target}
    PROPERTIES ENVIRONMENT "${POSTERN_TEST_ENV}" LABELS "${arg_LABELS}"
               TIMEOUT ${arg_TIMEOUT}
    DISCOVERY_TIMEOUT 60)
endfunction()

function(postern_mail_test test_name)
  set_tests_properties(${test_name} PROPERTIES
    FIXTURES_REQUIRED mail_servers
    LABELS integration)
  set_property(TEST ${test_name} APPEND PROPERTY ENVIRONMENT
    "POSTERN_MAIL_ENV=${POSTERN_MAIL_ENV_FILE}")
endfunction()

# Options shared by the single-test kinds: MAIL joins the fixture, TIMEOUT
# (default 120 s with MAIL, 300 s without), LABELS (default integration).
macro(postern_test_options name)
  if(NOT arg_TIMEOUT)
    if(arg_MAIL)
      set(arg_TIMEOUT 120)
    else()
      set(arg_TIMEOUT 300)
    endif()
  endif()
  if(NOT arg_LABELS)
    set(arg_LABELS integration)
  endif()
  set_tests_properties(${name} PROPERTIES
    ENVIRONMENT "${POSTERN_TEST_ENV}" LABELS "${arg_LABELS}")
  if(arg_MAIL)
    postern_mail_test(${name})
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${arg_TIMEOUT})
endmacro()

function(postern_gtest_program name target)
  cmake_parse_arguments(arg "MAIL" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  postern_test_executable(${target} SOURCES ${arg_SOURCES}
                          LIBS ${arg_LIBS} GTest::gtest_main)
  add_test(NAME ${name} COMMAND ${target})
  postern_test_options(${name})
endfunction()

function(postern_add_caf_suites target)
  foreach(suite IN LISTS ARGN)
    string(REPLACE "." "/" path "${suite}")
    target_sources(${target} PRIVATE "${POSTERN_TESTS_DIR}/${path}.cpp")
    add_test(NAME ${suite} COMMAND ${target} -r 60 -n -s "^${suite}$")
    set_tests_properties(${suite} PROPERTIES ENVIRONMENT "${POSTERN_TEST_ENV}"
                         LABELS actors)
  endforeach()
endfunction()

function(postern_script_test name script)
  cmake_parse_arguments(arg "MAIL" "TIMEOUT" "ENV;LABELS" ${ARGN})
  if(NOT IS_ABSOLUTE "${script}")
    set(script "${CMAKE_CURRENT_SOURCE_DIR}/${script}")
  endif()
  if(script MATCHES "\\.py$")
    add_test(NAME ${name} COMMAND ${Python3_EXECUTABLE} "${script}" ${arg_UNPARSED_ARGUMENTS})
  else()
    add_test(NAME ${name} COMMAND "${script}" ${arg_UNPARSED_ARGUMENTS})
  endif()
  postern_test_options(${name})
  set_property(TEST ${name} APPEND PROPERTY ENVIRONMENT
    "POSTERN_BIN=$<TARGET_FILE:postern>" ${arg_ENV})
endfunction()
