# Tests of the protocol library's mail code (imap::, mime::, smtp::).
# Included from tests/CMakeLists.txt, after mail/mail.cmake.

# Pure unit tests: no network, no servers.
add_executable(postern-protocol-unit-test
  protocol/budget_test.cpp
  protocol/charset_test.cpp
  protocol/compose_test.cpp
  protocol/header_test.cpp
  protocol/hostile_test.cpp
  protocol/html_test.cpp
  protocol/imap_query_test.cpp
  protocol/message_builder_test.cpp
  protocol/robustness_test.cpp
  protocol/structure_test.cpp
  protocol/message_cache_test.cpp)
target_link_libraries(postern-protocol-unit-test PRIVATE
  postern::protocol GTest::gtest_main postern_warnings postern_options)
gtest_discover_tests(postern-protocol-unit-test
  PROPERTIES ENVIRONMENT "${POSTERN_TEST_ENV}" LABELS unit
  DISCOVERY_TIMEOUT 60)

# Faults from a scripted fake IMAP/SMTP server on 127.0.0.1 (resets, stalls,
# garbage): each test waits for a 2 s timeout at most a few times.
add_executable(postern-protocol-fault-test protocol/fault_test.cpp)
target_link_libraries(postern-protocol-fault-test PRIVATE
  postern::protocol GTest::gtest_main postern_warnings postern_options)
gtest_discover_tests(postern-protocol-fault-test
  PROPERTIES ENVIRONMENT "${POSTERN_TEST_ENV}" LABELS "integration;faults"
  TIMEOUT 60 DISCOVERY_TIMEOUT 60)

# Against the real Dovecot + Postfix of the fixture mail_servers: add_test,
# not discovery (discovery runs at build time, before any fixture exists).
add_executable(postern-protocol-mail-test protocol/mail_test.cpp)
target_link_libraries(postern-protocol-mail-test PRIVATE
  postern::protocol GTest::gtest_main postern_warnings postern_options)
add_test(NAME protocol.mail COMMAND postern-protocol-mail-test)
set_tests_properties(protocol.mail PROPERTIES ENVIRONMENT "${POSTERN_TEST_ENV}")
if(COMMAND postern_mail_test)
  postern_mail_test(protocol.mail)
  set_tests_properties(protocol.mail PROPERTIES TIMEOUT 300)
endif()

# The organizing operations (threads, bulk changes, safe delete, folders,
# search of every folder) against the real Dovecot, in dave's mailbox.
add_executable(postern-protocol-organize-test protocol/organize_mail_test.cpp)
target_link_libraries(postern-protocol-organize-test PRIVATE
  postern::protocol GTest::gtest_main postern_warnings postern_options)
add_test(NAME protocol.organize COMMAND postern-protocol-organize-test)
set_tests_properties(protocol.organize PROPERTIES ENVIRONMENT "${POSTERN_TEST_ENV}")
if(COMMAND postern_mail_test)
  postern_mail_test(protocol.organize)
  set_tests_properties(protocol.organize PROPERTIES TIMEOUT 300)
endif()

# Growth properties (issue 14): hostile shapes at n and 4n; output, counted
# work and allocated bytes grow at most linearly. No clock.
add_executable(postern-protocol-growth-test protocol/growth_test.cpp)
target_link_libraries(postern-protocol-growth-test PRIVATE
  postern::protocol postern::ui GTest::gtest_main postern_warnings
  postern_options)
gtest_discover_tests(postern-protocol-growth-test
  PROPERTIES ENVIRONMENT "${POSTERN_TEST_ENV}" LABELS unit
  DISCOVERY_TIMEOUT 60)
# Hostile servers against the byte budgets (endless lines, huge literals,
# millions of LIST lines or UIDs, lying part sizes, deep nesting, endless
# EHLO): each ends in a clear error with bounded peak memory.
add_executable(postern-protocol-budget-test protocol/budget_fault_test.cpp)
target_link_libraries(postern-protocol-budget-test PRIVATE
  postern::protocol GTest::gtest_main postern_warnings postern_options)
gtest_discover_tests(postern-protocol-budget-test
  PROPERTIES ENVIRONMENT "${POSTERN_TEST_ENV}" LABELS "integration;faults"
  TIMEOUT 120 DISCOVERY_TIMEOUT 60)
