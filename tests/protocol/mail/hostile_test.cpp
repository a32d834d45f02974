// SPDX-License-Identifier: Apache-2.0
// Hostile structure in mail (issue 14): every decoder caps its output,
// flattens deep nesting and says where it cut something.
#include "postern/error.hpp"
#include "postern/mime/address.hpp"
#include "postern/mime/charset.hpp"
#include "postern/mime/compose.hpp"
#include "postern/mime/header.hpp"
#include "postern/mime/html.hpp"
#include "postern/mime/limits.hpp"
#include "postern/mime/structure.hpp"
#include "postern/mime/transfer_encoding.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace postern::mime;

namespace {

std::string repeat(std::string_view unit, size_t n) {
  std::string out;
  out.reserve(unit.size() * n);
  for (size_t k = 0; k < n; ++k)
    out += unit;
  return out;
}

bool has_cut_notice(std::string_view text) {
  return text.find("[\xE2\x80\xA6 cut: ") != std::string_view::npos;
}

} // namespace

TEST(hostile_html, deep_lists_indent_at_most_max_nesting_levels) {
  // 1000 lists open, then items: indented as at depth 32, not 1000.
  auto text = html_to_text(repeat("<ul>", 1000) + repeat("<li>x", 3));
  std::string item = std::string(2 * (max_nesting - 1), ' ') + "- x";
  EXPECT_EQ(text, item + "\n" + item + "\n" + item);
  EXPECT_FALSE(has_cut_notice(text));
}

TEST(hostile_html, deep_lists_close_in_order) {
  // Closing the flattened levels first, then the real ones.
  auto html = repeat("<ol>", 40) + repeat("</ol>", 39) + "<li>a<li>b";
  EXPECT_EQ(html_to_text(html), "1. a\n2. b");
  // Closing more lists than were opened is harmless.
  EXPECT_EQ(html_to_text("</ul></ul><li>x</ul><ul><li>y"), "- x\n\n- y");
}

TEST(hostile_html, output_is_capped_with_a_notice) {
  // Each <hr> becomes 11 bytes: 2 MiB of them would be 5.5 MiB of text.
  auto html = repeat("<hr>", (size_t{2} << 20) / 4);
  auto text = html_to_text(html);
  EXPECT_LE(text.size(), max_text_bytes + 100);
  EXPECT_GE(text.size(), max_text_bytes - 100);
  EXPECT_TRUE(has_cut_notice(text));
  EXPECT_TRUE(is_valid_utf8(text));
  // Text below the cap has no notice.
  EXPECT_FALSE(has_cut_notice(html_to_text(repeat("<hr>", 1000))));
}

TEST(hostile_html, cut_never_splits_a_character) {
  // Three-byte characters in preformatted text right up to the cap.
  auto html = "<pre>" + repeat("\xE2\x82\xAC", max_text_bytes / 3 + 10);
  auto text = html_to_text(html);
  EXPECT_TRUE(is_valid_utf8(text));
  EXPECT_TRUE(has_cut_notice(text));
  EXPECT_EQ(text.find(replacement_character), std::string::npos);
}

TEST(hostile_html, nested_links_end_at_the_next_link) {
  // HTML does not nest <a>: the second one ends the first.
  EXPECT_EQ(html_to_text("<a href=\"http://a.example/\">one <a "
                         "href=\"http://b.example/\">two</a></a>"),
            "one (http://a.example/) two (http://b.example/)");
  auto deep = repeat("<a href=\"http://e.example/\">", 500) + "label"
              + repeat("</a>", 500);
  auto text = html_to_text(deep);
  // 499 empty links print their href, the last one its label and href.
  EXPECT_TRUE(
    text == repeat("http://e.example/ ", 499) + "label (http://e.example/)");
  EXPECT_EQ(html_to_text("see<a href=\"http://u.example/\"></a>next"),
            "see http://u.example/ next");
}

TEST(hostile_html, links_that_repeat_their_label_stay_plain) {
  EXPECT_EQ(html_to_text("<a href=\"mailto:A@B.example\">a@b.example</a>"),
            "a@b.example");
  EXPECT_EQ(html_to_text("<a href=\"https://x.example\">x.example</a>"),
            "x.example");
  EXPECT_EQ(html_to_text("<a href=\"JavaScript:go()\">go</a>"), "go");
}

TEST(hostile_html, many_scripts_and_unclosed_raw_text) {
  EXPECT_EQ(html_to_text(repeat("<script>x</script>", 10000) + "end"), "end");
  EXPECT_EQ(html_to_text("a<SCRIPT>x</ScRiPt >b"), "ab");
  EXPECT_EQ(html_to_text("a" + repeat("<style>x", 10000)), "a");
  EXPECT_EQ(html_to_text("a<svg><text>x</text></svg>b"), "ab");
}

TEST(hostile_html, ampersands_without_references) {
  EXPECT_TRUE(html_to_text(repeat("&", 100000)) == repeat("&", 100000));
  // A ';' far away does not make a reference.
  EXPECT_EQ(html_to_text("&amp" + repeat("x", 40) + ";"),
            "&amp" + repeat("x", 40) + ";");
  EXPECT_EQ(html_to_text("&hellip;&#x41;&#66"), "\xE2\x80\xA6"
                                                "AB");
}

TEST(hostile_html, blocks_after_many_preformatted_line_ends) {
  // The line ends a <pre> left stay; blocks after it add none.
  auto html = "<pre>x" + repeat("\n", 1000) + "</pre>" + repeat("<p><br>", 1000)
              + "y";
  auto text = html_to_text(html);
  EXPECT_TRUE(text == "x" + repeat("\n", 1000) + "y");
}

// -- headers, RFC 2047 and RFC 2231
// --------------------------------------------

TEST(hostile_header, unclosed_encoded_words_stay_literal) {
  auto raw = repeat("=?utf-8?q?aaa", 4000);
  EXPECT_TRUE(decode_header(raw) == raw);
  // A word after many broken ones still decodes.
  EXPECT_TRUE(decode_header(repeat("=?x", 1000) + " =?utf-8?q?caf=C3=A9?=")
              == repeat("=?x", 1000) + " caf\xC3\xA9");
  // A body that runs into white space is no word, however far "?=" is.
  EXPECT_EQ(decode_header("=?utf-8?q?a b?="), "=?utf-8?q?a b?=");
  EXPECT_EQ(decode_header("=?utf-8?b?w6k*?="), "=?utf-8?b?w6k*?=");
  EXPECT_EQ(decode_header("=?utf-8?b?w6k=?= =?utf-8?b?w6k=?="),
            "\xC3\xA9\xC3\xA9");
}

TEST(hostile_header, value_is_capped_with_a_notice) {
  auto text = decode_header(repeat("=?utf-8?q?=C3=A9?= ", 20000));
  EXPECT_LE(text.size(), max_header_bytes + 100);
  EXPECT_TRUE(has_cut_notice(text));
  EXPECT_TRUE(is_valid_utf8(text));
  auto plain = decode_header(repeat("x", max_header_bytes + 1));
  EXPECT_TRUE(plain.substr(0, max_header_bytes)
              == repeat("x", max_header_bytes));
  EXPECT_TRUE(has_cut_notice(plain));
  EXPECT_FALSE(has_cut_notice(decode_header(repeat("x", max_header_bytes))));
}

TEST(hostile_header, continuations_are_capped_with_a_notice) {
  std::vector<parameter> params;
  for (int k = 0; k < 9999; ++k)
    params.emplace_back("filename*" + std::to_string(k), repeat("a", 100));
  auto name = find_parameter(params, "filename");
  ASSERT_TRUE(name);
  EXPECT_LE(name->size(), max_header_bytes + 100);
  EXPECT_EQ(name->substr(0, 1000), repeat("a", 1000));
  EXPECT_TRUE(has_cut_notice(*name));
  std::vector<parameter> extended{
    {"name*", "utf-8''" + repeat("%C3%A9", max_header_bytes)}};
  auto value = find_parameter(extended, "name");
  ASSERT_TRUE(value);
  EXPECT_TRUE(is_valid_utf8(*value));
  EXPECT_TRUE(has_cut_notice(*value));
  std::vector<parameter> small{{"name*0*", "utf-8''%C3%A9"}, {"name*1", "x"}};
  EXPECT_EQ(find_parameter(small, "name"), "\xC3\xA9x");
}

// -- transfer encodings and charsets -----------------------------------------

TEST(hostile_transfer_encoding, long_space_runs_in_quoted_printable) {
  EXPECT_TRUE(decode_quoted_printable(repeat(" ", 100000) + "x")
              == repeat(" ", 100000) + "x");
  EXPECT_EQ(decode_quoted_printable("a" + repeat(" \t", 50000) + "\r\nb"),
            "a\r\nb");
  EXPECT_EQ(decode_quoted_printable("a=" + repeat(" ", 1000) + "x"),
            "a=" + repeat(" ", 1000) + "x");
}

TEST(hostile_charset, many_bad_bytes_become_replacement_characters) {
  auto text = to_utf8(repeat("\xFF", 100000), "shift_jis");
  EXPECT_TRUE(is_valid_utf8(text));
  EXPECT_EQ(text.size(), 3 * 100000u);
  EXPECT_EQ(to_utf8("a\xFF"
                    "b",
                    "shift_jis"),
            "a\xEF\xBF\xBD"
            "b");
}

// -- MIME structure -----------------------------------------------------------

namespace {

part text_part(std::string section) {
  part p;
  p.section = std::move(section);
  p.type = "text";
  p.subtype = "plain";
  p.encoding = "7bit";
  p.size = 10;
  return p;
}

part file_part(std::string section) {
  part p = text_part(std::move(section));
  p.type = "application";
  p.subtype = "pdf";
  p.disposition = "attachment";
  return p;
}

} // namespace

TEST(hostile_structure, many_text_parts_are_read_up_to_the_cap) {
  part root;
  root.type = "multipart";
  root.subtype = "mixed";
  for (size_t k = 1; k <= max_text_parts + 50; ++k)
    root.children.push_back(text_part(std::to_string(k)));
  auto plan = plan_body(root);
  ASSERT_EQ(plan.steps.size(), max_text_parts + 1);
  EXPECT_EQ(plan.steps[max_text_parts - 1].section,
            std::to_string(max_text_parts));
  EXPECT_TRUE(plan.steps.back().section.empty());
  EXPECT_TRUE(has_cut_notice(plan.steps.back().literal));
  ASSERT_EQ(plan.attachments.size(), 50u);
  EXPECT_EQ(plan.attachments.front().part_id,
            std::to_string(max_text_parts + 1));
  EXPECT_EQ(plan.attachments.front().mime_type, "text/plain");
}

TEST(hostile_structure, many_attachments_are_listed_up_to_the_cap) {
  part root;
  root.type = "multipart";
  root.subtype = "mixed";
  root.children.push_back(text_part("1"));
  for (size_t k = 2; k <= max_attachments + 10; ++k)
    root.children.push_back(file_part(std::to_string(k)));
  auto plan = plan_body(root);
  EXPECT_EQ(plan.attachments.size(), max_attachments);
  ASSERT_EQ(plan.steps.size(), 2u);
  EXPECT_TRUE(has_cut_notice(plan.steps.back().literal));
  EXPECT_NE(plan.steps.back().literal.find("9 more attachments"),
            std::string::npos);
  EXPECT_TRUE(has_attachments(root));
}

TEST(hostile_structure, deep_nesting_is_listed_without_recursion) {
  // 5000 levels (the IMAP side stops at 32; plan_body must not rely on it).
  part p = file_part("1");
  for (int k = 0; k < 5000; ++k) {
    part outer;
    outer.type = "multipart";
    outer.subtype = k % 2 ? "alternative" : "mixed";
    outer.children.push_back(std::move(p));
    p = std::move(outer);
  }
  auto plan = plan_body(p);
  ASSERT_EQ(plan.attachments.size(), 1u);
  EXPECT_EQ(plan.attachments[0].part_id, "1");
  EXPECT_TRUE(has_attachments(p));
  // Taken apart level by level: the destructor recurses too.
  while (!p.children.empty()) {
    part child = std::move(p.children.front());
    p = std::move(child);
  }
}

// -- replies, forwards, address lists -----------------------------------------

TEST(hostile_compose, reply_all_to_many_recipients_keeps_each_once) {
  original_message m;
  m.from.push_back({"", "sender@example.com"});
  for (int k = 0; k < 20000; ++k)
    m.to.push_back({"", "r" + std::to_string(k % 10000) + "@Example.com"});
  m.to.push_back({"", "ME@example.com"});
  std::vector<address> to, cc;
  derive_reply_recipients(m, true, {"me@example.com"}, to, cc);
  ASSERT_EQ(to.size(), 1u);
  EXPECT_EQ(cc.size(), 10000u);
  EXPECT_EQ(cc.front().address, "r0@Example.com");
}

TEST(hostile_compose, quote_and_forward_are_capped_with_a_notice) {
  original_message m;
  m.text = repeat("\n", max_text_bytes);
  auto quote = quoted_original(m);
  EXPECT_LE(quote.size(), max_text_bytes + 200);
  EXPECT_TRUE(has_cut_notice(quote));
  m.text = repeat("x", max_text_bytes + 10);
  auto forward = forwarded_original(m);
  EXPECT_LE(forward.size(), max_text_bytes + 400);
  EXPECT_TRUE(has_cut_notice(forward));
  m.text = "short\n> older";
  EXPECT_FALSE(has_cut_notice(quoted_original(m)));
  EXPECT_NE(quoted_original(m).find("> short\n>> older\n"), std::string::npos);
}

TEST(hostile_address, long_lists_are_checked_in_order) {
  auto list = repeat("a@example.com, ", 20000) + "b@example.com";
  auto parsed = parse_address_list(list);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->size(), 20001u);
  // A typo is still found, and the sentence shows only the start.
  auto bad = parse_address_list(repeat("a@example.com, ", 1000) + "c d@x.org");
  ASSERT_FALSE(bad);
  auto sentence = postern::render(bad.error());
  EXPECT_LT(sentence.size(), 600u);
}

TEST(hostile_html, a_tag_keeps_its_first_64_attributes) {
  EXPECT_EQ(html_to_text("<img alt=first " + repeat("a=b ", 100000) + "alt=x>"),
            "[first]");
  EXPECT_EQ(html_to_text("<img " + repeat("a=b ", 100) + "alt=late>"), "");
  EXPECT_EQ(html_to_text("<img " + repeat("a=b ", 10) + "alt=early>"),
            "[early]");
}
