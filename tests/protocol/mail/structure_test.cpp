// SPDX-License-Identifier: Apache-2.0
#include "postern/mime/structure.hpp"

#include <gtest/gtest.h>

using namespace postern::mime;

namespace {

part leaf(std::string section, std::string type, std::string subtype,
          std::vector<parameter> params = {}, std::string disposition = {},
          std::vector<parameter> disposition_params = {}) {
  part p;
  p.section = std::move(section);
  p.type = std::move(type);
  p.subtype = std::move(subtype);
  p.params = std::move(params);
  p.encoding = "base64";
  p.size = 780;
  p.disposition = std::move(disposition);
  p.disposition_params = std::move(disposition_params);
  return p;
}

part multi(std::string section, std::string subtype,
           std::vector<part> children) {
  part p;
  p.section = std::move(section);
  p.type = "multipart";
  p.subtype = std::move(subtype);
  p.children = std::move(children);
  return p;
}

std::vector<std::string> sections(const body_plan& plan) {
  std::vector<std::string> result;
  for (auto& step : plan.steps)
    result.push_back(step.section.empty()
                       ? "<" + step.literal.substr(0, 10) + ">"
                       : step.section);
  return result;
}

} // namespace

TEST(structure, single_part_message_reads_section_1) {
  auto root = leaf("1", "text", "plain", {{"charset", "iso-8859-1"}});
  auto plan = plan_body(root);
  ASSERT_EQ(plan.steps.size(), 1u);
  EXPECT_EQ(plan.steps[0].section, "1");
  EXPECT_EQ(plan.steps[0].charset, "iso-8859-1");
  EXPECT_TRUE(plan.attachments.empty());
  EXPECT_FALSE(has_attachments(root));
}

TEST(structure, alternative_prefers_plain_text) {
  auto root = multi("", "alternative",
                    {leaf("1", "text", "plain"), leaf("2", "text", "html")});
  EXPECT_EQ(sections(plan_body(root)), std::vector<std::string>{"1"});
  // HTML first in the list changes nothing.
  root = multi("", "alternative",
               {leaf("1", "text", "html"), leaf("2", "text", "plain")});
  EXPECT_EQ(sections(plan_body(root)), std::vector<std::string>{"2"});
  // Only HTML (inside related): the HTML root is read, the image listed.
  auto related = multi(
    "2", "related", {leaf("2.1", "text", "html"), leaf("2.2", "image", "png")});
  related.children[1].content_id = "logo@x";
  related.children[1].disposition = "inline";
  root = multi("", "alternative",
               {leaf("1", "application", "x-unknown"), related});
  auto plan = plan_body(root);
  EXPECT_EQ(sections(plan), std::vector<std::string>{"2.1"});
  EXPECT_TRUE(plan.steps[0].html);
  ASSERT_EQ(plan.attachments.size(), 1u);
  EXPECT_EQ(plan.attachments[0].part_id, "2.2");
  EXPECT_EQ(plan.attachments[0].content_id, "logo@x");
  EXPECT_FALSE(has_attachments(root)) << "an inline image is not an attachment";
}

TEST(structure, mixed_with_attachments) {
  auto root = multi(
    "", "mixed",
    {multi("1", "alternative",
           {leaf("1.1", "text", "plain"), leaf("1.2", "text", "html")}),
     leaf("2", "application", "pdf", {{"name", "r.pdf"}}, "attachment",
          {{"filename", "report.pdf"}}),
     leaf("3", "text", "csv", {}, "attachment",
          {{"filename*", "UTF-8''r%C3%A9sum%C3%A9.csv"}}),
     leaf("4", "text", "plain", {{"name", "notes.txt"}}, "attachment"),
     leaf("5", "image", "png", {{"name", "=?UTF-8?B?5YaZ55yfLnBuZw==?="}})});
  auto plan = plan_body(root);
  EXPECT_EQ(sections(plan), std::vector<std::string>{"1.1"});
  ASSERT_EQ(plan.attachments.size(), 4u);
  EXPECT_EQ(plan.attachments[0].filename, "report.pdf");
  EXPECT_EQ(plan.attachments[0].mime_type, "application/pdf");
  EXPECT_EQ(plan.attachments[0].size, 570u); // 780 base64 octets
  EXPECT_EQ(plan.attachments[1].filename, "résumé.csv");
  EXPECT_EQ(plan.attachments[2].filename, "notes.txt");
  EXPECT_EQ(plan.attachments[3].filename, "写真.png");
  EXPECT_TRUE(has_attachments(root));
}

TEST(structure, inline_text_parts_are_read_in_order) {
  auto root = multi("", "mixed",
                    {leaf("1", "text", "plain"), leaf("2", "image", "jpeg"),
                     leaf("3", "text", "plain", {}, "inline")});
  EXPECT_EQ(sections(plan_body(root)), (std::vector<std::string>{"1", "3"}));
}

TEST(structure, nested_messages_are_read_with_a_heading) {
  part inner;
  inner.section = "2";
  inner.type = "message";
  inner.subtype = "rfc822";
  inner.headers = {"Someone <s@x.org>", "alice@example.test",
                   "Mon, 01 Jan 2024", "Original"};
  part middle_body = multi("", "mixed",
                           {leaf("2.1", "text", "plain"),
                            leaf("2.2", "application", "octet-stream", {},
                                 "attachment", {{"filename", "data.bin"}})});
  inner.children.push_back(middle_body);
  auto root = multi("", "mixed", {leaf("1", "text", "plain"), inner});
  auto plan = plan_body(root);
  EXPECT_EQ(sections(plan),
            (std::vector<std::string>{"1", "<---------->", "2.1"}));
  EXPECT_NE(plan.steps[1].literal.find("Subject: Original"), std::string::npos);
  ASSERT_EQ(plan.attachments.size(), 2u);
  EXPECT_EQ(plan.attachments[0].mime_type, "message/rfc822");
  EXPECT_EQ(plan.attachments[0].filename, "Original.eml");
  EXPECT_EQ(plan.attachments[1].filename, "data.bin");
  EXPECT_TRUE(has_attachments(root));
}

TEST(structure, pathological_trees_do_not_explode) {
  part deep = leaf("1", "text", "plain");
  for (int i = 0; i < 100; ++i)
    deep = multi("", "mixed", {deep});
  auto plan = plan_body(deep);
  EXPECT_LE(plan.steps.size(), 1u);
  EXPECT_EQ(plan_body(multi("", "mixed", {})).steps.size(), 0u);
  EXPECT_EQ(plan_body(multi("", "alternative", {})).steps.size(), 0u);
}

TEST(structure, decodes_text_parts) {
  text_step step;
  step.section = "1";
  step.encoding = "quoted-printable";
  step.charset = "iso-8859-1";
  EXPECT_EQ(decode_text("Gr=FC=DFe\r\nzwei=\r\nte Zeile\r\n", step),
            "Grüße\nzweite Zeile");
  step.html = true;
  step.charset.clear();
  step.encoding = "8bit";
  EXPECT_EQ(decode_text(
              "<meta charset=\"koi8-r\"><p>\xF0\xD2\xC9\xD7\xC5\xD4</p>", step),
            "Привет");
  text_step flowed;
  flowed.section = "1";
  flowed.flowed = true;
  EXPECT_EQ(
    decode_text(
      "This is a \r\nflowed paragraph.\r\n> quoted \r\n> more\r\n-- \r\nsig",
      flowed),
    "This is a flowed paragraph.\n> quoted more\n-- \nsig");
  flowed.delete_space = true;
  EXPECT_EQ(decode_text("ab \r\ncd\r\n", flowed), "abcd");
}
