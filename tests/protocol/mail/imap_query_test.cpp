// SPDX-License-Identifier: Apache-2.0
#include "postern/error.hpp"
#include "postern/imap/mailbox_name.hpp"
#include "postern/imap/query.hpp"
#include "postern/imap/types.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/deep_to_string.hpp>

#include <gtest/gtest.h>

using namespace postern;
using namespace postern::imap;

// -- modified UTF-7
// -------------------------------------------------------------

TEST(mailbox_name, decodes_modified_utf7) {
  EXPECT_EQ(decode_mailbox_name("INBOX"), "INBOX");
  EXPECT_EQ(decode_mailbox_name("Entw&APw-rfe"), "Entwürfe");
  EXPECT_EQ(decode_mailbox_name("&ZeVnLIqe-"), "日本語");
  EXPECT_EQ(decode_mailbox_name("&BB4EQgRHBFEEQgRL-"), "Отчёты");
  EXPECT_EQ(decode_mailbox_name("Rechnungen &- Belege"), "Rechnungen & Belege");
  EXPECT_EQ(decode_mailbox_name("~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
            "~peter/mail/台北/日本語");
  // A character outside the BMP (surrogate pair).
  EXPECT_EQ(decode_mailbox_name("&2D3eAA-"), "\xF0\x9F\x98\x80");
}

TEST(mailbox_name, rejects_malformed_names) {
  EXPECT_EQ(decode_mailbox_name("&ZeVnLIqe"), std::nullopt); // no "-"
  EXPECT_EQ(decode_mailbox_name("&Ze!-"), std::nullopt);     // not base64
  EXPECT_EQ(decode_mailbox_name("&AGE-x&-"), "ax&"); // lenient: encoded ASCII
  EXPECT_EQ(decode_mailbox_name("&2D0-"), std::nullopt); // lone high surrogate
  EXPECT_EQ(decode_mailbox_name("&3gA-"), std::nullopt); // lone low surrogate
  EXPECT_EQ(decode_mailbox_name("&AP-"), std::nullopt);  // odd length / bits
  EXPECT_EQ(decode_mailbox_name("Entw\xC3\xBCrfe"), std::nullopt); // raw 8-bit
  EXPECT_EQ(display_mailbox_name("Entw\xC3\xBCrfe"), "Entwürfe");
  EXPECT_EQ(display_mailbox_name("bad\xFF"), "bad\xEF\xBF\xBD");
}

TEST(mailbox_name, encodes_modified_utf7) {
  EXPECT_EQ(encode_mailbox_name("INBOX"), "INBOX");
  EXPECT_EQ(encode_mailbox_name("Entwürfe"), "Entw&APw-rfe");
  EXPECT_EQ(encode_mailbox_name("日本語"), "&ZeVnLIqe-");
  EXPECT_EQ(encode_mailbox_name("Отчёты"), "&BB4EQgRHBFEEQgRL-");
  EXPECT_EQ(encode_mailbox_name("Rechnungen & Belege"), "Rechnungen &- Belege");
  EXPECT_EQ(encode_mailbox_name("\xF0\x9F\x98\x80"), "&2D3eAA-");
  EXPECT_EQ(encode_mailbox_name("~peter/mail/台北/日本語"),
            "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
  for (auto name : {"Archive/2023", "Ä", "ÄÖ", "ÄÖÜ", "a&b&&c",
                    "Grüße/日本/Привет/😀😀", "tab\there", "€"}) {
    auto wire = encode_mailbox_name(name);
    for (char c : wire)
      EXPECT_LT(static_cast<unsigned char>(c), 0x80);
    EXPECT_EQ(decode_mailbox_name(wire), std::string{name}) << wire;
  }
}

// -- paging
// ------------------------------------------------------------------------

TEST(paging, clamps_arguments) {
  EXPECT_EQ(clamp_page_size(20), 20u);
  EXPECT_EQ(clamp_page_size(0), 1u);
  EXPECT_EQ(clamp_page_size(-5), 1u);
  EXPECT_EQ(clamp_page_size(50), 50u);
  EXPECT_EQ(clamp_page_size(500), 50u);
  EXPECT_EQ(clamp_page(0), 1u);
  EXPECT_EQ(clamp_page(-1), 1u);
  EXPECT_EQ(clamp_page(3), 3u);
  EXPECT_EQ(clamp_page(int64_t{1} << 40), uint32_t{1} << 31);
}

TEST(paging, pages_run_newest_first_and_end_empty) {
  auto r = page_range(100, 1, 20);
  EXPECT_EQ(r.first, 81u);
  EXPECT_EQ(r.last, 100u);
  r = page_range(100, 5, 20);
  EXPECT_EQ(r.first, 1u);
  EXPECT_EQ(r.last, 20u);
  r = page_range(95, 5, 20);
  EXPECT_EQ(r.first, 1u);
  EXPECT_EQ(r.last, 15u);
  EXPECT_TRUE(page_range(100, 6, 20).empty()); // past the end: empty, not #1
  EXPECT_TRUE(page_range(0, 1, 20).empty());
  EXPECT_TRUE(page_range(100, uint32_t{1} << 31, 50).empty());
  r = page_range(1, 1, 50);
  EXPECT_EQ(r.first, 1u);
  EXPECT_EQ(r.last, 1u);
}

TEST(paging, cursors_round_trip_and_are_bound_to_their_folder) {
  cursor c{1700000000u, 4242u, 25u};
  auto text = encode_cursor("INBOX", c);
  for (char ch : text)
    EXPECT_TRUE(isalnum(static_cast<unsigned char>(ch)) || ch == '-'
                || ch == '_');
  auto back = decode_cursor("INBOX", text);
  ASSERT_TRUE(back) << describe(back.error());
  EXPECT_EQ(back->uid_validity, c.uid_validity);
  EXPECT_EQ(back->before_uid, c.before_uid);
  EXPECT_EQ(back->page_size, c.page_size);
  auto other = decode_cursor("Archive", text);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error(), ec::invalid_argument);
  for (std::string bad :
       {std::string{}, std::string{"!!!"}, std::string{"AAAA"},
        std::string{"MS4xLjEuMS5kZWFkYmVlZg"}, std::string(200, 'A')})
    EXPECT_FALSE(decode_cursor("INBOX", bad)) << bad;
}

// -- dates
// ----------------------------------------------------------------------------

TEST(dates, validates_search_dates_strictly) {
  auto d = parse_date("2024-02-29", "since");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->year, 2024);
  EXPECT_EQ(d->month, 2);
  EXPECT_EQ(d->day, 29);
  for (auto bad :
       {"2023-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "24-01-01",
        "2024-1-01", "2024/01/01", "2024-01-01T00:00", "not-a-date", "",
        "1899-12-31", " 2024-01-01", "2024-01-0x"}) {
    auto r = parse_date(bad, "since");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), ec::invalid_argument);
    EXPECT_NE(describe(r.error()).find("YYYY-MM-DD"), std::string::npos);
  }
  EXPECT_TRUE(parse_date("2000-02-29", "before"));
  EXPECT_FALSE(parse_date("1900-02-29", "before"));
}

TEST(dates, converts_to_iso8601_utc) {
  EXPECT_EQ(to_iso8601(2026, 11, 26, 6, 0, 0, 0), "2026-11-26T06:00:00Z");
  EXPECT_EQ(to_iso8601(2026, 11, 26, 6, 0, 0, 100), "2026-11-26T05:00:00Z");
  EXPECT_EQ(to_iso8601(2024, 1, 1, 0, 30, 0, 130), "2023-12-31T23:00:00Z");
  EXPECT_EQ(to_iso8601(2024, 2, 28, 23, 0, 0, -500), "2024-02-29T04:00:00Z");
  EXPECT_EQ(to_iso8601(2024, 2, 30, 0, 0, 0, 0), "");
  EXPECT_EQ(rfc5322_date_to_iso8601("Thu, 26 Nov 2026 06:00:00 +0100"),
            "2026-11-26T05:00:00Z");
  EXPECT_EQ(rfc5322_date_to_iso8601("26 Nov 2026 06:00:00 -0000"),
            "2026-11-26T06:00:00Z");
  EXPECT_EQ(rfc5322_date_to_iso8601("Mon, 01 Jan 24 12:00:00 +0000"),
            "2024-01-01T12:00:00Z");
  EXPECT_EQ(rfc5322_date_to_iso8601("yesterday"), "");
  EXPECT_EQ(rfc5322_date_to_iso8601(""), "");
}

// -- message types travel through CAF's serialization
// ----------------------------------

TEST(types, serialize_with_caf_inspect) {
  message m;
  m.summary.uid = 7;
  m.summary.subject = "Grüße";
  m.summary.from = {{"Alice", "alice@example.test"}};
  m.attachments.push_back(
    {"2", "application/pdf", "r.pdf", 10, "attachment", ""});
  m.body = "text";
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  ASSERT_FALSE(sink(m));
  message copy;
  caf::binary_deserializer source{nullptr, buf};
  ASSERT_FALSE(source(copy));
  EXPECT_EQ(copy.summary.subject, "Grüße");
  EXPECT_EQ(copy.summary.from.at(0).address, "alice@example.test");
  EXPECT_EQ(copy.attachments.at(0).filename, "r.pdf");
  read_outcome out;
  out.uid = 3;
  out.error = caf::make_error(ec::no_such_message, "gone");
  EXPECT_NE(caf::deep_to_string(out).find("read_outcome"), std::string::npos);
  flag_change change;
  change.seen = flag_action::add;
  EXPECT_NE(caf::deep_to_string(change).find("flag_change"), std::string::npos);
}

// -- THREAD responses
// -------------------------------------------------------------

TEST(thread_groups, flattens_each_top_level_thread) {
  // RFC 5256's example: one thread with branches, then single messages.
  auto groups = parse_thread_groups(" (2)(3 6 (4 23)(44 7 96))(9 12)");
  ASSERT_TRUE(groups);
  ASSERT_EQ(groups->size(), 3u);
  EXPECT_EQ((*groups)[0], std::vector<uint32_t>{2});
  EXPECT_EQ((*groups)[1], (std::vector<uint32_t>{3, 6, 4, 23, 44, 7, 96}));
  EXPECT_EQ((*groups)[2], (std::vector<uint32_t>{9, 12}));
  // A thread whose root is missing starts with a nested list.
  auto rootless = parse_thread_groups("((1)(2 3))");
  ASSERT_TRUE(rootless);
  EXPECT_EQ(rootless->at(0), (std::vector<uint32_t>{1, 2, 3}));
  // An empty folder.
  auto empty = parse_thread_groups("");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(thread_groups, refuses_malformed_lists) {
  for (auto bad : {"(1 2", "1 2", "(1))", "(a)", "(0)", "(4294967296)", "(1)x"})
    EXPECT_FALSE(parse_thread_groups(bad)) << bad;
  EXPECT_TRUE(parse_thread_groups("(4294967295)"));
}

TEST(types, organizing_values_serialize) {
  bulk_request req;
  req.kind = bulk_kind::remove;
  req.folder = "Entwürfe";
  req.uids = {1, 2};
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  ASSERT_FALSE(sink(req));
  bulk_request copy;
  caf::binary_deserializer source{nullptr, buf};
  ASSERT_FALSE(source(copy));
  EXPECT_EQ(copy.kind, bulk_kind::remove);
  EXPECT_EQ(copy.folder, "Entwürfe");
  EXPECT_EQ(copy.uids, (std::vector<uint32_t>{1, 2}));
  bulk_result result;
  result.outcomes.push_back(
    {3, caf::make_error(ec::no_such_message, "gone"), 0, {}});
  EXPECT_NE(caf::deep_to_string(result).find("bulk_result"), std::string::npos);
  EXPECT_NE(caf::deep_to_string(folder_change{}).find("folder_change"),
            std::string::npos);
  EXPECT_NE(
    caf::deep_to_string(multi_search_result{}).find("multi_search_result"),
    std::string::npos);
}
