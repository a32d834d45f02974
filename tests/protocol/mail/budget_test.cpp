// SPDX-License-Identifier: Apache-2.0
// The byte budget tracker: literals refused when announced, per response,
// per operation, items, nesting, SMTP replies.

#include "postern/imap/budget.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

using namespace postern::imap;

namespace {

budget_limits small() {
  budget_limits l;
  l.max_literal = 100;
  l.max_response = 1000;
  l.max_operation = 5000;
  l.max_items = 50;
  l.max_depth = 8;
  return l;
}

bool feed(budget_tracker& t, const std::string& data) {
  return t.consume(data.data(), data.size());
}

// Feeds one byte at a time (headers split across reads).
bool trickle(budget_tracker& t, const std::string& data) {
  for (char c : data)
    if (!t.consume(&c, 1))
      return false;
  return true;
}

} // namespace

TEST(budget_tracker, accepts_ordinary_responses) {
  budget_tracker t{budget_tracker::syntax::imap, small()};
  EXPECT_TRUE(feed(t, "* LIST (\\HasNoChildren) \"/\" INBOX\r\n"));
  EXPECT_TRUE(feed(t, "* 1 FETCH (UID 7 BODY[1] {5}\r\nhello)\r\n"));
  EXPECT_TRUE(feed(t, "A1 OK done\r\n"));
  EXPECT_FALSE(t.violation());
  EXPECT_EQ(t.operation_responses(), 3u);
}

TEST(budget_tracker, refuses_a_huge_literal_at_its_header) {
  budget_tracker t{budget_tracker::syntax::imap, small()};
  // The header alone is refused: nothing of the literal has arrived yet.
  EXPECT_FALSE(feed(t, "* LIST () \"/\" {4000000000}\r\n"));
  EXPECT_EQ(t.violation().kind, budget_kind::literal);
  EXPECT_EQ(t.violation().amount, 4000000000u);
  EXPECT_EQ(t.violation().limit, 100u);
  // Sticky: the connection is dead.
  EXPECT_FALSE(feed(t, "A1 OK\r\n"));
}

TEST(budget_tracker, refuses_a_literal_split_over_reads) {
  budget_tracker t{budget_tracker::syntax::imap, small()};
  EXPECT_TRUE(trickle(t, "* 1 FETCH (BODY[] {10"));
  // Refused at the "}": libetpan may take it for a literal before the CRLF
  // arrives.
  EXPECT_FALSE(trickle(t, "1}"));
  EXPECT_EQ(t.violation().kind, budget_kind::literal);
  EXPECT_EQ(t.violation().amount, 101u);
}

TEST(budget_tracker, a_literal_at_the_limit_passes_and_its_bytes_are_opaque) {
  budget_tracker t{budget_tracker::syntax::imap, small()};
  // Parentheses, quotes, CRLFs and braces inside a literal mean nothing.
  std::string body(100, '(');
  body.replace(10, 14, "\r\n{999999}\r\n\"x");
  EXPECT_TRUE(feed(t, "* 1 FETCH (BODY[] {100}\r\n" + body + ")\r\n"));
  EXPECT_FALSE(t.violation());
  EXPECT_EQ(t.operation_responses(), 1u);
}

TEST(budget_tracker, saturates_absurd_literal_sizes) {
  budget_tracker t{budget_tracker::syntax::imap, small()};
  EXPECT_FALSE(feed(t, "* 1 FETCH (BODY[] {" + std::string(40, '9') + "}\r\n"));
  EXPECT_EQ(t.violation().kind, budget_kind::literal);
  EXPECT_GT(t.violation().amount, uint64_t{1} << 50);
}

TEST(budget_tracker, braces_in_quoted_strings_and_text_are_not_literals) {
  budget_tracker t{budget_tracker::syntax::imap, small()};
  EXPECT_TRUE(feed(t, "* LIST () \"/\" \"a {4000000000}\"\r\n"));
  EXPECT_TRUE(feed(t, "* OK {4000000000} x\r\n")); // not before CRLF
  EXPECT_TRUE(feed(t, "* OK {}\r\n"));
  EXPECT_FALSE(t.violation());
}

TEST(budget_tracker, the_literal_counts_against_the_response) {
  budget_tracker t{budget_tracker::syntax::imap, small()};
  // Each literal fits, together they exceed the response: refused at the
  // header of the one that would exceed it.
  std::string response = "* 1 FETCH (";
  for (int i = 0; i < 8; ++i)
    response += "BODY[" + std::to_string(i) + "] {100}\r\n"
                + std::string(100, 'x') + " ";
  EXPECT_TRUE(feed(t, response));
  EXPECT_FALSE(feed(t, "BODY[8] {100}\r\n"));
  EXPECT_EQ(t.violation().kind, budget_kind::response);
  EXPECT_EQ(t.violation().limit, 1000u);
}

TEST(budget_tracker, an_endless_line_is_refused_per_response) {
  budget_tracker t{budget_tracker::syntax::imap, small()};
  std::string chunk(64, 'a');
  bool ok = true;
  int fed = 0;
  while (ok && fed < 100) {
    ok = feed(t, chunk);
    ++fed;
  }
  EXPECT_FALSE(ok);
  EXPECT_EQ(t.violation().kind, budget_kind::response);
  EXPECT_LE(fed * 64, 1000 + 64);
}

TEST(budget_tracker, the_response_count_resets_at_each_crlf) {
  budget_tracker t{budget_tracker::syntax::imap, small()};
  auto line = "* LIST () \"/\" " + std::string(500, 'f') + "\r\n";
  for (int i = 0; i < 9; ++i)
    EXPECT_TRUE(feed(t, line)) << i; // 9 x 515 bytes: over one response
  EXPECT_FALSE(feed(t, line));       // but over the operation at the tenth
  EXPECT_EQ(t.violation().kind, budget_kind::operation);
  EXPECT_EQ(t.violation().limit, 5000u);
}

TEST(budget_tracker, begin_operation_resets_the_operation) {
  budget_tracker t{budget_tracker::syntax::imap, small()};
  auto line = "* LIST () \"/\" " + std::string(500, 'f') + "\r\n";
  for (int op = 0; op < 5; ++op) {
    t.begin_operation();
    for (int i = 0; i < 9; ++i)
      ASSERT_TRUE(feed(t, line)) << op << " " << i;
  }
  EXPECT_FALSE(t.violation());
}

TEST(budget_tracker, the_operation_counts_literals_before_they_arrive) {
  auto l = small();
  l.max_literal = 0; // literals unbounded on their own
  l.max_response = 0;
  budget_tracker t{budget_tracker::syntax::imap, l};
  EXPECT_TRUE(
    feed(t, "* 1 FETCH (BODY[] {4000}\r\n" + std::string(4000, 'x') + ")\r\n"));
  EXPECT_FALSE(feed(t, "* 2 FETCH (BODY[] {1000}\r\n"));
  EXPECT_EQ(t.violation().kind, budget_kind::operation);
}

TEST(budget_tracker, items_per_response) {
  budget_tracker t{budget_tracker::syntax::imap, small()};
  std::string search = "* SEARCH";
  for (int i = 1; i <= 49; ++i)
    search += " " + std::to_string(i);
  EXPECT_TRUE(feed(t, search + "\r\n"));
  EXPECT_FALSE(feed(t, search + " 50 51\r\n"));
  EXPECT_EQ(t.violation().kind, budget_kind::items);
  EXPECT_EQ(t.violation().limit, 50u);
}

TEST(budget_tracker, responses_per_operation) {
  auto l = small();
  l.max_operation = 0;
  budget_tracker t{budget_tracker::syntax::imap, l};
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(feed(t, "* 1 EXISTS\r\n"));
  EXPECT_FALSE(feed(t, "* 1 EXISTS\r\n"));
  EXPECT_EQ(t.violation().kind, budget_kind::operation_items);
}

TEST(budget_tracker, a_per_operation_item_cap_names_its_items) {
  budget_tracker t{budget_tracker::syntax::imap, small()};
  t.limit_operation_items(3, "folders");
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(feed(t, "* LIST () \"/\" f\r\n"));
  EXPECT_TRUE(feed(t, "A1 OK done\r\n")); // the tagged response is not one
  t.begin_operation();                    // lifted for the next command
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(feed(t, "* 1 EXISTS\r\n"));
  t.begin_operation();
  t.limit_operation_items(3, "folders");
  for (int i = 0; i < 4; ++i)
    feed(t, "* LIST () \"/\" f\r\n");
  EXPECT_FALSE(feed(t, "A1 OK done\r\n"));
  EXPECT_EQ(t.violation().kind, budget_kind::operation_items);
  EXPECT_EQ(t.violation().limit, 3u);
  EXPECT_EQ(describe_violation(t.violation(), "Work", "IMAP"),
            "The mail server for 'Work' listed more than 3 folders, more than "
            "Postern accepts; the connection was dropped.");
}

TEST(budget_tracker, nesting_depth) {
  budget_tracker t{budget_tracker::syntax::imap, small()};
  EXPECT_TRUE(feed(t, "* 1 FETCH (BODYSTRUCTURE ((((((())))))))\r\n"));
  EXPECT_FALSE(feed(t, "* 1 FETCH (BODYSTRUCTURE ((((((((("));
  EXPECT_EQ(t.violation().kind, budget_kind::depth);
  EXPECT_EQ(t.violation().limit, 8u);
}

TEST(budget_tracker, parentheses_in_quoted_strings_do_not_nest) {
  budget_tracker t{budget_tracker::syntax::imap, small()};
  EXPECT_TRUE(feed(t, "* 1 FETCH (ENVELOPE (\"((((((((((\\\"((((\"))\r\n"));
  EXPECT_FALSE(t.violation());
}

TEST(budget_tracker, unlimited_counts_but_never_refuses) {
  budget_tracker t{budget_tracker::syntax::imap, budget_limits::unlimited()};
  EXPECT_TRUE(feed(t, "* 1 FETCH (BODY[] {4000000000}\r\n"));
  EXPECT_TRUE(feed(t, std::string(10000, '(')));
  EXPECT_FALSE(t.violation());
}

TEST(budget_tracker, smtp_replies) {
  budget_tracker t{budget_tracker::syntax::smtp,
                   budget_limits::smtp_defaults()};
  EXPECT_TRUE(
    feed(t, "250-mail.example.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n"));
  // The reply count resets after a final line, so many replies pass.
  auto line = "250 " + std::string(60000, 'x') + "\r\n";
  EXPECT_TRUE(feed(t, line));
  EXPECT_TRUE(feed(t, line));
  // An endless EHLO: continuation lines never end the reply.
  auto cont = "250-" + std::string(1000, 'x') + "\r\n";
  bool ok = true;
  int lines = 0;
  while (ok && lines < 1000) {
    ok = feed(t, cont);
    ++lines;
  }
  EXPECT_FALSE(ok);
  EXPECT_EQ(t.violation().kind, budget_kind::response);
  EXPECT_LE(lines, 66);
}

TEST(budget_tracker, smtp_operation) {
  budget_tracker t{budget_tracker::syntax::smtp,
                   budget_limits::smtp_defaults()};
  auto line = "250 " + std::string(1000, 'x') + "\r\n";
  int lines = 0;
  while (feed(t, line) && lines < 10000)
    ++lines;
  EXPECT_EQ(t.violation().kind, budget_kind::operation);
  EXPECT_EQ(lines, 1024 * 1024 / 1006);
}

TEST(budget_tracker, sentences_name_the_label_and_the_limit) {
  budget_violation v{budget_kind::literal, 4000000000u, 4 * 1024 * 1024};
  EXPECT_EQ(describe_violation(v, "work", "IMAP"),
            "The mail server for 'work' sent a 4.0 GB literal, more than "
            "Postern accepts (4 MiB); the connection was dropped.");
  v = {budget_kind::response, 70000, 64 * 1024};
  EXPECT_EQ(describe_violation(v, "", "SMTP"),
            "The SMTP server sent a response larger than Postern accepts "
            "(64 KiB); the connection was dropped.");
  v = {budget_kind::depth, 257, 256};
  EXPECT_NE(describe_violation(v, "x", "IMAP").find("256 levels"),
            std::string::npos);
  EXPECT_EQ(format_limit(8 * 1024 * 1024), "8 MiB");
  EXPECT_EQ(format_limit(1000), "1000 bytes");
  EXPECT_EQ(format_amount(999), "999 bytes");
  EXPECT_EQ(format_amount(12500000), "12.5 MB");
}

// Shapes that crash libetpan 1.9.4's parser (found by tests/fuzz imap) lose
// their "(" before libetpan sees them; nothing else changes.
std::string defused(budget_tracker& t, std::string data, bool one_by_one) {
  if (one_by_one) {
    for (auto& c : data)
      EXPECT_TRUE(t.consume_and_defuse(&c, 1));
  } else {
    EXPECT_TRUE(t.consume_and_defuse(data.data(), data.size()));
  }
  return data;
}

TEST(budget_tracker, defuses_what_crashes_libetpan) {
  for (bool one_by_one : {false, true}) {
    budget_tracker t{budget_tracker::syntax::imap, small()};
    // A string in a code of the greeting: null parser context in libetpan.
    EXPECT_EQ(defused(t, "* OK [BADCHARSET (UTF-8)] hi\r\n", one_by_one),
              "* OK [BADCHARSET  UTF-8)] hi\r\n");
    // After the greeting, BADCHARSET lists parse fine and stay.
    EXPECT_EQ(defused(t, "A1 NO [BADCHARSET (US-ASCII)] no\r\n", one_by_one),
              "A1 NO [BADCHARSET (US-ASCII)] no\r\n");
    // A PERMANENTFLAGS list whose first flag does not parse: a null free.
    EXPECT_EQ(defused(t, "* OK [permanentflags (\x04)] x\r\n", one_by_one),
              "* OK [permanentflags  \x04)] x\r\n");
    // Other codes, quoted strings, literals and sections stay as they are.
    const std::string untouched
      = "* 1 FETCH (UID 1 BODY[HEADER.FIELDS (REFERENCES)] {21}\r\n"
        "[PERMANENTFLAGS (x)\r\n \"[PERMANENTFLAGS (\")\r\n"
        "* OK [PERMANENTFLAG (x)] [UIDNEXT 4]\r\n";
    EXPECT_EQ(defused(t, untouched, one_by_one), untouched);
    EXPECT_FALSE(t.violation());
  }
}

// "[ALERT]" or "[PARSE]" with no text after it: libetpan strdup()s a null
// text (found by tests/fuzz imap). In a status response the code's last
// letter becomes "_" (an unknown code); anywhere else it stays.
TEST(budget_tracker, defuses_alert_and_parse_codes_of_status_responses) {
  for (bool one_by_one : {false, true}) {
    budget_tracker t{budget_tracker::syntax::imap, small()};
    EXPECT_EQ(defused(t, "* OK ready\r\n", one_by_one), "* OK ready\r\n");
    EXPECT_EQ(defused(t, "2 NO [ALERT]\r\n", one_by_one), "2 NO [ALER_]\r\n");
    EXPECT_EQ(defused(t, "* BYE [parse] bad\r\n", one_by_one),
              "* BYE [pars_] bad\r\n");
    EXPECT_EQ(defused(t, "A7 OK [ALERT] Mailbox almost full\r\n", one_by_one),
              "A7 OK [ALER_] Mailbox almost full\r\n");
    // libetpan takes any run of spaces and tabs between the words.
    EXPECT_EQ(defused(t, "4\tOK \t[PARSE]\r\n", one_by_one),
              "4\tOK \t[PARS_]\r\n");
    // libetpan takes more than one space between the words.
    EXPECT_EQ(defused(t, "`in  NO  [Alert]\r\n", one_by_one),
              "`in  NO  [Aler_]\r\n");
    // ... and blanks between the bracket and the code (the long imap fuzz
    // run: "2\tNO [\tALERT]").
    EXPECT_EQ(defused(t, "2\tNO [\tALERT]\r\n", one_by_one),
              "2\tNO [\tALER_]\r\n");
    EXPECT_EQ(defused(t, "* OK [ \t PARSE] \r\n", one_by_one),
              "* OK [ \t PARS_] \r\n");
    // A folder, a section, a quoted string, a literal and longer or
    // shorter codes stay as they are.
    const std::string untouched
      = "* LIST () \"/\" [ALERT]\r\n"
        "* 1 FETCH (UID 1 BODY[ALERT] {7}\r\n[ALERT])\r\n"
        "* LIST () \"/\" \"[PARSE]\"\r\n"
        "3 OK [ALER] x\r\n"
        "* STATUS [ALERT] (MESSAGES 1)\r\n"
        "* LIST () \"/\" x [ALERT]\r\n";
    EXPECT_EQ(defused(t, untouched, one_by_one), untouched);
    EXPECT_FALSE(t.violation());
  }
}

// libetpan's parser reads no literal in the text of a status response or a
// continuation request: the bytes after "{N}" CRLF start a new response
// (found by the long imap fuzz run: "* OK x {07}" then "JVBEO  NO [ALERT]").
TEST(budget_tracker, a_brace_in_text_does_not_hide_the_next_response) {
  for (bool one_by_one : {false, true}) {
    budget_tracker t{budget_tracker::syntax::imap, small()};
    EXPECT_EQ(defused(t, "* OK readL2r [0> {07}\r\nJVBEO  NO [ALERT]\r\n",
                      one_by_one),
              "* OK readL2r [0> {07}\r\nJVBEO  NO [ALER_]\r\n");
    EXPECT_EQ(defused(t, "+ go on {5}\r\nA NO [ALERT]\r\n", one_by_one),
              "+ go on {5}\r\nA NO [ALER_]\r\n");
    // libetpan takes any line that starts with "+" as a continuation.
    EXPECT_EQ(defused(t, "+) x {5}\r\nA NO [ALERT]\r\n", one_by_one),
              "+) x {5}\r\nA NO [ALER_]\r\n");
    // A code's string may be a literal or text: its bytes are read as
    // lines, and no literal starts on a line that begins among them, so a
    // "{N}" there hides nothing either.
    EXPECT_EQ(defused(t,
                      "* OK [BADCHARSET ({14}\r\nQ FETCH {20}\r\n)]\r\n"
                      "B NO [ALERT]\r\n",
                      one_by_one),
              "* OK [BADCHARSET ({14}\r\nQ FETCH {20}\r\n)]\r\n"
              "B NO [ALER_]\r\n");
    // After that region (20 bytes from the last "{20}", ending in the
    // EXISTS line), literals are literals again.
    const std::string fetch = "* 2 EXISTS\r\n"
                              "* 1 FETCH (BODY[] {12}\r\n2 NO [ALERT])\r\n";
    EXPECT_EQ(defused(t, fetch, one_by_one), fetch);
    EXPECT_FALSE(t.violation());
  }
}

// libetpan's literal header is looser than RFC 3501 (UNSTRICT_SYNTAX and
// server workarounds): spaces inside the braces, "{-N}" (size 0) and no CRLF
// after "}" (the literal starts after any spaces). Each is held to the
// literal limit (the long imap fuzz run: "{99999999999}rintable" made
// libetpan allocate 2 GB).
TEST(budget_tracker, literal_headers_as_loose_as_libetpans_are_checked) {
  for (const char* over : {"* 1 FETCH (BODY[] {99999999999}rintable)\r\n",
                           "* 1 FETCH (BODY[] { 99999999999 }\r\n",
                           "* 1 FETCH (BODY[] {99999999999}\rx\r\n",
                           // A code's string may be a literal.
                           "* OK [BADCHARSET ({99999999999} x)] y\r\n",
                           // In an unclear region quotes may be a literal's
                           // bytes: a brace after one is still checked.
                           "* OK x {9}\r\n\"abc {99999999999}\r\n",
                           // libetpan reads a quoted string on across
                           // lines: a brace after it, inside quotes for a
                           // line-by-line reading, may be a literal.
                           "* 1 FETCH (X \"a\r\n* 2 EXISTS\r\n"
                           "* 0 b\"{99999999999}x\"\r\n"}) {
    budget_tracker t{budget_tracker::syntax::imap, small()};
    EXPECT_FALSE(feed(t, over)) << over;
    EXPECT_EQ(t.violation().kind, budget_kind::literal) << over;
  }
  budget_tracker t{budget_tracker::syntax::imap, small()};
  EXPECT_TRUE(feed(t, "* 1 FETCH (BODY[] {-99999999999}\r\n)\r\n"));
  EXPECT_TRUE(feed(t, "* 1 FETCH (BODY[] { 5 }\r\nhello)\r\n"));
  // An odd quote in the text of a status response is text, not a string
  // that goes on: braces in later quotes stay quoted.
  EXPECT_TRUE(feed(t, "* OK say \"hi\r\n"));
  EXPECT_TRUE(feed(t, "* 1 FETCH (X \"c {99999999999}x\")\r\n"));
  EXPECT_FALSE(t.violation());
}

// The size after a brace in text is still checked as a literal's (libetpan
// reserves it if the brace is a code's literal).
TEST(budget_tracker, a_brace_in_text_is_held_to_the_literal_limit) {
  budget_tracker t{budget_tracker::syntax::imap, small()};
  EXPECT_FALSE(feed(t, "* OK x {999999999}\r\n"));
  EXPECT_EQ(t.violation().kind, budget_kind::literal);
}

// A tab among the AUTH mechanisms of an EHLO reply made libetpan's
// mailesmtp_parse_ehlo loop forever (found by tests/fuzz smtp).
TEST(budget_tracker, smtp_tabs_become_spaces) {
  for (bool one_by_one : {false, true}) {
    budget_tracker t{budget_tracker::syntax::smtp,
                     budget_limits::smtp_defaults()};
    EXPECT_EQ(defused(t, "250-mail.example.test\r\n250 AUTH \tPLAIN\r\n",
                      one_by_one),
              "250-mail.example.test\r\n250 AUTH  PLAIN\r\n");
    EXPECT_EQ(t.operation_responses(), 2u);
  }
}

TEST(budget_tracker, consume_changes_nothing) {
  budget_tracker t{budget_tracker::syntax::imap, small()};
  EXPECT_TRUE(feed(t, "* OK [BADCHARSET (UTF-8)] hi\r\n"));
  EXPECT_FALSE(t.violation());
}

namespace {

/// One input read twice, by a tracker with the quoted-run fast path and by
/// one that scans every byte, in the same random pieces.
struct both_readings {
  budget_tracker fast;
  budget_tracker slow;
  explicit both_readings(budget_limits limits)
    : fast{budget_tracker::syntax::imap, limits},
      slow{budget_tracker::syntax::imap, limits} {
    slow.scan_every_byte(true);
  }
};

} // namespace

TEST(budget_tracker, the_quoted_run_fast_path_reads_as_every_byte_does) {
  // Inputs from the bytes the scanner cares about, with long quoted runs
  // between them; small limits, so that runs end at every kind of limit.
  const std::string specials = "\"\\{}()[] \r\n\t+-*07OKNOA";
  std::mt19937 rng{20261207};
  size_t violations = 0;
  for (int round = 0; round < 4000; ++round) {
    std::string input;
    auto parts = 1 + rng() % 40;
    for (size_t p = 0; p < parts; ++p) {
      if (rng() % 3 == 0)
        input.append(1 + rng() % 60, static_cast<char>('a' + rng() % 26));
      else
        input += specials[rng() % specials.size()];
    }
    if (round % 5 == 0) // a real shape too
      input = "* 3 FETCH (UID 9 ENVELOPE (\"Mon, 7 Dec 2026\" \"a "
              "\\\"quoted\\\" subject\" ((\"Al\" NIL \"al\" \"x.test\"))))\r\n"
              + input;
    budget_limits limits = small();
    limits.max_response = 20 + rng() % 400;
    limits.max_operation = 40 + rng() % 2000;
    both_readings r{limits};
    std::string a = input;
    std::string b = input;
    size_t at = 0;
    while (at < input.size()) {
      auto n = std::min<size_t>(input.size() - at, 1 + rng() % 50);
      auto ok_fast = r.fast.consume_and_defuse(a.data() + at, n);
      auto ok_slow = r.slow.consume_and_defuse(b.data() + at, n);
      ASSERT_EQ(ok_fast, ok_slow) << "round " << round << " at " << at;
      ASSERT_EQ(r.fast.operation_bytes(), r.slow.operation_bytes());
      ASSERT_EQ(r.fast.operation_responses(), r.slow.operation_responses());
      if (!ok_fast)
        break;
      at += n;
    }
    ASSERT_EQ(r.fast.violation().kind, r.slow.violation().kind);
    ASSERT_EQ(r.fast.violation().amount, r.slow.violation().amount);
    ASSERT_EQ(a, b) << "round " << round;
    if (r.fast.violation())
      ++violations;
  }
  // Both paths were exercised: some inputs broke a limit, most did not.
  EXPECT_GT(violations, 100u);
  EXPECT_LT(violations, 3900u);
}
