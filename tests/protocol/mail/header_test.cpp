// SPDX-License-Identifier: Apache-2.0
#include "postern/error.hpp"
#include "postern/mime/address.hpp"
#include "postern/mime/charset.hpp"
#include "postern/mime/header.hpp"
#include "postern/mime/transfer_encoding.hpp"

#include <gtest/gtest.h>

using namespace postern;
using namespace postern::mime;

// -- RFC 2047 -----------------------------------------------------------------

TEST(rfc2047, decodes_b_and_q_words) {
  EXPECT_EQ(decode_header("=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?="),
            "Grüße aus Köln");
  EXPECT_EQ(decode_header("=?iso-8859-1?q?caf=E9_cr=E8me?="), "café crème");
  EXPECT_EQ(decode_header("=?utf-8?Q?=E2=9C=93_done?="), "✓ done");
  EXPECT_EQ(decode_header("plain text"), "plain text");
  EXPECT_EQ(decode_header(""), "");
}

TEST(rfc2047, decodes_many_charsets) {
  EXPECT_EQ(decode_header("=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?="),
            "こんにちは");
  EXPECT_EQ(decode_header("=?koi8-r?Q?=F0=D2=C9=D7=C5=D4?="), "Привет");
  EXPECT_EQ(decode_header("=?shift_jis?B?grGC8YLJgr+CzQ==?="), "こんにちは");
  EXPECT_EQ(decode_header("=?gb2312?B?xOO6ww==?="), "你好");
  EXPECT_EQ(decode_header("=?windows-1252?Q?=93quoted=94?="), "“quoted”");
  // RFC 2231 section 5: a language after the charset.
  EXPECT_EQ(decode_header("=?utf-8*de?Q?Gr=C3=BC=C3=9Fe?="), "Grüße");
}

TEST(rfc2047, joins_adjacent_words_and_folded_lines) {
  // The space between two encoded words is dropped, also across a fold.
  EXPECT_EQ(decode_header("=?utf-8?q?Hello_?= =?utf-8?q?World?="),
            "Hello World");
  EXPECT_EQ(
    decode_header("=?utf-8?b?5pel5pys6Kqe?=\r\n =?utf-8?b?44Gu44OG44K544OI?="),
    "日本語のテスト");
  // A character split across two words (same charset) survives.
  EXPECT_EQ(decode_header("=?utf-8?q?caf=C3?= =?utf-8?q?=A9?="), "café");
  // Text between words stays, and so does the space around plain text.
  EXPECT_EQ(
    decode_header("Re: =?utf-8?q?caf=C3=A9?= and =?iso-8859-1?q?cr=E8me?="),
    "Re: café and crème");
  // Words in different charsets.
  EXPECT_EQ(decode_header("=?iso-8859-1?q?=E9?= =?koi8-r?q?=F0?="), "éП");
  EXPECT_EQ(decode_header("folded\r\n\tsubject"), "folded subject");
}

TEST(rfc2047, leaves_malformed_words_alone) {
  EXPECT_EQ(decode_header("=?utf-8?q?unterminated"), "=?utf-8?q?unterminated");
  EXPECT_EQ(decode_header("=?utf-8?x?bad_encoding?="),
            "=?utf-8?x?bad_encoding?=");
  EXPECT_EQ(decode_header("=??q?no_charset?="), "=??q?no_charset?=");
  EXPECT_EQ(decode_header("=?utf-8?b?not base64?="), "=?utf-8?b?not base64?=");
  EXPECT_EQ(decode_header("=?utf-8?b?!!!!?="), "=?utf-8?b?!!!!?=");
  // Invalid bytes inside a word become U+FFFD, never invalid UTF-8.
  auto broken = decode_header("=?utf-8?q?caf=E9?=");
  EXPECT_TRUE(is_valid_utf8(broken));
  EXPECT_EQ(broken, "caf\xEF\xBF\xBD");
  // An unknown charset falls back to a guess.
  EXPECT_EQ(decode_header("=?x-unknown?q?caf=C3=A9?="), "café");
}

TEST(rfc2047, handles_raw_8bit_headers) {
  EXPECT_EQ(decode_header("Gr\xC3\xBC\xC3\x9F"
                          "e"),
            "Grüße"); // UTF-8
  EXPECT_EQ(decode_header("Fran\xE7ois M\xFCller"),
            "François Müller"); // Latin-1
  // Control characters (other than the unfolded line breaks) become spaces.
  EXPECT_EQ(decode_header(std::string("a\0b\x07"
                                      "c",
                                      5)),
            "a b c");
}

TEST(rfc2047, encodes_for_headers) {
  EXPECT_EQ(encode_header("Hello world"), "Hello world");
  auto encoded = encode_header("Grüße aus Köln");
  EXPECT_EQ(encoded.rfind("=?UTF-8?B?", 0), 0u);
  EXPECT_EQ(decode_header(encoded), "Grüße aus Köln");
  // Long text: several words of at most 75 characters, folded, each a whole
  // number of characters.
  std::string long_text;
  for (int i = 0; i < 30; ++i)
    long_text += "日本語テキスト ";
  auto folded = encode_header(long_text);
  size_t pos = 0;
  while (pos < folded.size()) {
    auto end = folded.find("\r\n ", pos);
    auto line = folded.substr(pos, end == std::string::npos ? std::string::npos
                                                            : end - pos);
    EXPECT_LE(line.size(), 75u);
    pos = end == std::string::npos ? folded.size() : end + 3;
  }
  EXPECT_EQ(decode_header(folded), long_text);
  // Header injection is impossible.
  EXPECT_EQ(encode_header("a\r\nBcc: x@y"), "a  Bcc: x@y");
  // Text that merely looks encoded is encoded so it round-trips.
  EXPECT_EQ(decode_header(encode_header("=?utf-8?q?x?=")), "=?utf-8?q?x?=");
}

// -- RFC 2231 -----------------------------------------------------------------

TEST(rfc2231, decodes_extended_values) {
  std::vector<parameter> params{
    {"filename*", "UTF-8''r%C3%A9sum%C3%A9%201.csv"}};
  EXPECT_EQ(find_parameter(params, "filename"), "résumé 1.csv");
  params = {{"filename*", "iso-8859-1'de'Gr%FC%DFe%20aus%20K%F6ln.txt"}};
  EXPECT_EQ(find_parameter(params, "filename"), "Grüße aus Köln.txt");
  params = {{"FileName*", "utf-8''%E2%9C%93"}};
  EXPECT_EQ(find_parameter(params, "filename"), "✓");
}

TEST(rfc2231, joins_continuations) {
  std::vector<parameter> params{{"name*1*", "%E6%9B%B8%20"},
                                {"name*0*",
                                 "UTF-8''%E5%B9%B4%E6%AC%A1%E5%A0%B1%E5%91%8A"},
                                {"name*2", ".pdf"}};
  EXPECT_EQ(find_parameter(params, "name"), "年次報告書 .pdf");
  params = {{"filename*0", "a-very-long-file-name-that-was-split-"},
            {"filename*1", "into-two-continuations.bin"}};
  EXPECT_EQ(find_parameter(params, "filename"),
            "a-very-long-file-name-that-was-split-into-two-continuations.bin");
  // A gap ends the value (section 3).
  params = {{"x*0", "a"}, {"x*2", "c"}};
  EXPECT_EQ(find_parameter(params, "x"), "a");
}

TEST(rfc2231, prefers_extended_over_plain_and_decodes_2047_in_plain) {
  std::vector<parameter> params{{"filename", "fallback.txt"},
                                {"filename*", "utf-8''caf%C3%A9.txt"}};
  EXPECT_EQ(find_parameter(params, "filename"), "café.txt");
  params = {{"name", "=?UTF-8?B?5YaZ55yfLnBuZw==?="}};
  EXPECT_EQ(find_parameter(params, "name"), "写真.png");
  params = {{"name", "plain.txt"}};
  EXPECT_EQ(find_parameter(params, "name"), "plain.txt");
  EXPECT_EQ(find_parameter(params, "filename"), std::nullopt);
  // Not a continuation of "name": "names" is another parameter.
  params = {{"names", "x"}};
  EXPECT_EQ(find_parameter(params, "name"), std::nullopt);
  // Broken percent escapes and missing quotes degrade, never crash.
  params = {{"filename*", "utf-8''%ZZ%4"}};
  EXPECT_EQ(find_parameter(params, "filename"), "%ZZ%4");
  params = {{"filename*", "no-quotes%20here"}};
  EXPECT_EQ(find_parameter(params, "filename"), "no-quotes here");
  params = {{"filename*", "utf-8''caf%E9"}};
  EXPECT_TRUE(is_valid_utf8(*find_parameter(params, "filename")));
}

// -- transfer encodings
// ---------------------------------------------------------

TEST(transfer_encoding, base64) {
  EXPECT_EQ(decode_base64("R3LDvMOfZQ=="), "Grüße");
  EXPECT_EQ(decode_base64("R3LD\r\nvMOf\r\nZQ=="), "Grüße");
  EXPECT_EQ(decode_base64("R3LDvMOfZQ"), "Grüße"); // no padding
  EXPECT_EQ(decode_base64("R3LDvMO"), "Grü\xC3");  // cut mid-group
  EXPECT_EQ(encode_base64("Grüße"), "R3LDvMOfZQ==");
  EXPECT_EQ(encode_base64("ab"), "YWI=");
  EXPECT_EQ(encode_base64(""), "");
  auto wrapped = encode_base64(std::string(100, 'x'), 76);
  EXPECT_EQ(wrapped.find("\r\n"), 76u);
  EXPECT_EQ(decode_base64(wrapped), std::string(100, 'x'));
}

TEST(transfer_encoding, quoted_printable) {
  EXPECT_EQ(decode_quoted_printable("caf=C3=A9"), "café");
  EXPECT_EQ(decode_quoted_printable("soft=\r\nbreak"), "softbreak");
  EXPECT_EQ(decode_quoted_printable("soft=\nbreak"), "softbreak");
  EXPECT_EQ(decode_quoted_printable("trailing   \r\nspace"),
            "trailing\r\nspace");
  EXPECT_EQ(decode_quoted_printable("bad=ZZescape"), "bad=ZZescape");
  EXPECT_EQ(decode_quoted_printable("lower=c3=a9"), "loweré");
  EXPECT_EQ(decode_quoted_printable("cut=C"), "cut");
  auto text = std::string(200, 'a') + " é .dot\nline ";
  auto qp = encode_quoted_printable(text);
  for (size_t pos = 0, end; pos < qp.size(); pos = end + 2) {
    end = qp.find("\r\n", pos);
    if (end == std::string::npos)
      end = qp.size();
    EXPECT_LE(end - pos, 76u);
  }
  EXPECT_EQ(decode_quoted_printable(qp),
            std::string(200, 'a') + " é .dot\r\nline ");
  EXPECT_EQ(qp.find("=_"), std::string::npos);
  EXPECT_EQ(decode_transfer_encoding("YWI=", "BASE64"), "ab");
  EXPECT_EQ(decode_transfer_encoding("a=3Db", " quoted-printable "), "a=b");
  EXPECT_EQ(decode_transfer_encoding("raw", "8bit"), "raw");
}

// -- addresses
// -----------------------------------------------------------------

TEST(address, parses_lists_people_type) {
  auto list = parse_address_list(
    "Alice <alice@example.com>, bob@example.com, \"Smith, J.\" <j@x.org>");
  ASSERT_TRUE(list) << describe(list.error());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0], (address{"Alice", "alice@example.com"}));
  EXPECT_EQ((*list)[1], (address{"", "bob@example.com"}));
  EXPECT_EQ((*list)[2], (address{"Smith, J.", "j@x.org"}));
  auto encoded = parse_address_list("=?utf-8?q?Zo=C3=AB?= <zoe@example.com>");
  ASSERT_TRUE(encoded);
  EXPECT_EQ(encoded->at(0).name, "Zoë");
  auto group = parse_address_list("Team: a@x.org, b@x.org;");
  ASSERT_TRUE(group);
  EXPECT_EQ(group->size(), 2u);
}

TEST(address, rejects_what_cannot_be_sent) {
  for (auto bad : {"not an address", "a@", "@b.com", "a b@c.com", "a@b c.com",
                   "x@y.com\r\nRCPT TO:<evil@z>", "üser@example.com"}) {
    auto list = parse_address_list(bad);
    EXPECT_FALSE(list && !list->empty()) << bad;
  }
  EXPECT_TRUE(is_sendable_address("first.last+tag@sub.example.co.uk"));
  EXPECT_TRUE(is_sendable_address("x@[127.0.0.1]"));
  EXPECT_FALSE(is_sendable_address("x@[127.0.0.1"));
  EXPECT_FALSE(is_sendable_address("a..b@example.com"));
  EXPECT_FALSE(is_sendable_address("a@example..com"));
  EXPECT_FALSE(is_sendable_address("<a@example.com>"));
}

TEST(address, formats_for_headers) {
  EXPECT_EQ(format_address({"", "a@x.org"}), "a@x.org");
  EXPECT_EQ(format_address({"Alice Example", "a@x.org"}),
            "Alice Example <a@x.org>");
  EXPECT_EQ(format_address({"Smith, J.", "j@x.org"}),
            "\"Smith, J.\" <j@x.org>");
  EXPECT_EQ(format_address({"Say \"hi\"", "j@x.org"}),
            "\"Say \\\"hi\\\"\" <j@x.org>");
  auto encoded = format_address({"Zoë", "z@x.org"});
  EXPECT_EQ(encoded.rfind("=?UTF-8?B?", 0), 0u);
  auto back = parse_address_list(encoded);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->at(0), (address{"Zoë", "z@x.org"}));
}
