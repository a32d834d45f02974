// SPDX-License-Identifier: Apache-2.0
// Random bytes through every decoder that sees outside input: no crash (ASan
// and UBSan run in CI), and the result is always valid UTF-8.

#include "postern/imap/mailbox_name.hpp"
#include "postern/imap/query.hpp"
#include "postern/mime/address.hpp"
#include "postern/mime/charset.hpp"
#include "postern/mime/header.hpp"
#include "postern/mime/html.hpp"
#include "postern/mime/structure.hpp"
#include "postern/mime/transfer_encoding.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace postern;

namespace {

// Random strings biased towards the characters the decoders care about.
std::string random_input(std::mt19937& rng) {
  static constexpr std::string_view specials[] = {
    "=?",        "?=",          "?B?",    "?q?",      "=C3",  "=",     "_",
    "&",         "-",           "<a ",    "</",       ">",    "\"",    "'",
    "&#x",       ";",           "\r\n",   " ",        "%",    "*0*",   "''",
    "<",         "@",           "\xC3",   "\xE2\x82", "\xFF", "utf-8", "koi8-r",
    "shift_jis", "iso-2022-jp", "\x1B$B", "<br>",     "<p>"};
  std::uniform_int_distribution<int> len{0, 60};
  std::uniform_int_distribution<int> pick{0, 3};
  std::uniform_int_distribution<size_t> special{0, std::size(specials) - 1};
  std::uniform_int_distribution<int> byte{0, 255};
  std::string result;
  for (int n = len(rng); n > 0; --n) {
    if (pick(rng) == 0)
      result += specials[special(rng)];
    else
      result += static_cast<char>(byte(rng));
  }
  return result;
}

} // namespace

TEST(robustness, decoders_survive_random_input) {
  std::mt19937 rng{20261126};
  for (int i = 0; i < 3000; ++i) {
    auto input = random_input(rng);
    auto charset = random_input(rng).substr(0, 12);
    EXPECT_TRUE(mime::is_valid_utf8(mime::to_valid_utf8(input)));
    EXPECT_TRUE(mime::is_valid_utf8(mime::to_utf8(input, charset)));
    EXPECT_TRUE(mime::is_valid_utf8(mime::to_utf8(input, "iso-2022-jp")));
    EXPECT_TRUE(mime::is_valid_utf8(mime::decode_header(input)));
    EXPECT_TRUE(mime::is_valid_utf8(mime::html_to_text(input)));
    auto encoded = mime::encode_header(mime::to_valid_utf8(input));
    EXPECT_TRUE(mime::is_valid_utf8(encoded));
    std::vector<mime::parameter> params{
      {"filename*0*", input}, {"filename*1", charset}, {"name", input}};
    EXPECT_TRUE(mime::is_valid_utf8(*mime::find_parameter(params, "filename")));
    EXPECT_TRUE(mime::is_valid_utf8(*mime::find_parameter(params, "name")));
    mime::decode_base64(input);
    mime::decode_quoted_printable(input);
    EXPECT_EQ(mime::decode_quoted_printable(
                mime::encode_quoted_printable(mime::to_valid_utf8(input)))
                  .size()
                > 0,
              !input.empty());
    EXPECT_TRUE(mime::is_valid_utf8(imap::display_mailbox_name(input)));
    auto valid = mime::to_valid_utf8(input);
    EXPECT_EQ(imap::decode_mailbox_name(imap::encode_mailbox_name(valid)),
              valid);
    imap::decode_cursor("INBOX", input);
    imap::parse_date(input, "since");
    EXPECT_TRUE(mime::is_valid_utf8(imap::rfc5322_date_to_iso8601(input)));
    auto list = mime::parse_address_list(input);
    if (list)
      for (auto& a : *list) {
        EXPECT_TRUE(mime::is_valid_utf8(a.name));
        EXPECT_TRUE(mime::is_sendable_address(a.address));
      }
    mime::text_step step;
    step.section = "1";
    step.encoding = i % 2 ? "base64" : "quoted-printable";
    step.charset = charset;
    step.html = i % 3 == 0;
    step.flowed = i % 5 == 0;
    EXPECT_TRUE(mime::is_valid_utf8(mime::decode_text(input, step)));
  }
}
