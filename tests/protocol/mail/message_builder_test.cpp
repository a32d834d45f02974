// SPDX-License-Identifier: Apache-2.0
#include "postern/error.hpp"
#include "postern/mime/charset.hpp"
#include "postern/mime/header.hpp"
#include "postern/mime/message_builder.hpp"
#include "postern/mime/transfer_encoding.hpp"

#include <gtest/gtest.h>
#include <libetpan/libetpan.h>

#include <map>
#include <memory>

using namespace postern;
using namespace postern::mime;

namespace {

struct mime_deleter {
  void operator()(mailmime* m) const noexcept {
    mailmime_free(m);
  }
};

using mime_ptr = std::unique_ptr<mailmime, mime_deleter>;

// Parses with libetpan (an independent parser) and collects what we check.
struct parsed {
  mime_ptr root;
  std::map<std::string, std::string> headers; // raw header values by name
  std::vector<std::pair<std::string, std::string>> texts; // type, decoded text
};

void collect_texts(mailmime* m, parsed& out) {
  if (m->mm_type == MAILMIME_MULTIPLE) {
    for (auto* it = clist_begin(m->mm_data.mm_multipart.mm_mp_list);
         it != nullptr; it = clist_next(it))
      collect_texts(static_cast<mailmime*>(clist_content(it)), out);
    return;
  }
  if (m->mm_type != MAILMIME_SINGLE || m->mm_data.mm_single == nullptr)
    return;
  mailmime_single_fields fields;
  mailmime_single_fields_init(&fields, m->mm_mime_fields, m->mm_content_type);
  auto* data = m->mm_data.mm_single;
  std::string raw{data->dt_data.dt_text.dt_data,
                  data->dt_data.dt_text.dt_length};
  std::string encoding = data->dt_encoding
                             == MAILMIME_MECHANISM_QUOTED_PRINTABLE
                           ? "quoted-printable"
                           : "7bit";
  std::string type = m->mm_content_type->ct_subtype;
  out.texts.emplace_back(type, to_utf8(decode_transfer_encoding(raw, encoding),
                                       fields.fld_content_charset
                                         ? fields.fld_content_charset
                                         : ""));
}

parsed parse(const std::string& data) {
  parsed result;
  size_t index = 0;
  mailmime* raw = nullptr;
  auto rc = mailmime_parse(data.data(), data.size(), &index, &raw);
  EXPECT_EQ(rc, MAILIMF_NO_ERROR);
  result.root.reset(raw);
  if (raw == nullptr)
    return result;
  auto* fields = raw->mm_data.mm_message.mm_fields;
  if (fields != nullptr)
    for (auto* it = clist_begin(fields->fld_list); it != nullptr;
         it = clist_next(it)) {
      auto* f = static_cast<mailimf_field*>(clist_content(it));
      if (f->fld_type == MAILIMF_FIELD_OPTIONAL_FIELD)
        result.headers[f->fld_data.fld_optional_field->fld_name]
          = f->fld_data.fld_optional_field->fld_value;
    }
  // Read the headers we care about straight from the text as well.
  auto end = data.find("\r\n\r\n");
  auto head = data.substr(0, end);
  size_t pos = 0;
  while (pos < head.size()) {
    auto next = head.find("\r\n", pos);
    while (next != std::string::npos && next + 2 < head.size()
           && (head[next + 2] == ' ' || head[next + 2] == '\t'))
      next = head.find("\r\n", next + 2);
    auto line = head.substr(pos, next == std::string::npos ? std::string::npos
                                                           : next - pos);
    auto colon = line.find(':');
    if (colon != std::string::npos)
      result.headers[line.substr(0, colon)] = line.substr(colon + 2);
    pos = next == std::string::npos ? head.size() : next + 2;
  }
  if (raw->mm_data.mm_message.mm_msg_mime != nullptr)
    collect_texts(raw->mm_data.mm_message.mm_msg_mime, result);
  return result;
}

outgoing_message sample() {
  outgoing_message msg;
  msg.from = {"Alice Example", "alice@example.test"};
  msg.to = {{"Bob", "bob@example.test"}, {"Zoë Ünicode", "zoe@example.test"}};
  msg.cc = {{"", "carol@example.test"}};
  msg.bcc = {{"Secret", "hidden@example.test"}};
  msg.subject = "Grüße – a long subject line with ünïcödé that needs several "
                "encoded words to stay within the line limits of RFC 5322";
  msg.text = "Hello Bob,\n\nnaïve café ☕\n.leading dot line\n"
             + std::string(200, 'x');
  return msg;
}

} // namespace

TEST(message_builder, builds_a_plain_message_libetpan_can_parse) {
  auto msg = sample();
  auto built = build_message(msg, 1700000000, "unique123");
  ASSERT_TRUE(built) << describe(built.error());
  const auto& data = built->data;
  // 7-bit, CRLF only, lines within 998 (we aim at 78).
  for (char c : data)
    ASSERT_LT(static_cast<unsigned char>(c), 0x80);
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '\n') {
      ASSERT_TRUE(i > 0 && data[i - 1] == '\r');
    }
  }
  EXPECT_EQ(built->message_id, "<unique123@example.test>");
  EXPECT_EQ(built->sender, "alice@example.test");
  EXPECT_EQ(built->recipients, (std::vector<std::string>{
                                 "bob@example.test", "zoe@example.test",
                                 "carol@example.test", "hidden@example.test"}));
  EXPECT_EQ(data.find("hidden@"), std::string::npos)
    << "Bcc must not be in the headers";
  auto p = parse(data);
  ASSERT_NE(p.root, nullptr);
  EXPECT_EQ(p.headers["Date"], "Tue, 14 Nov 2023 22:13:20 +0000");
  EXPECT_EQ(p.headers["Message-ID"], "<unique123@example.test>");
  EXPECT_EQ(decode_header(p.headers["Subject"]), msg.subject);
  EXPECT_EQ(p.headers["MIME-Version"], "1.0");
  auto to = parse_address_list(decode_header(p.headers["To"]));
  ASSERT_TRUE(to);
  EXPECT_EQ(*to, msg.to);
  ASSERT_EQ(p.texts.size(), 1u);
  EXPECT_EQ(p.texts[0].first, "plain");
  auto expected = msg.text;
  std::string crlf;
  for (char c : expected)
    crlf += c == '\n' ? std::string{"\r\n"} : std::string(1, c);
  EXPECT_EQ(p.texts[0].second, crlf + "\r\n");
}

TEST(message_builder, builds_an_html_alternative_and_reply_headers) {
  auto msg = sample();
  msg.text.clear();
  msg.html = "<p>Hello <b>Bob</b>, see <a href=\"https://x.org\">this</a></p>";
  msg.in_reply_to = "orig@example.test";
  msg.references = {"<root@example.test>", "<mid@example.test>"};
  auto built = build_message(msg, 1700000000, "u2");
  ASSERT_TRUE(built) << describe(built.error());
  auto p = parse(built->data);
  EXPECT_EQ(p.headers["In-Reply-To"], "<orig@example.test>");
  auto refs = p.headers["References"];
  EXPECT_NE(refs.find("<root@example.test>"), std::string::npos);
  EXPECT_LT(refs.find("<mid@example.test>"), refs.find("<orig@example.test>"));
  ASSERT_EQ(p.texts.size(), 2u);
  EXPECT_EQ(p.texts[0].first, "plain");
  EXPECT_EQ(p.texts[0].second, "Hello Bob, see this (https://x.org)");
  EXPECT_EQ(p.texts[1].first, "html");
  EXPECT_EQ(p.texts[1].second, msg.html);
}

TEST(message_builder, references_chain_is_built_and_bounded) {
  auto msg = sample();
  msg.in_reply_to = "<parent@x>";
  auto built = build_message(msg, 0, "u3");
  ASSERT_TRUE(built);
  EXPECT_NE(built->data.find("References: <parent@x>\r\n"), std::string::npos);
  for (int i = 0; i < 40; ++i)
    msg.references.push_back("<r" + std::to_string(i) + "@x>");
  built = build_message(msg, 0, "u4");
  ASSERT_TRUE(built);
  auto p = parse(built->data);
  auto refs = p.headers["References"];
  EXPECT_NE(refs.find("<r0@x>"), std::string::npos); // the root stays
  EXPECT_EQ(refs.find("<r1@x>"), std::string::npos); // the middle goes
  EXPECT_NE(refs.find("<r39@x>"), std::string::npos);
  EXPECT_NE(refs.find("<parent@x>"), std::string::npos);
}

TEST(message_builder, rejects_bad_input) {
  auto msg = sample();
  msg.to.clear();
  msg.cc.clear();
  msg.bcc.clear();
  auto built = build_message(msg);
  ASSERT_FALSE(built);
  EXPECT_EQ(built.error(), ec::invalid_argument);
  msg = sample();
  msg.to.push_back({"", "not-an-address"});
  EXPECT_FALSE(build_message(msg));
  msg = sample();
  msg.from.address = "alice@example.test\r\nBcc: x@y";
  EXPECT_FALSE(build_message(msg));
  msg = sample();
  msg.in_reply_to = "<a b@c>";
  EXPECT_FALSE(build_message(msg));
  msg = sample();
  msg.references = {"<x@y>\r\nBcc: z@z"};
  EXPECT_FALSE(build_message(msg));
}

TEST(message_builder, random_ids_differ) {
  auto a = build_message(sample());
  auto b = build_message(sample());
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->message_id, b->message_id);
  EXPECT_EQ(normalize_message_id(" abc@def "), "<abc@def>");
  EXPECT_EQ(normalize_message_id("<no-at>"), "");
  EXPECT_EQ(format_rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
}
