// SPDX-License-Identifier: Apache-2.0
// postern:// URIs of messages and parts: what the tools write parses back
// to the same place, and every malformed URI is refused with a sentence.

#include "mcp_tools_support.hpp"
#include "postern/mcp/resources.hpp"
#include "postern/mcp/tools.hpp"
#include "postern/text.hpp"

#include <gtest/gtest.h>

using namespace postern;
using namespace postern::mcp;
using namespace postern::mcp::test;

namespace {

constexpr std::string_view account = "0f4c2a9e-1b7d-4e55-9a3c-5d2e8f6b7a10";

mail_resource place(std::string folder, uint32_t uid, std::string part = {}) {
  return mail_resource{std::string{account}, std::move(folder), uid,
                       std::move(part)};
}

std::string refusal(std::string_view uri) {
  std::string why;
  auto r = parse_mail_resource(uri, why);
  EXPECT_FALSE(r) << uri;
  return why;
}

} // namespace

TEST(mcp_resources, a_uri_names_the_same_place_after_a_roundtrip) {
  for (auto& r : {place("INBOX", 1), place("INBOX", 4294967295u, "2"),
                  place("Archive/2026/Rechnungen für März", 12, "1.2.3"),
                  place("100% & more?#", 7), place("~.-_", 9, "10")}) {
    auto uri = to_uri(r);
    std::string why;
    auto back = parse_mail_resource(uri, why);
    ASSERT_TRUE(back) << uri << ": " << why;
    EXPECT_EQ(back->account, r.account);
    EXPECT_EQ(back->folder, r.folder);
    EXPECT_EQ(back->uid, r.uid);
    EXPECT_EQ(back->part_id, r.part_id);
  }
  // The folder is one segment: its "/" are escaped.
  EXPECT_EQ(to_uri(place("A/B c", 5, "2")),
            "postern://accounts/" + std::string{account}
              + "/folders/A%2FB%20c/messages/5/parts/2");
}

TEST(mcp_resources, malformed_uris_are_refused_with_a_sentence) {
  auto base = "postern://accounts/" + std::string{account};
  for (auto uri : std::vector<std::string>{
         "",
         "https://example.org/x",
         "POSTERN://accounts/a/folders/INBOX/messages/1",
         "postern://accounts/",
         base,
         base + "/folders/INBOX",
         base + "/folders/INBOX/messages",
         base + "/folders/INBOX/messages/",
         base + "/folders/INBOX/messages/1/",
         base + "/folders/INBOX/messages/1/parts",
         base + "/folders/INBOX/messages/1/parts/",
         base + "/folders/INBOX/messages/1/parts/2/x",
         base + "/folder/INBOX/messages/1",
         base + "/folders/INBOX/message/1",
         base + "/folders/INBOX/messages/1/part/2",
         base + "/folders//messages/1",
         base + "/folders/IN%ZZBOX/messages/1",
         base + "/folders/INBOX%2/messages/1",
         base + "/folders/INBOX%/messages/1",
         base + "/folders/IN BOX/messages/1",
         base + "/folders/IN+BOX/messages/1",
         base + "/folders/%FF%FE/messages/1",
         base + "/folders/A%0AB/messages/1",
         base + "/folders/A%00B/messages/1",
         base + "/folders/INBOX/messages/0",
         base + "/folders/INBOX/messages/007",
         base + "/folders/INBOX/messages/-1",
         base + "/folders/INBOX/messages/4294967296",
         base + "/folders/INBOX/messages/1e3",
         base + "/folders/INBOX/messages/1/parts/.2",
         base + "/folders/INBOX/messages/1/parts/2.",
         base + "/folders/INBOX/messages/1/parts/1..2",
         base + "/folders/INBOX/messages/1/parts/TEXT",
         base + "/folders/INBOX/messages/1?x=1",
         base + "/folders/INBOX/messages/1#top",
         "postern://accounts/../folders/INBOX/messages/1",
         "postern://accounts/a%2Fb/folders/INBOX/messages/1",
         "postern://accounts/" + std::string(65, 'a')
           + "/folders/INBOX/messages/1",
         base + "/folders/" + std::string(4000, 'a') + "/messages/1",
       }) {
    auto why = refusal(uri);
    EXPECT_EQ(why.rfind("The URI is not a Postern resource: ", 0), 0u)
      << uri << " -> " << why;
    EXPECT_NE(why.find("postern://accounts/<id>/folders/"), std::string::npos)
      << why;
  }
  EXPECT_NE(refusal(base + "/folders/IN%ZZBOX/messages/1").find("percent"),
            std::string::npos);
  EXPECT_NE(refusal(base + "/folders/INBOX/messages/0").find("UID"),
            std::string::npos);
}

TEST(mcp_resources, strict_percent_decoding) {
  EXPECT_EQ(percent_decode_strict("a%2Fb%c3%a9", "ab"), "a/b\xc3\xa9");
  EXPECT_FALSE(percent_decode_strict("a%2", "a"));
  EXPECT_FALSE(percent_decode_strict("%g0", "g"));
  EXPECT_FALSE(percent_decode_strict("a b", "ab"));
  EXPECT_EQ(percent_encode("a/b c~"), "a%2Fb%20c~");
  EXPECT_EQ(hex_digit('F'), 15);
  EXPECT_EQ(hex_digit('g'), -1);
}

TEST(mcp_resources, read_message_names_each_message_and_attachment) {
  imap::read_outcome ok;
  ok.uid = 3;
  ok.msg.summary = summary(3);
  ok.msg.body = "Hello";
  ok.msg.body_length = 5;
  ok.msg.body_format = "text/plain";
  ok.msg.attachments.push_back(
    {"2", "application/pdf", "a.pdf", 10, "attachment", ""});
  auto single = encode_read({ok}, false, account, "Work/Invoices");
  expect_conforms("read_message", single);
  auto doc = parse(single);
  EXPECT_EQ(std::string{doc["uri"].GetString()},
            to_uri(place("Work/Invoices", 3)));
  EXPECT_EQ(std::string{doc["attachments"][0]["uri"].GetString()},
            to_uri(place("Work/Invoices", 3, "2")));
  auto several = parse(encode_read({ok}, true, account, "INBOX"));
  EXPECT_EQ(std::string{several["messages"][0]["uri"].GetString()},
            to_uri(place("INBOX", 3)));
  // Without an account (the encoder alone) nothing is named.
  EXPECT_FALSE(parse(encode_read({ok}, false)).HasMember("uri"));
}

TEST(mcp_resources, get_attachment_names_its_part) {
  auto file = part(8, "1.2", "application/pdf", mime::attachment_kind::file,
                   "%PDF");
  file.filename = "x.pdf";
  auto doc = parse(attachment_result("Archive", file, account));
  auto uri = to_uri(place("Archive", 8, "1.2"));
  EXPECT_EQ(std::string{doc["structuredContent"]["uri"].GetString()}, uri);
  EXPECT_EQ(std::string{doc["content"][1]["resource"]["uri"].GetString()},
            uri);
  expect_conforms("get_attachment",
                  encode_attachment("Archive", file, account));
}

TEST(mcp_resources, contents_carry_text_as_text_and_bytes_as_base64) {
  auto uri = to_uri(place("INBOX", 8, "2"));
  auto text = parse(part_contents(
    uri, part(8, "2", "text/plain", mime::attachment_kind::text, "Grüße")));
  ASSERT_EQ(text["contents"].Size(), 1u);
  EXPECT_EQ(std::string{text["contents"][0]["uri"].GetString()}, uri);
  EXPECT_STREQ(text["contents"][0]["mimeType"].GetString(), "text/plain");
  EXPECT_STREQ(text["contents"][0]["text"].GetString(), "Grüße");
  EXPECT_FALSE(text["contents"][0].HasMember("blob"));
  for (auto kind : {mime::attachment_kind::image, mime::attachment_kind::file}) {
    auto bytes = parse(part_contents(
      uri, part(8, "2", "image/png", kind, std::string("\x89PNG", 4))));
    EXPECT_STREQ(bytes["contents"][0]["blob"].GetString(), "iVBORw==");
    EXPECT_STREQ(bytes["contents"][0]["mimeType"].GetString(), "image/png");
    EXPECT_FALSE(bytes["contents"][0].HasMember("text"));
  }
  auto message = parse(message_contents(to_uri(place("INBOX", 8)),
                                        R"({"uid":8,"subject":"Hi"})"));
  EXPECT_STREQ(message["contents"][0]["mimeType"].GetString(),
               "application/json");
  EXPECT_EQ(parse(message["contents"][0]["text"].GetString())["uid"].GetInt(),
            8);
}
