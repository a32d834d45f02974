// SPDX-License-Identifier: Apache-2.0
#include "postern/ui/assets.hpp"
#include "postern/ui/template.hpp"

#include <gtest/gtest.h>

using postern::ui::render;
using postern::ui::value;

namespace {

std::string ok(std::string_view tmpl, const value& v,
               const postern::ui::partial_lookup& partials = {}) {
  auto [out, err] = render(tmpl, v, partials);
  EXPECT_FALSE(err) << (err ? err->message : "");
  return out;
}

std::string error_of(std::string_view tmpl) {
  auto [out, err] = render(tmpl, value::object());
  return err ? err->message : "";
}

} // namespace

TEST(ui_template, escapes_every_value) {
  auto v = value::object();
  v.set("x", "<script>alert(1)</script>\"'&`=");
  EXPECT_EQ(
    ok("<p title=\"{{x}}\">{{x}}</p>", v),
    "<p "
    "title=\"&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;&#96;&#61;\">"
    "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;&#96;&#61;</p>");
}

TEST(ui_template, has_no_unescaped_output) {
  EXPECT_NE(error_of("{{{x}}}"), "");
  EXPECT_NE(error_of("{{&x}}"), "");
}

TEST(ui_template, trusted_markup_is_only_what_the_renderer_made) {
  auto v = value::object();
  v.set("content", value::html("<b>bold</b>"));
  v.set("text", "<b>bold</b>");
  EXPECT_EQ(ok("{{content}}|{{text}}", v),
            "<b>bold</b>|&lt;b&gt;bold&lt;/b&gt;");
}

TEST(ui_template, sections_over_lists_objects_and_flags) {
  auto v = value::object();
  auto items = value::list();
  items.push(value::object().set("name", "a"));
  items.push(value::object().set("name", "b"));
  v.set("items", std::move(items));
  v.set("yes", true);
  v.set("no", false);
  v.set("empty", value::list());
  v.set("blank", "");
  v.set("who", value::object().set("name", "c"));
  v.set("outer", "o");
  EXPECT_EQ(ok("{{#items}}[{{name}}{{outer}}]{{/items}}", v), "[ao][bo]");
  EXPECT_EQ(ok("{{#yes}}Y{{/yes}}{{#no}}N{{/no}}{{^no}}n{{/no}}", v), "Yn");
  EXPECT_EQ(ok("{{^empty}}none{{/empty}}{{#empty}}x{{/empty}}", v), "none");
  EXPECT_EQ(ok("{{^blank}}blank{{/blank}}{{#missing}}x{{/missing}}", v),
            "blank");
  EXPECT_EQ(ok("{{#who}}{{name}}{{/who}} {{who.name}} {{who.nope}}", v),
            "c c ");
  EXPECT_EQ(ok("{{#items}}{{#yes}}{{name}}{{/yes}}{{/items}}", v), "ab");
}

TEST(ui_template, partials_and_comments) {
  auto v = value::object().set("x", "1");
  auto partials = [](std::string_view name) -> std::optional<std::string_view> {
    if (name == "p")
      return std::string_view{"<{{x}}>"};
    if (name == "loop")
      return std::string_view{"{{>loop}}"};
    return std::nullopt;
  };
  EXPECT_EQ(ok("a{{! ignored }}{{>p}}b", v, partials), "a<1>b");
  auto [out, err] = render("{{>loop}}", v, partials);
  ASSERT_TRUE(err);
  EXPECT_NE(err->message.find("nested too deeply"), std::string::npos);
  auto [out2, err2] = render("{{>nope}}", v, partials);
  ASSERT_TRUE(err2);
}

TEST(ui_template, malformed_templates_are_errors) {
  EXPECT_NE(error_of("{{#a}}x"), "");
  EXPECT_NE(error_of("{{#a}}x{{/b}}"), "");
  EXPECT_NE(error_of("{{/a}}"), "");
  EXPECT_NE(error_of("{{x"), "");
  EXPECT_NE(error_of("{{}}"), "");
  EXPECT_NE(error_of("{{a b}}"), "");
  EXPECT_NE(error_of("line\n{{#a}}").find("line 2"), std::string::npos);
}

TEST(ui_template, every_embedded_template_renders) {
  // A typo in a template must fail here, not in front of a person.
  size_t count = 0;
  for (auto& [path, content] : postern::ui::detail::assets) {
    if (path.rfind("templates/", 0) != 0)
      continue;
    ++count;
    auto name = path.substr(10, path.size() - 10 - 5);
    auto [out, err] = postern::ui::render_asset(name, value::object());
    EXPECT_FALSE(err) << path << ": " << (err ? err->message : "");
  }
  EXPECT_GE(count, 9u);
}

TEST(ui_template, layout_has_no_inline_script_or_style) {
  for (auto& [path, content] : postern::ui::detail::assets) {
    if (path.rfind("templates/", 0) != 0)
      continue;
    EXPECT_EQ(content.find(" style="), std::string_view::npos) << path;
    EXPECT_EQ(content.find("<style"), std::string_view::npos) << path;
    for (size_t pos = content.find("<script"); pos != std::string_view::npos;
         pos = content.find("<script", pos + 1))
      EXPECT_NE(content.substr(pos, 40).find("src="), std::string_view::npos)
        << path;
  }
}

TEST(ui_template, sections_nest_at_most_32_deep) {
  auto nest = [](int n) {
    std::string t;
    for (int k = 0; k < n; ++k)
      t += "{{#a}}";
    t += "x";
    for (int k = 0; k < n; ++k)
      t += "{{/a}}";
    return t;
  };
  auto v = value::object();
  v.set("a", value{true});
  EXPECT_EQ(ok(nest(32), v), "x");
  EXPECT_NE(error_of(nest(33)).find("sections nested deeper than 32"),
            std::string::npos);
  // Deep enough to overflow the stack if parsing recursed without a cap.
  EXPECT_FALSE(error_of(nest(200000)).empty());
}

TEST(ui_template, sections_over_lists_have_a_work_cap) {
  // Ten items in six nested sections: 10^6 visits without a cap.
  auto items = value::list();
  for (int k = 0; k < 10; ++k)
    items.push(value{true});
  auto v = value::object();
  v.set("a", std::move(items));
  std::string t;
  for (int k = 0; k < 6; ++k)
    t += "{{#a}}";
  t += "x";
  for (int k = 0; k < 6; ++k)
    t += "{{/a}}";
  auto [out, err] = render(t, v);
  ASSERT_TRUE(err);
  EXPECT_NE(err->message.find("too much work"), std::string::npos);
  // Two levels stay well within it.
  EXPECT_EQ(ok("{{#a}}{{#a}}x{{/a}}{{/a}}", v), std::string(100, 'x'));
}
