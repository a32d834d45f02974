// SPDX-License-Identifier: Apache-2.0
// Hostile mail servers on 127.0.0.1 against the byte budgets: each case
// must end in ec::over_budget (or too_large) naming the account, with the
// connection dropped and the process's peak memory (VmHWM) bounded, not in
// gigabytes allocated for what the server claims.

#include "postern/error.hpp"
#include "postern/imap/session.hpp"
#include "postern/smtp/client.hpp"
#include "support/fake_server.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>

using namespace postern;
using namespace std::chrono_literals;
using postern::test::fake_connection;
using postern::test::fake_server;

namespace {

// Peak resident memory may grow at most this much during one hostile call
// (ASan's quarantine and shadow included); without budgets every case
// below needs hundreds of MB to gigabytes.
constexpr uint64_t memory_bound = 96ull * 1024 * 1024;

uint64_t status_kb(const char* field) {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field, 0) == 0)
      return std::stoull(line.substr(std::string{field}.size()));
  return 0;
}

// Resets VmHWM to the current RSS (Linux: clear_refs 5), returns the RSS.
uint64_t reset_peak() {
  std::ofstream{"/proc/self/clear_refs"} << "5";
  return status_kb("VmRSS:") * 1024;
}

uint64_t peak() {
  return status_kb("VmHWM:") * 1024;
}

std::string upper(std::string x) {
  for (auto& c : x)
    c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  return x;
}

using hook
  = std::function<bool(fake_connection&, const std::string& tag,
                       const std::string& command, const std::string& line)>;

// A minimal IMAP server; `h` may answer a command (true) instead.
fake_server::script imap_script(hook h) {
  return [h](fake_connection& c) {
    if (!c.send("* OK fake IMAP ready\r\n"))
      return;
    while (auto line = c.read_line()) {
      auto sp = line->find(' ');
      if (sp == std::string::npos)
        continue;
      auto tag = line->substr(0, sp);
      auto rest = line->substr(sp + 1);
      auto command = upper(rest.substr(0, rest.find(' ')));
      if (command == "UID")
        command += " " + upper(rest.substr(4, rest.find(' ', 4) - 4));
      if (h && h(c, tag, command, *line))
        continue;
      if (command == "CAPABILITY")
        c.send("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + " OK done\r\n");
      else if (command == "LOGOUT") {
        c.send("* BYE bye\r\n" + tag + " OK done\r\n");
        return;
      } else if (command == "LIST")
        c.send("* LIST () \"/\" INBOX\r\n" + tag + " OK done\r\n");
      else if (command == "SELECT")
        c.send("* 1 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n" + tag
               + " OK [READ-WRITE] done\r\n");
      else
        c.send(tag + " OK done\r\n");
    }
  };
}

// Sends `unit` again and again (exactly `max` bytes) until the client hangs up
// or `max` bytes went out (so the test ends even if nothing stops it).
void flood(fake_connection& c, const std::string& unit, uint64_t max) {
  for (uint64_t sent = 0; sent < max; sent += unit.size())
    if (!c.send(std::string_view{unit}.substr(
          0, static_cast<size_t>(std::min<uint64_t>(unit.size(), max - sent)))))
      return;
}

server_settings plain_server(uint16_t port) {
  server_settings s;
  s.host = "127.0.0.1";
  s.port = port;
  s.security = transport_security::plain;
  s.username = "user";
  return s;
}

imap::session_options options() {
  imap::session_options opts;
  opts.timeout = 20s;
  opts.operation_timeout = 60s;
  opts.account_label = "Work";
  return opts;
}

const secret password{"s3cret-pass"};

// The error of a hostile call: over budget, names the account, not the
// password or host, and the session is dead.
void expect_dropped(const caf::error& err, const imap::session& s,
                    const std::string& needle) {
  ASSERT_TRUE(err);
  EXPECT_EQ(err, ec::over_budget) << render(err);
  auto text = describe(err);
  EXPECT_NE(text.find("The mail server for 'Work'"), std::string::npos) << text;
  EXPECT_NE(text.find(needle), std::string::npos) << text;
  EXPECT_NE(text.find("the connection was dropped"), std::string::npos) << text;
  EXPECT_EQ(text.find("s3cret"), std::string::npos) << text;
  EXPECT_EQ(text.find("127.0.0.1"), std::string::npos) << text;
  EXPECT_FALSE(s.usable());
}

} // namespace

TEST(hostile_imap, endless_line) {
  fake_server server{
    imap_script([](fake_connection& c, auto&, auto& command, auto&) {
      if (command != "LIST")
        return false;
      c.send("* LIST () \"/\" ");
      flood(c, std::string(64 * 1024, 'a'), 1ull << 30);
      return true;
    })};
  imap::session s{options()};
  ASSERT_FALSE(s.connect(plain_server(server.port()), password));
  auto base = reset_peak();
  auto folders = s.list_folders();
  ASSERT_FALSE(folders);
  expect_dropped(folders.error(), s,
                 "response larger than Postern accepts (8 MiB)");
  EXPECT_LT(peak() - base, memory_bound);
}

TEST(hostile_imap, huge_literal_then_the_next_session_works) {
  fake_server server{
    imap_script([](fake_connection& c, auto& tag, auto& command, auto&) {
      if (command != "LIST")
        return false;
      static int lists = 0;
      if (++lists == 1) {
        c.send("* LIST () \"/\" {4000000000}\r\n");
        flood(c, std::string(64 * 1024, 'x'), 1ull << 30);
      } else {
        c.send("* LIST () \"/\" INBOX\r\n" + tag + " OK done\r\n");
      }
      return true;
    })};
  imap::session s{options()};
  ASSERT_FALSE(s.connect(plain_server(server.port()), password));
  auto base = reset_peak();
  auto folders = s.list_folders();
  ASSERT_FALSE(folders);
  expect_dropped(folders.error(), s,
                 "sent a 4.0 GB literal, more than Postern accepts (4 MiB)");
  EXPECT_LT(peak() - base, memory_bound);
  // Another connection (what the ACCOUNT opens next) is unaffected.
  imap::session again{options()};
  ASSERT_FALSE(again.connect(plain_server(server.port()), password));
  auto listed = again.list_folders();
  ASSERT_TRUE(listed) << render(listed.error());
  EXPECT_EQ(listed->size(), 1u);
}

TEST(hostile_imap, a_literal_cut_short_by_a_close_ends_the_call) {
  // libetpan reads a literal in a loop that took the end of the stream for
  // "nothing yet": a server announcing {66} and closing after 10 bytes kept
  // the call spinning at full CPU until its deadline (found by tests/fuzz
  // imap). The deadline here is longer than the test's CTest timeout, so
  // only the end of the stream can end the call.
  fake_server server{
    imap_script([](fake_connection& c, auto&, auto& command, auto&) {
      if (command != "LIST")
        return false;
      c.send("* LIST () \"/\" {66}\r\nxxxxxxxxxx");
      c.finish();
      return true;
    })};
  auto opts = options();
  opts.operation_timeout = 3600s;
  imap::session s{opts};
  ASSERT_FALSE(s.connect(plain_server(server.port()), password));
  auto folders = s.list_folders();
  ASSERT_FALSE(folders);
  EXPECT_NE(folders.error(), ec::timed_out) << render(folders.error());
  EXPECT_FALSE(s.usable());
  auto text = describe(folders.error());
  EXPECT_EQ(text.find("s3cret"), std::string::npos) << text;
}

TEST(hostile_imap, six_million_list_lines) {
  fake_server server{
    imap_script([](fake_connection& c, auto&, auto& command, auto&) {
      if (command != "LIST")
        return false;
      std::string block;
      for (int i = 0; i < 1000; ++i)
        block += "* LIST (\\HasNoChildren) \"/\" folder" + std::to_string(i)
                 + "\r\n";
      flood(c, block, 6000 * block.size());
      return true;
    })};
  imap::session s{options()};
  ASSERT_FALSE(s.connect(plain_server(server.port()), password));
  auto base = reset_peak();
  auto folders = s.list_folders();
  ASSERT_FALSE(folders);
  expect_dropped(folders.error(), s, "listed more than 10000 folders");
  EXPECT_LT(peak() - base, memory_bound);
}

TEST(hostile_imap, eight_million_uids_in_a_search) {
  fake_server server{
    imap_script([](fake_connection& c, auto&, auto& command, auto&) {
      if (command != "UID SEARCH")
        return false;
      c.send("* SEARCH");
      std::string block;
      for (int i = 1; i <= 10000; ++i)
        block += " " + std::to_string(1000000 + i);
      flood(c, block, 800 * block.size()); // 8 million UIDs
      return true;
    })};
  imap::session s{options()};
  ASSERT_FALSE(s.connect(plain_server(server.port()), password));
  auto base = reset_peak();
  imap::search_query q;
  q.query = "x";
  auto found = s.search("INBOX", q);
  ASSERT_FALSE(found);
  expect_dropped(found.error(), s, "more than 250000 items");
  EXPECT_LT(peak() - base, memory_bound);
}

TEST(hostile_imap, deeply_nested_bodystructure) {
  fake_server server{
    imap_script([](fake_connection& c, auto&, auto& command, auto&) {
      if (command != "UID FETCH")
        return false;
      c.send("* 1 FETCH (UID 1 BODYSTRUCTURE ");
      flood(c, std::string(4096, '('), 1000000);
      return true;
    })};
  imap::session s{options()};
  ASSERT_FALSE(s.connect(plain_server(server.port()), password));
  auto base = reset_peak();
  auto att = s.fetch_attachment("INBOX", 1, "1", {});
  ASSERT_FALSE(att);
  expect_dropped(att.error(), s, "nested more than 256 levels deep");
  EXPECT_LT(peak() - base, memory_bound);
}

namespace {

// A part whose BODYSTRUCTURE claims 10 bytes; its body is `real` bytes of
// 'A' (base64 text), served honestly by partial FETCH, or as one literal of
// the whole size when `whole` (ignoring the partial range asked for).
hook lying_part(uint64_t real, bool whole, std::atomic<int>* fetches) {
  return [=](fake_connection& c, const std::string& tag,
             const std::string& command, const std::string& line) {
    if (command != "UID FETCH")
      return false;
    if (line.find("BODYSTRUCTURE") != std::string::npos) {
      c.send("* 1 FETCH (UID 1 BODYSTRUCTURE (\"application\" \"pdf\" NIL NIL "
             "NIL \"base64\" 10))\r\n"
             + tag + " OK done\r\n");
      return true;
    }
    ++*fetches;
    // BODY.PEEK[1]<offset.length>
    uint64_t offset = 0;
    uint64_t length = real;
    if (auto lt = line.find('<'); lt != std::string::npos) {
      offset = std::stoull(line.substr(lt + 1));
      length = std::stoull(line.substr(line.find('.', lt) + 1));
    }
    if (whole) {
      c.send("* 1 FETCH (UID 1 BODY[1] {" + std::to_string(real) + "}\r\n");
      flood(c, std::string(64 * 1024, 'A'), real);
      c.send(")\r\n" + tag + " OK done\r\n");
      return true;
    }
    auto n = offset >= real ? 0 : std::min(length, real - offset);
    c.send("* 1 FETCH (UID 1 BODY[1]<" + std::to_string(offset) + "> {"
           + std::to_string(n) + "}\r\n");
    flood(c, std::string(64 * 1024, 'A'), n);
    c.send(")\r\n" + tag + " OK done\r\n");
    return true;
  };
}

} // namespace

TEST(hostile_imap, a_part_lying_about_its_size_is_read_in_bounded_chunks) {
  std::atomic<int> fetches{0};
  // 200 MB behind a claim of 10 bytes; the limit is 1 MiB.
  fake_server server{imap_script(lying_part(200'000'000, false, &fetches))};
  imap::session s{options()};
  ASSERT_FALSE(s.connect(plain_server(server.port()), password));
  auto base = reset_peak();
  mime::attachment_limits limits;
  limits.file = 1024 * 1024;
  auto att = s.fetch_attachment("INBOX", 1, "1", limits);
  ASSERT_FALSE(att);
  EXPECT_EQ(att.error(), ec::too_large) << render(att.error());
  EXPECT_LE(fetches.load(), 3); // ~1.4 MB of base64 in 1 MiB chunks
  EXPECT_TRUE(s.usable());      // an honest server keeps its connection
  EXPECT_LT(peak() - base, memory_bound);
}

TEST(hostile_imap, a_part_lying_about_its_size_with_one_huge_literal) {
  std::atomic<int> fetches{0};
  fake_server server{imap_script(lying_part(2'000'000'000, true, &fetches))};
  imap::session s{options()};
  ASSERT_FALSE(s.connect(plain_server(server.port()), password));
  auto base = reset_peak();
  auto att = s.fetch_attachment("INBOX", 1, "1", {});
  ASSERT_FALSE(att);
  expect_dropped(att.error(), s, "sent a 2.0 GB literal");
  EXPECT_LT(peak() - base, memory_bound);
}

TEST(hostile_imap, a_small_part_in_chunks_reads_whole) {
  std::atomic<int> fetches{0};
  fake_server server{
    imap_script(lying_part(3 * 1024 * 1024 + 5, false, &fetches))};
  auto opts = options();
  opts.fetch_chunk_bytes = 1024 * 1024;
  imap::session s{opts};
  ASSERT_FALSE(s.connect(plain_server(server.port()), password));
  mime::attachment_limits limits;
  limits.file = 4 * 1024 * 1024;
  auto att = s.fetch_attachment("INBOX", 1, "1", limits);
  ASSERT_TRUE(att) << render(att.error());
  // 3 MiB + 5 base64 letters decode to 3/4 of that, give or take the tail.
  EXPECT_GE(att->size, 3u * 1024 * 1024 / 4 * 3);
  EXPECT_LE(att->size, 3u * 1024 * 1024 / 4 * 3 + 4);
  EXPECT_EQ(fetches.load(), 4); // three full chunks, then a short one
}

TEST(hostile_smtp, endless_ehlo) {
  fake_server server{[](fake_connection& c) {
    c.send("220 fake ESMTP\r\n");
    if (!c.read_line())
      return;
    c.send("250-fake\r\n");
    flood(c, "250-" + std::string(1000, 'x') + "\r\n", 1ull << 30);
  }};
  smtp::client_options opts;
  opts.timeout = 20s;
  opts.account_label = "Work";
  smtp::client client{opts};
  auto base = reset_peak();
  auto err = client.connect(plain_server(server.port()), password);
  ASSERT_TRUE(err);
  EXPECT_EQ(err, ec::over_budget) << render(err);
  EXPECT_NE(describe(err).find("The mail server for 'Work' sent a response "
                               "larger than Postern accepts (64 KiB)"),
            std::string::npos)
    << describe(err);
  EXPECT_LT(peak() - base, memory_bound);
}
