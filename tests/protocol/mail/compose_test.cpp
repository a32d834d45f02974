// SPDX-License-Identifier: Apache-2.0
// Replies, forwards and attachments: recipient derivation, subjects,
// threading headers, quoting, and the MIME of attached files (checked with
// libetpan's parser, an independent implementation).
#include "postern/error.hpp"
#include "postern/mime/attachment.hpp"
#include "postern/mime/compose.hpp"
#include "postern/mime/header.hpp"
#include "postern/mime/message_builder.hpp"
#include "postern/mime/transfer_encoding.hpp"

#include <gtest/gtest.h>
#include <libetpan/libetpan.h>

#include <memory>
#include <string>
#include <vector>

using namespace postern::mime;

namespace {

address addr(std::string name, std::string a) {
  return address{std::move(name), std::move(a)};
}

std::vector<std::string> addresses_of(const std::vector<address>& list) {
  std::vector<std::string> out;
  for (auto& a : list)
    out.push_back(a.address);
  return out;
}

original_message question() {
  original_message m;
  m.from = {addr("Frank", "frank@example.test")};
  m.to = {addr("Erin", "erin@example.test"), addr("", "bob@example.test")};
  m.cc = {addr("Grace", "grace@example.test"), addr("", "ERIN@example.test")};
  m.subject = "Lunch on Friday?";
  m.date = "2026-11-20T12:30:00Z";
  m.message_id = "<q1@example.test>";
  m.references = {"<r0@example.test>", "<r1@example.test>"};
  m.text = "Shall we meet at noon?\n> earlier words\n\nFrank";
  return m;
}

/// The value of header `name` in `data` (unfolded), or empty.
std::string header(const std::string& data, const std::string& name) {
  auto head = data.substr(0, data.find("\r\n\r\n") + 2);
  auto pos = head.find("\r\n" + name + ": ");
  if (head.compare(0, name.size() + 2, name + ": ") == 0)
    pos = 0;
  else if (pos == std::string::npos)
    return {};
  else
    pos += 2;
  pos += name.size() + 2;
  std::string value;
  for (;;) {
    auto end = head.find("\r\n", pos);
    value += head.substr(pos, end - pos);
    if (end + 2 < head.size()
        && (head[end + 2] == ' ' || head[end + 2] == '\t'))
      pos = end + 2;
    else
      break;
  }
  return value;
}

struct mime_deleter {
  void operator()(mailmime* m) const noexcept {
    mailmime_free(m);
  }
};

/// The leaf parts of a message as libetpan parses them: content type,
/// decoded bytes, and the file name parameter.
struct leaf {
  std::string type;
  std::string data;
  std::string filename;
};

void collect(mailmime* m, std::vector<leaf>& out) {
  if (m->mm_type == MAILMIME_MESSAGE) {
    if (m->mm_data.mm_message.mm_msg_mime != nullptr)
      collect(m->mm_data.mm_message.mm_msg_mime, out);
    return;
  }
  if (m->mm_type == MAILMIME_MULTIPLE) {
    for (auto* it = clist_begin(m->mm_data.mm_multipart.mm_mp_list);
         it != nullptr; it = clist_next(it))
      collect(static_cast<mailmime*>(clist_content(it)), out);
    return;
  }
  if (m->mm_type != MAILMIME_SINGLE || m->mm_data.mm_single == nullptr)
    return;
  auto* data = m->mm_data.mm_single;
  std::string raw{data->dt_data.dt_text.dt_data,
                  data->dt_data.dt_text.dt_length};
  leaf l;
  auto* ct = m->mm_content_type;
  l.type = std::string{ct->ct_type->tp_type == MAILMIME_TYPE_DISCRETE_TYPE
                           && ct->ct_type->tp_data.tp_discrete_type->dt_type
                                == MAILMIME_DISCRETE_TYPE_IMAGE
                         ? "image"
                         : "other"}
           + "/" + ct->ct_subtype;
  l.data = decode_transfer_encoding(
    raw, data->dt_encoding == MAILMIME_MECHANISM_BASE64 ? "base64"
         : data->dt_encoding == MAILMIME_MECHANISM_QUOTED_PRINTABLE
           ? "quoted-printable"
           : "7bit");
  mailmime_single_fields fields;
  mailmime_single_fields_init(&fields, m->mm_mime_fields, m->mm_content_type);
  if (fields.fld_disposition_filename)
    l.filename = fields.fld_disposition_filename;
  out.push_back(std::move(l));
}

/// A message from erin to frank, to build.
outgoing_message erin_to_frank(std::string subject, std::string text) {
  outgoing_message msg;
  msg.from = addr("", "erin@example.test");
  msg.to = {addr("", "frank@example.test")};
  msg.subject = std::move(subject);
  msg.text = std::move(text);
  return msg;
}

std::vector<leaf> leaves(const std::string& data) {
  size_t index = 0;
  mailmime* raw = nullptr;
  EXPECT_EQ(mailmime_parse(data.data(), data.size(), &index, &raw),
            MAILIMF_NO_ERROR);
  std::unique_ptr<mailmime, mime_deleter> root{raw};
  std::vector<leaf> out;
  if (root)
    collect(root.get(), out);
  return out;
}

} // namespace

// -- subjects
// -------------------------------------------------------------------

TEST(compose, reply_subject_gets_re_exactly_once) {
  EXPECT_EQ(reply_subject("Lunch"), "Re: Lunch");
  EXPECT_EQ(reply_subject("Re: Lunch"), "Re: Lunch");
  EXPECT_EQ(reply_subject("RE: Lunch"), "RE: Lunch");
  EXPECT_EQ(reply_subject("re:Lunch"), "re:Lunch");
  EXPECT_EQ(reply_subject("Re[2]: Lunch"), "Re[2]: Lunch");
  EXPECT_EQ(reply_subject("AW: Vertrag"), "AW: Vertrag");
  EXPECT_EQ(reply_subject("  Lunch"), "Re: Lunch");
  EXPECT_EQ(reply_subject(""), "Re:");
  // Words that merely start like a prefix are not one.
  EXPECT_EQ(reply_subject("Report: Q3"), "Re: Report: Q3");
  EXPECT_EQ(reply_subject("Fwd: Lunch"), "Re: Fwd: Lunch");
  EXPECT_EQ(reply_subject(reply_subject("Lunch")), "Re: Lunch");
}

TEST(compose, forward_subject_gets_fwd_exactly_once) {
  EXPECT_EQ(forward_subject("Agenda"), "Fwd: Agenda");
  EXPECT_EQ(forward_subject("Fwd: Agenda"), "Fwd: Agenda");
  EXPECT_EQ(forward_subject("FW: Agenda"), "FW: Agenda");
  EXPECT_EQ(forward_subject("Re: Agenda"), "Fwd: Re: Agenda");
  EXPECT_EQ(forward_subject(""), "Fwd:");
}

// -- recipients
// -------------------------------------------------------------------

TEST(compose, reply_goes_to_the_sender_only) {
  std::vector<address> to, cc;
  derive_reply_recipients(question(), false, {"erin@example.test"}, to, cc);
  EXPECT_EQ(addresses_of(to), std::vector<std::string>{"frank@example.test"});
  EXPECT_TRUE(cc.empty());
}

TEST(compose, reply_prefers_reply_to) {
  auto m = question();
  m.reply_to = {addr("List", "list@example.test")};
  std::vector<address> to, cc;
  derive_reply_recipients(m, false, {"erin@example.test"}, to, cc);
  EXPECT_EQ(addresses_of(to), std::vector<std::string>{"list@example.test"});
}

TEST(compose, reply_all_adds_to_and_cc_without_own_address_or_duplicates) {
  auto m = question();
  m.cc.push_back(addr("", "Frank@Example.test")); // the sender again
  std::vector<address> to, cc;
  derive_reply_recipients(m, true, {"Erin@example.test"}, to, cc);
  EXPECT_EQ(addresses_of(to), std::vector<std::string>{"frank@example.test"});
  EXPECT_EQ(addresses_of(cc), (std::vector<std::string>{"bob@example.test",
                                                        "grace@example.test"}));
}

TEST(compose, reply_to_own_message_goes_to_its_recipients) {
  original_message m;
  m.from = {addr("Erin", "erin@example.test")};
  m.to = {addr("", "frank@example.test")};
  std::vector<address> to, cc;
  derive_reply_recipients(m, false, {"erin@example.test"}, to, cc);
  EXPECT_EQ(addresses_of(to), std::vector<std::string>{"frank@example.test"});
}

TEST(compose, none_of_the_own_addresses_is_answered) {
  auto m = question(); // from frank, to erin, cc bob and grace
  m.to.push_back(addr("", "Erin+Sales@example.test"));
  m.cc.push_back(addr("", "billing@example.test"));
  std::vector<std::string> own{"erin@example.test", "erin+sales@example.test",
                               "billing@example.test"};
  std::vector<address> to, cc;
  derive_reply_recipients(m, true, own, to, cc);
  EXPECT_EQ(addresses_of(to), std::vector<std::string>{"frank@example.test"});
  EXPECT_EQ(addresses_of(cc), (std::vector<std::string>{"bob@example.test",
                                                        "grace@example.test"}));
  // A message sent from an alias (found in Sent) is one's own too.
  original_message mine;
  mine.from = {addr("", "BILLING@example.test")};
  mine.to = {addr("", "frank@example.test")};
  to.clear();
  cc.clear();
  derive_reply_recipients(mine, false, own, to, cc);
  EXPECT_EQ(addresses_of(to), std::vector<std::string>{"frank@example.test"});
}

TEST(compose, the_reply_is_from_the_address_the_original_was_sent_to) {
  std::vector<std::string> own{"erin@example.test", "erin+sales@example.test",
                               "billing@example.test"};
  original_message m;
  m.from = {addr("", "frank@example.test")};
  m.to = {addr("", "dave@example.test"), addr("", "ERIN+sales@example.test")};
  m.cc = {addr("", "erin@example.test")};
  // To before Cc; spelled as the account stores it.
  EXPECT_EQ(addressed_to(m, own), "erin+sales@example.test");
  m.to = {addr("", "dave@example.test")};
  EXPECT_EQ(addressed_to(m, own), "erin@example.test");
  m.cc = {addr("", "billing@example.test")};
  EXPECT_EQ(addressed_to(m, own), "billing@example.test");
  // Bcc'd or sent to a list: none of them.
  m.cc.clear();
  EXPECT_EQ(addressed_to(m, own), "");
  EXPECT_EQ(addressed_to(m, {}), "");
}

// -- replies
// --------------------------------------------------------------------------

TEST(compose, reply_threads_and_quotes) {
  compose_request req;
  req.kind = compose_kind::reply;
  req.message.text = "Yes, noon works.";
  auto msg = compose_reply(question(), req, {"erin@example.test"});
  EXPECT_EQ(msg.subject, "Re: Lunch on Friday?");
  EXPECT_EQ(msg.in_reply_to, "<q1@example.test>");
  EXPECT_EQ(msg.text,
            "Yes, noon works.\n\n"
            "On 2026-11-20 12:30 UTC, Frank <frank@example.test> wrote:\n"
            "> Shall we meet at noon?\n"
            ">> earlier words\n"
            ">\n"
            "> Frank\n");
  msg.from = addr("Erin", "erin@example.test");
  auto built = build_message(msg, 0, "u1");
  ASSERT_TRUE(built) << postern::render(built.error());
  // References = the parent's References + the parent's Message-ID.
  EXPECT_EQ(header(built->data, "References"),
            "<r0@example.test> <r1@example.test> <q1@example.test>");
  EXPECT_EQ(header(built->data, "In-Reply-To"), "<q1@example.test>");
  EXPECT_EQ(header(built->data, "Subject"), "Re: Lunch on Friday?");
  EXPECT_EQ(built->recipients, std::vector<std::string>{"frank@example.test"});
}

TEST(compose, reply_without_quote_and_with_own_subject_and_extra_cc) {
  compose_request req;
  req.kind = compose_kind::reply;
  req.quote = false;
  req.reply_all = true;
  req.message.text = "Noted.";
  req.message.subject = "Re: Lunch (moved)";
  req.message.cc = {addr("", "dave@example.test"),
                    addr("", "bob@example.test")};
  auto msg = compose_reply(question(), req, {"erin@example.test"});
  EXPECT_EQ(msg.text, "Noted.");
  EXPECT_EQ(msg.subject, "Re: Lunch (moved)");
  EXPECT_EQ(addresses_of(msg.cc),
            (std::vector<std::string>{"bob@example.test", "grace@example.test",
                                      "dave@example.test"}));
}

TEST(compose, reply_to_message_without_id_has_no_in_reply_to) {
  auto m = question();
  m.message_id.clear();
  m.references.clear();
  compose_request req;
  auto msg = compose_reply(m, req, {"erin@example.test"});
  msg.from = addr("", "erin@example.test");
  auto built = build_message(msg, 0, "u2");
  ASSERT_TRUE(built);
  EXPECT_EQ(header(built->data, "In-Reply-To"), "");
  EXPECT_EQ(header(built->data, "References"), "");
}

// -- forwards
// --------------------------------------------------------------------------

TEST(compose, forward_keeps_attachments_and_adds_heading) {
  auto m = question();
  m.attachments = {file_attachment("agenda.txt", "text/plain", "1. food\n")};
  compose_request req;
  req.kind = compose_kind::forward;
  req.message.to = {addr("", "grace@example.test")};
  req.message.text = "FYI";
  req.message.attachments
    = {file_attachment("extra.bin", "application/octet-stream",
                       std::string("\0\1\2", 3))};
  auto msg = compose_forward(m, req);
  EXPECT_EQ(msg.subject, "Fwd: Lunch on Friday?");
  EXPECT_TRUE(msg.in_reply_to.empty());
  ASSERT_EQ(msg.attachments.size(), 2u);
  EXPECT_EQ(msg.attachments[0].filename, "agenda.txt");
  EXPECT_EQ(msg.attachments[1].filename, "extra.bin");
  EXPECT_EQ(msg.text.rfind("FYI\n\n---------- Forwarded message ----------\n"
                           "From: Frank <frank@example.test>\n"
                           "Date: 2026-11-20 12:30 UTC\n"
                           "Subject: Lunch on Friday?\n",
                           0),
            0u);
  EXPECT_NE(msg.text.find("Shall we meet at noon?"), std::string::npos);
}

// -- attachments in built messages
// -------------------------------------------------------

TEST(compose, attachments_become_base64_parts_of_multipart_mixed) {
  auto msg = erin_to_frank("Files", "See attached.");
  std::string binary;
  for (int i = 0; i < 1000; ++i)
    binary += static_cast<char>(i % 256);
  msg.attachments = {file_attachment("photo.png", "image/png", binary),
                     file_attachment("résumé.txt", "text/plain", "Grüße\n")};
  auto built = build_message(msg, 0, "u3");
  ASSERT_TRUE(built) << postern::render(built.error());
  EXPECT_NE(
    built->data.find(
      "Content-Type: multipart/mixed;\r\n boundary=\"=_postern_mixed_u3\""),
    std::string::npos);
  // 7-bit lines of at most 78 characters.
  for (char c : built->data)
    ASSERT_LT(static_cast<unsigned char>(c), 0x80);
  size_t start = 0;
  while (start < built->data.size()) {
    auto end = built->data.find("\r\n", start);
    ASSERT_NE(end, std::string::npos);
    ASSERT_LE(end - start, 78u) << built->data.substr(start, end - start);
    start = end + 2;
  }
  auto parts = leaves(built->data);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].data, "See attached.");
  EXPECT_EQ(parts[1].type, "image/png");
  EXPECT_EQ(parts[1].filename, "photo.png");
  EXPECT_EQ(parts[1].data, binary);
  EXPECT_EQ(parts[2].data, "Grüße\n");
  // The non-ASCII name goes as RFC 2231 (and RFC 2047 in name=).
  EXPECT_NE(built->data.find("filename*=utf-8''r%C3%A9sum%C3%A9.txt"),
            std::string::npos);
  EXPECT_EQ(find_parameter({{"filename*", "utf-8''r%C3%A9sum%C3%A9.txt"}},
                           "filename"),
            "résumé.txt");
}

TEST(compose, a_passed_on_text_file_keeps_its_charset_and_a_bad_one_is_left_out) {
  auto msg = erin_to_frank("Notes", "x");
  auto latin = file_attachment("notes.txt", "text/plain", "Gr\xfc\xdf" "e\n");
  latin.charset = "ISO-8859-1";
  auto hostile = file_attachment("b.txt", "text/plain", "x");
  hostile.charset = "x\r\nBcc: eve@example.test";
  msg.attachments = {latin, hostile};
  auto built = build_message(msg, 0, "u4");
  ASSERT_TRUE(built) << postern::render(built.error());
  EXPECT_NE(built->data.find("Content-Type: text/plain; charset=ISO-8859-1;\r\n"
                             " name=\"notes.txt\""),
            std::string::npos);
  EXPECT_EQ(built->data.find("eve@example.test"), std::string::npos);
  auto parts = leaves(built->data);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[1].data, "Gr\xfc\xdf" "e\n");
}

TEST(compose, attachment_with_html_body_nests_the_alternative) {
  auto msg = erin_to_frank("", "");
  msg.html = "<p>Hello <b>there</b></p>";
  msg.attachments = {file_attachment("a.csv", "text/csv", "x,y\n1,2\n")};
  auto built = build_message(msg, 0, "u4");
  ASSERT_TRUE(built);
  auto parts = leaves(built->data);
  ASSERT_EQ(parts.size(), 3u); // text, html, csv
  EXPECT_EQ(parts[2].data, "x,y\n1,2\n");
  EXPECT_NE(built->data.find("multipart/alternative"), std::string::npos);
}

TEST(compose, bad_attachment_names_and_types_are_refused) {
  auto msg = erin_to_frank("", "");
  msg.attachments = {file_attachment("../etc/passwd", "text/plain", "x")};
  auto built = build_message(msg, 0, "u5");
  ASSERT_FALSE(built);
  EXPECT_EQ(built.error(), postern::ec::invalid_argument);
  msg.attachments = {file_attachment("ok.txt", "text/plain; charset=utf-8", "x")};
  EXPECT_FALSE(build_message(msg, 0, "u5"));
}

TEST(compose, drafts_may_lack_recipients) {
  outgoing_message msg;
  msg.from = addr("", "erin@example.test");
  msg.subject = "Thoughts";
  EXPECT_FALSE(build_message(msg, 0, "u6"));
  auto draft = build_draft(msg, 0, "u6");
  ASSERT_TRUE(draft);
  EXPECT_TRUE(draft->recipients.empty());
  EXPECT_EQ(header(draft->data, "To"), "");
}

TEST(compose, attachment_filenames) {
  EXPECT_TRUE(is_valid_attachment_filename("report.pdf"));
  EXPECT_TRUE(is_valid_attachment_filename("Grüße 2026.txt"));
  EXPECT_FALSE(is_valid_attachment_filename(""));
  EXPECT_FALSE(is_valid_attachment_filename(".."));
  EXPECT_FALSE(is_valid_attachment_filename("a/b"));
  EXPECT_FALSE(is_valid_attachment_filename("a\\b"));
  EXPECT_FALSE(is_valid_attachment_filename("a\nb"));
  EXPECT_FALSE(is_valid_attachment_filename("caf\xE9"));
  EXPECT_FALSE(is_valid_attachment_filename(std::string(256, 'a')));
  EXPECT_EQ(safe_attachment_filename("a/b\tc.txt", "x"), "a_b_c.txt");
  EXPECT_EQ(safe_attachment_filename("", "attachment-2.bin"),
            "attachment-2.bin");
  EXPECT_EQ(safe_attachment_filename("..", "fallback"), "fallback");
}

TEST(compose, strict_base64) {
  EXPECT_EQ(decode_base64_strict("aGVsbG8="), "hello");
  EXPECT_EQ(decode_base64_strict("aGVs\r\nbG8="), "hello");
  EXPECT_EQ(decode_base64_strict(""), "");
  EXPECT_FALSE(decode_base64_strict("aGVsbG8"));  // unpadded
  EXPECT_FALSE(decode_base64_strict("aGVsbG8*")); // outside the alphabet
  EXPECT_FALSE(decode_base64_strict("aG=sbG8=")); // padding inside
  EXPECT_FALSE(decode_base64_strict("a==="));
  EXPECT_FALSE(decode_base64_strict("aGVsbG8_")); // base64url
}

TEST(compose, attachment_kinds) {
  EXPECT_EQ(kind_of("image/png"), attachment_kind::image);
  EXPECT_EQ(kind_of("image/svg+xml"), attachment_kind::text);
  EXPECT_EQ(kind_of("text/csv"), attachment_kind::text);
  EXPECT_EQ(kind_of("message/rfc822"), attachment_kind::text);
  EXPECT_EQ(kind_of("application/ld+json"), attachment_kind::text);
  EXPECT_EQ(kind_of("application/pdf"), attachment_kind::file);
  EXPECT_EQ(kind_of("application/octet-stream"), attachment_kind::file);
  attachment_limits limits{10, 20, 30};
  EXPECT_EQ(limits.of(attachment_kind::text), 10u);
  EXPECT_EQ(limits.of(attachment_kind::image), 20u);
  EXPECT_EQ(limits.of(attachment_kind::file), 30u);
  EXPECT_EQ(format_size(100), "100 bytes");
  EXPECT_EQ(format_size(300 * 1024), "300 KB");
  EXPECT_EQ(format_size(3 * 1024 * 1024 / 2), "1.5 MB");
}
