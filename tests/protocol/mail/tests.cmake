# Tests of the mail client (protocol/mail: imap::, mime::, smtp::).
# Included from tests/CMakeLists.txt.

# Pure unit tests: no network, no servers.
postern_unit_test(postern-protocol-unit-test LIBS postern::mail
  SOURCES
    protocol/mail/autoconfig_test.cpp
    protocol/mail/budget_test.cpp
    protocol/mail/charset_test.cpp
    protocol/mail/compose_test.cpp
    protocol/mail/header_test.cpp
    protocol/mail/hostile_test.cpp
    protocol/mail/html_test.cpp
    protocol/mail/imap_query_test.cpp
    protocol/mail/message_builder_test.cpp
    protocol/mail/message_cache_test.cpp
    protocol/mail/robustness_test.cpp
    protocol/mail/sasl_test.cpp
    protocol/mail/structure_test.cpp)

# Growth properties (issue 14): hostile shapes at n and 4n; output, counted
# work and allocated bytes grow at most linearly. No clock. (Templates too:
# hence ui.)
postern_unit_test(postern-protocol-growth-test LIBS postern::mail postern::ui
  SOURCES protocol/mail/growth_test.cpp)

# Faults from a scripted fake IMAP/SMTP server on 127.0.0.1 (resets, stalls,
# garbage): each test waits for a 2 s timeout at most a few times.
postern_unit_test(postern-protocol-fault-test LIBS postern::mail
  SOURCES protocol/mail/fault_test.cpp
  LABELS integration faults TIMEOUT 60)

# Hostile servers against the byte budgets (endless lines, huge literals,
# millions of LIST lines or UIDs, lying part sizes, deep nesting, endless
# EHLO): each ends in a clear error with bounded peak memory.
postern_unit_test(postern-protocol-budget-test LIBS postern::mail
  SOURCES protocol/mail/budget_fault_test.cpp
  LABELS integration faults TIMEOUT 120)

# Against the real Dovecot + Postfix of the fixture mail_servers.
postern_gtest_program(protocol.mail postern-protocol-mail-test MAIL TIMEOUT 300
  SOURCES protocol/mail/mail_test.cpp LIBS postern::mail)

# The organizing operations (threads, bulk changes, safe delete, folders,
# search of every folder) against the real Dovecot, in dave's mailbox.
postern_gtest_program(protocol.organize postern-protocol-organize-test MAIL
  TIMEOUT 300 SOURCES protocol/mail/organize_mail_test.cpp LIBS postern::mail)
