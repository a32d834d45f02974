# The test mail environment: real Dovecot + Postfix on loopback, started once
# per ctest run by the fixture tests mail.start / mail.stop (see README.md).
# Included from tests/CMakeLists.txt.

set(POSTERN_MAIL_DIR "${CMAKE_BINARY_DIR}/mailenv")
set(POSTERN_MAIL_ENV_FILE "${POSTERN_MAIL_DIR}/ports.env")

add_test(NAME mail.start
         COMMAND "${CMAKE_CURRENT_LIST_DIR}/fixture.sh" start "${POSTERN_MAIL_DIR}")
add_test(NAME mail.stop
         COMMAND "${CMAKE_CURRENT_LIST_DIR}/fixture.sh" stop "${POSTERN_MAIL_DIR}")
set_tests_properties(mail.start PROPERTIES
  FIXTURES_SETUP mail_servers LABELS integration TIMEOUT 120)
set_tests_properties(mail.stop PROPERTIES
  FIXTURES_CLEANUP mail_servers LABELS integration TIMEOUT 60)

# postern_mail_test(TEST_NAME): makes an existing test run inside the mail
# fixture. The test finds the servers through $POSTERN_MAIL_ENV (a KEY=VALUE
# file, read by tests/support/mail_env.hpp).
function(postern_mail_test test_name)
  set_tests_properties(${test_name} PROPERTIES
    FIXTURES_REQUIRED mail_servers
    LABELS integration
    TIMEOUT 120)
  set_property(TEST ${test_name} APPEND PROPERTY ENVIRONMENT
    "POSTERN_MAIL_ENV=${POSTERN_MAIL_ENV_FILE}")
endfunction()

# The harness test: libetpan against the fixture's servers, with certificate
# verification. Registered with add_test, not gtest_discover_tests: discovery
# would run the binary at build time, before any fixture exists.
add_executable(postern-mail-harness-test
  "${CMAKE_CURRENT_LIST_DIR}/../integration/mail_harness_test.cpp")
target_link_libraries(postern-mail-harness-test PRIVATE
  postern::protocol GTest::gtest_main postern_warnings postern_options)
add_test(NAME mail.harness COMMAND postern-mail-harness-test)
if(DEFINED POSTERN_TEST_ENV)
  set_tests_properties(mail.harness PROPERTIES ENVIRONMENT "${POSTERN_TEST_ENV}")
else()
  set_tests_properties(mail.harness PROPERTIES ENVIRONMENT
    "UBSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/ubsan.supp")
endif()
postern_mail_test(mail.harness)
