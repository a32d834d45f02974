# The test mail environment: real Dovecot + Postfix on loopback, started once
# per ctest run by the fixture tests mail.start / mail.stop (see README.md).
# Included from tests/CMakeLists.txt; a test joins the fixture with
# postern_mail_test() or the MAIL option (cmake/PosternTesting.cmake) and
# finds the servers through $POSTERN_MAIL_ENV (a KEY=VALUE file, read by
# tests/support/mail_env.hpp).

set(POSTERN_MAIL_DIR "${CMAKE_BINARY_DIR}/mailenv")

add_test(NAME mail.start
         COMMAND "${CMAKE_CURRENT_LIST_DIR}/fixture.sh" start "${POSTERN_MAIL_DIR}")
add_test(NAME mail.stop
         COMMAND "${CMAKE_CURRENT_LIST_DIR}/fixture.sh" stop "${POSTERN_MAIL_DIR}")
set_tests_properties(mail.start PROPERTIES
  FIXTURES_SETUP mail_servers LABELS integration TIMEOUT 120)
set_tests_properties(mail.stop PROPERTIES
  FIXTURES_CLEANUP mail_servers LABELS integration TIMEOUT 60)

# The harness test: libetpan against the fixture's servers, with certificate
# verification.
postern_gtest_program(mail.harness postern-mail-harness-test MAIL
  SOURCES "${CMAKE_CURRENT_LIST_DIR}/../integration/mail_harness_test.cpp"
  LIBS postern::mail)
