// SPDX-License-Identifier: Apache-2.0
// The tool table and its schema files: every tool has a schema that loads,
// tools/list is what it was before the schemas moved to files (golden), the
// parsers apply the schemas' defaults, and a broken schema file is refused
// with a sentence naming it.

#include "mcp_tools_support.hpp"
#include "postern/mcp/json.hpp"
#include "postern/mcp/tool_schema.hpp"
#include "postern/mcp/tools.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <set>
#include <sstream>

using namespace postern;
using namespace postern::mcp;
using namespace postern::mcp::test;

namespace {

std::string js(bool b) {
  return b ? "true" : "false";
}

std::string js(int64_t n) {
  return std::to_string(n);
}

std::string js(const std::string& s) {
  return quote(s);
}

/// One default: the tool, arguments that pass without the property, and
/// the value the parser produced for it (as JSON text).
struct default_case {
  std::string tool;
  std::string args;
  std::string property;
  std::function<std::string(const tool_args&)> parsed;
};

template <class T, class F>
std::function<std::string(const tool_args&)> field(F f) {
  return [f](const tool_args& a) { return js(f(std::get<T>(a))); };
}

const std::vector<default_case>& default_cases() {
  using lf = list_folders_args;
  using lm = list_messages_args;
  using rm = read_message_args;
  using sm = search_messages_args;
  using ca = compose_args;
  static const std::vector<default_case> cases = {
    {"list_folders", "{}", "includeCounts",
     field<lf>([](const lf& a) { return a.include_counts; })},
    {"list_messages", "{}", "folder",
     field<lm>([](const lm& a) { return a.folder; })},
    {"list_messages", "{}", "page",
     field<lm>([](const lm& a) { return a.page.page; })},
    {"list_messages", "{}", "pageSize",
     field<lm>([](const lm& a) { return a.page.page_size; })},
    {"list_messages", "{}", "includeBody",
     field<lm>([](const lm& a) { return a.include_body; })},
    {"read_message", R"({"uid":3})", "folder",
     field<rm>([](const rm& a) { return a.folder; })},
    {"read_message", R"({"uid":3})", "offset", field<rm>([](const rm& a) {
       return static_cast<int64_t>(a.window.offset);
     })},
    {"search_messages", "{}", "folder",
     field<sm>([](const sm& a) { return a.folder; })},
    {"search_messages", "{}", "limit",
     field<sm>([](const sm& a) { return a.query.limit; })},
    {"search_messages", "{}", "includeBody",
     field<sm>([](const sm& a) { return a.include_body; })},
    {"flag_message", R"({"uid":3,"seen":true})", "folder",
     field<flag_message_args>(
       [](const flag_message_args& a) { return a.folder; })},
    {"get_thread", R"({"uid":3})", "folder",
     field<get_thread_args>([](const get_thread_args& a) { return a.folder; })},
    {"delete_message", R"({"uid":3})", "folder",
     field<bulk_change_args>(
       [](const bulk_change_args& a) { return a.request.folder; })},
    {"get_attachment", R"({"uid":3,"partId":"2"})", "folder",
     field<get_attachment_args>(
       [](const get_attachment_args& a) { return a.folder; })},
    {"get_attachment", R"({"uid":3,"partId":"2"})", "asLink",
     field<get_attachment_args>(
       [](const get_attachment_args& a) { return a.as_link; })},
    {"reply_message", R"({"uid":3,"body":"x"})", "folder",
     field<ca>([](const ca& a) { return a.request.folder; })},
    {"reply_message", R"({"uid":3,"body":"x"})", "replyAll",
     field<ca>([](const ca& a) { return a.request.reply_all; })},
    {"reply_message", R"({"uid":3,"body":"x"})", "quoteOriginal",
     field<ca>([](const ca& a) { return a.request.quote; })},
    {"forward_message", R"({"uid":3,"to":"a@example.test"})", "folder",
     field<ca>([](const ca& a) { return a.request.folder; })},
    {"save_draft", "{}", "folder",
     field<ca>([](const ca& a) { return a.request.folder; })},
    {"save_draft", R"({"replyToUid":3})", "replyAll",
     field<ca>([](const ca& a) { return a.request.reply_all; })},
    {"save_draft", R"({"replyToUid":3})", "quoteOriginal",
     field<ca>([](const ca& a) { return a.request.quote; })},
  };
  return cases;
}

/// The schema's default of a property of a tool's input.
std::string schema_default(const std::string& tool,
                           const std::string& property) {
  auto& schema = *input_schema_of(*find_tool(tool));
  return to_json(schema["properties"][property.c_str()]["default"]);
}

std::string read_golden() {
  std::ifstream in{POSTERN_GOLDEN_DIR "/tools_list.json", std::ios::binary};
  EXPECT_TRUE(in) << "golden file missing";
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// The real schema files with `name` replaced (or added) by `text`.
schema_files with_file(std::string_view name, std::string_view text) {
  schema_files files;
  for (auto& f : detail::tool_schema_files)
    if (f.first != name)
      files.push_back(f);
  files.emplace_back(name, text);
  return files;
}

std::vector<std::string_view> tool_names() {
  std::vector<std::string_view> names;
  for (auto& t : tool_catalogue())
    names.push_back(t.name);
  return names;
}

/// Why loading `files` failed ("" when it did not).
std::string load_error(const schema_files& files) {
  auto loaded = load_tool_schemas(files, tool_names());
  return loaded ? std::string{} : to_string(loaded.error());
}

} // namespace

TEST(mcp_tool_table, every_tool_has_a_schema_and_a_parser) {
  EXPECT_FALSE(check_tool_catalogue());
  for (auto& t : tool_catalogue()) {
    ASSERT_NE(input_schema_of(t), nullptr) << t.name;
    EXPECT_NE(t.parse, nullptr) << t.name;
    EXPECT_FALSE(t.description.empty()) << t.name;
    for (auto text : {t.input_schema, t.output_schema}) {
      auto doc = parse(text);
      ASSERT_TRUE(doc.IsObject()) << t.name;
      EXPECT_EQ(text.find("$use"), std::string_view::npos) << t.name;
    }
  }
}

TEST(mcp_tool_table, tools_list_is_the_same_as_before_the_schema_files) {
  // Captured from the server's tools/list (every scope) before the tools
  // moved into one file per family and their schemas into JSON files.
  EXPECT_EQ(tools_list_result(every_scope), read_golden());
}

TEST(mcp_tool_table, parsers_apply_the_schema_defaults) {
  std::set<std::pair<std::string, std::string>> checked;
  for (auto& c : default_cases()) {
    auto r = call(c.tool, c.args);
    ASSERT_TRUE(r.args) << c.tool << ": " << r.error;
    EXPECT_EQ(c.parsed(*r.args), schema_default(c.tool, c.property))
      << c.tool << "." << c.property;
    checked.emplace(c.tool, c.property);
  }
  // Every default of every schema is among the cases above.
  for (auto& t : tool_catalogue())
    for (auto& p : (*input_schema_of(t))["properties"].GetObject())
      if (p.value.HasMember("default")) {
        EXPECT_TRUE(checked.count({std::string{t.name}, p.name.GetString()}))
          << t.name << "." << p.name.GetString() << " has no case";
      }
}

TEST(mcp_tool_table, argument_structs_start_in_the_schema_default_folder) {
  EXPECT_EQ(quote(default_folder), schema_default("list_messages", "folder"));
  EXPECT_EQ(list_messages_args{}.folder, default_folder);
  EXPECT_EQ(read_message_args{}.folder, default_folder);
  EXPECT_EQ(search_messages_args{}.folder, default_folder);
  EXPECT_EQ(flag_message_args{}.folder, default_folder);
  EXPECT_EQ(get_thread_args{}.folder, default_folder);
  EXPECT_EQ(get_attachment_args{}.folder, default_folder);
}

TEST(mcp_tool_table, broken_schema_files_are_refused_by_name) {
  EXPECT_EQ(load_error(detail::tool_schema_files), "");
  auto error = load_error(with_file("list_folders.json", R"({"title": "x",)"));
  EXPECT_NE(error.find("list_folders.json: not JSON at offset"),
            std::string::npos)
    << error;
  auto valid_but = [](const std::string& input) {
    return R"({"title":"t","description":"d","outputSchema":{"type":"object"},)"
           R"("inputSchema":)"
           + input + "}";
  };
  auto unknown
    = valid_but(R"({"type":"object","properties":{"uid":{"$use":"nope"}}})");
  EXPECT_NE(load_error(with_file("get_thread.json", unknown))
              .find("get_thread.json: `$use` names"),
            std::string::npos)
    << load_error(with_file("get_thread.json", unknown));
  auto bad_default = valid_but(
    R"({"type":"object","properties":{"n":{"type":"integer","maximum":5,"default":9}}})");
  EXPECT_NE(load_error(with_file("get_thread.json", bad_default))
              .find("the default of `n` breaks its own schema"),
            std::string::npos);
  EXPECT_NE(load_error(with_file("get_thread.json", R"({"title":"t"})"))
              .find("get_thread.json: must be an object with exactly"),
            std::string::npos);
  EXPECT_NE(load_error(with_file("stray.json", "{}"))
              .find("stray.json: belongs to no tool"),
            std::string::npos);
  // `$with` extends a piece; it may not redefine what the piece has, nor
  // hold anything but properties and required.
  auto refused_with = [&](const std::string& with) {
    return load_error(with_file(
      "get_thread.json",
      valid_but(R"({"type":"object","properties":{"m":{"$use":"summary",)"
                R"("$with":)"
                + with + "}}}")));
  };
  EXPECT_NE(refused_with(R"({"properties":{"uid":{"type":"string"}}})")
              .find("which the piece already has"),
            std::string::npos)
    << refused_with(R"({"properties":{"uid":{"type":"string"}}})");
  EXPECT_NE(refused_with(R"({"title":"x"})")
              .find("`$with` holds only `properties`"),
            std::string::npos);
  EXPECT_NE(refused_with(R"([1])").find("`$with` must be an object"),
            std::string::npos);
  EXPECT_EQ(refused_with(R"({"properties":{"extra":{"type":"string"}},)"
                         R"("required":["extra"]})"),
            "");
  // A piece that uses itself: one tool is enough to meet it.
  auto uses_uid = valid_but(R"({"$use":"uid"})");
  schema_files cycle = {{"common.json", R"({"uid":{"$use":"uid"}})"},
                        {"get_thread.json", uses_uid}};
  auto cycle_error = load_tool_schemas(cycle, {"get_thread"});
  ASSERT_FALSE(cycle_error);
  EXPECT_NE(to_string(cycle_error.error()).find("nests too deep"),
            std::string::npos)
    << to_string(cycle_error.error());
  schema_files missing;
  for (auto& f : detail::tool_schema_files)
    if (f.first != "save_draft.json")
      missing.push_back(f);
  EXPECT_NE(load_error(missing).find("save_draft.json: missing"),
            std::string::npos);
}
