// SPDX-License-Identifier: Apache-2.0
// The one table of tools: name, scope, annotations and argument parser of
// each, with its title, description and schemas from schemas/<tool>.json.

#include "families.hpp"
#include "postern/mcp/json.hpp"
#include "postern/mcp/schema.hpp"
#include "postern/mcp/tool_schema.hpp"
#include "writers.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace postern::mcp {

namespace {

using namespace detail;

// Annotations, as they truly apply (tool_hints order: read-only,
// destructive, idempotent, open-world).
constexpr tool_hints reads{true, false, true, false};
constexpr tool_hints additive{false, false, false, false};
constexpr tool_hints destructive{false, true, false, false};
constexpr tool_hints destructive_idempotent{false, true, true, false};
/// Mail leaves the account: the world beyond it is touched.
constexpr tool_hints sending{false, false, false, true};

/// A tool of the table; the rest of its tool_def comes from its schema file.
struct tool_row {
  std::string_view name;
  scope required;
  tool_hints hints;
  parse_fn parse;
  bool about_accounts = false;
};

// The order is tools/list's: the seven tools of the TypeScript original
// first, then the organizing and the composing tools.
const tool_row table[] = {
  {"list_folders", scope::folders, reads, parse_list_folders},
  {"list_messages", scope::read, reads, parse_list_messages},
  {"read_message", scope::read, reads, parse_read_message},
  {"search_messages", scope::search, reads, parse_search_messages},
  {"move_message", scope::modify, destructive, parse_move_message},
  {"flag_message", scope::modify, destructive_idempotent, parse_flag_message},
  {"send_mail", scope::send, sending, parse_send_mail},
  {"get_thread", scope::read, reads, parse_get_thread},
  {"create_folder", scope::modify, additive, parse_create_folder},
  {"rename_folder", scope::modify, destructive, parse_rename_folder},
  {"delete_folder", scope::modify, destructive_idempotent, parse_delete_folder},
  {"delete_message", scope::modify, destructive, parse_delete_message},
  {"copy_message", scope::modify, additive, parse_copy_message},
  {"get_attachment", scope::read, reads, parse_get_attachment},
  {"reply_message", scope::send, sending, parse_reply_message},
  {"forward_message", scope::send, sending, parse_forward_message},
  {"save_draft", scope::draft, additive, parse_save_draft},
  {"get_send_status", scope::send, reads, parse_get_send_status},
  // Shown with any scope (`required` is then unused).
  {"list_accounts", scope::folders, reads, parse_list_accounts, true},
};

struct catalogue {
  std::map<std::string, tool_schema, std::less<>> schemas;
  std::vector<tool_def> tools;
  /// The parsed input schema of each tool, for check_schema and defaults.
  std::map<std::string_view, std::unique_ptr<rapidjson::Document>> inputs;

  // tools and inputs point into schemas: the catalogue stays where it was
  // built.
  catalogue(const catalogue&) = delete;
  catalogue& operator=(const catalogue&) = delete;

  explicit catalogue(std::map<std::string, tool_schema, std::less<>> loaded)
    : schemas(std::move(loaded)) {
    for (auto& row : table) {
      auto& s = schemas.find(row.name)->second;
      tools.push_back({row.name, s.title, s.description, row.required,
                       row.hints, row.about_accounts, s.input, s.output,
                       row.parse});
      auto doc = std::make_unique<rapidjson::Document>();
      doc->Parse(s.input.data(), s.input.size());
      inputs.emplace(row.name, std::move(doc));
    }
  }
};

caf::expected<std::map<std::string, tool_schema, std::less<>>> load() {
  std::vector<std::string_view> names;
  for (auto& row : table)
    names.push_back(row.name);
  return load_tool_schemas(detail::tool_schema_files, names);
}

const catalogue& the_catalogue() {
  static const catalogue instance = [] {
    auto loaded = load();
    if (!loaded) {
      // check_tool_catalogue() at start-up reports this before serving;
      // here only a caller that skipped it (a test) can get.
      std::fprintf(stderr, "postern: %s\n", to_string(loaded.error()).c_str());
      std::abort();
    }
    return catalogue{std::move(*loaded)};
  }();
  return instance;
}

std::string build_tools_list(scope_set scopes) {
  json_writer w;
  w.begin_object().key("tools").begin_array();
  for (auto& t : tool_catalogue()) {
    if (!may_call(scopes, t))
      continue;
    w.begin_object()
      .key("name")
      .string(t.name)
      .key("title")
      .string(t.title)
      .key("description")
      .string(t.description)
      .key("inputSchema")
      .raw(t.input_schema)
      .key("outputSchema")
      .raw(t.output_schema)
      .key("annotations")
      .begin_object()
      // The 2025-03-26 schema had the title only here.
      .key("title")
      .string(t.title)
      .key("readOnlyHint")
      .boolean(t.hints.read_only)
      .key("destructiveHint")
      .boolean(t.hints.destructive)
      .key("idempotentHint")
      .boolean(t.hints.idempotent)
      .key("openWorldHint")
      .boolean(t.hints.open_world)
      .end_object()
      .end_object();
  }
  w.end_array().end_object();
  return w.take();
}

} // namespace

caf::error check_tool_catalogue() {
  if (auto loaded = load(); !loaded)
    return std::move(loaded.error());
  return {};
}

const std::vector<tool_def>& tool_catalogue() {
  return the_catalogue().tools;
}

const tool_def* find_tool(std::string_view name) {
  for (auto& t : tool_catalogue())
    if (t.name == name)
      return &t;
  return nullptr;
}

const rapidjson::Value* input_schema_of(const tool_def& tool) {
  auto& inputs = the_catalogue().inputs;
  auto i = inputs.find(tool.name);
  return i == inputs.end() ? nullptr : i->second.get();
}

const std::string& tools_list_result(scope_set scopes) {
  // Every answer is one of 32: build them once (thread-safe static init).
  static const auto all = [] {
    std::vector<std::string> result;
    for (scope_set s = 0; s <= every_scope; ++s)
      result.push_back(build_tools_list(s));
    return result;
  }();
  return all[scopes & every_scope];
}

bool may_call(scope_set scopes, const tool_def& tool) {
  if (tool.about_accounts)
    return (scopes & every_scope) != 0;
  return has_scope(scopes, tool.required);
}

std::shared_ptr<const std::string> tools_list_result(scope_set scopes,
                                                     const account_menu& menu) {
  // A connection's menu changes only when its accounts do: keep the built
  // answers, keyed by everything they depend on, and start afresh when the
  // table holds more menus than a busy server has (a bounded cost, never
  // unbounded memory).
  constexpr size_t max_menus = 4096;
  static std::mutex mutex;
  static std::unordered_map<std::string, std::shared_ptr<const std::string>>
    built;
  std::string key = std::to_string(scopes & every_scope);
  key += menu.required ? "!" : "?";
  for (auto& n : menu.names) {
    key += '\0';
    key += n;
  }
  {
    std::lock_guard<std::mutex> guard{mutex};
    if (auto i = built.find(key); i != built.end())
      return i->second;
  }
  rapidjson::Document doc;
  auto& base = tools_list_result(scopes);
  doc.Parse(base.data(), base.size());
  auto& alloc = doc.GetAllocator();
  for (auto& t : doc["tools"].GetArray()) {
    auto tool = find_tool(string_of(t["name"]));
    if (tool && !tool->about_accounts)
      detail::add_account_argument(t["inputSchema"], menu, alloc);
  }
  auto result = std::make_shared<const std::string>(to_json(doc));
  std::lock_guard<std::mutex> guard{mutex};
  if (built.size() >= max_menus)
    built.clear();
  built.emplace(std::move(key), result);
  return result;
}

namespace {

/// The `account` argument, taken out of a copy of the arguments so the
/// tool's schema (which does not name it) checks the rest; the sentence
/// why it is unusable, or an empty one.
std::string take_account(const rapidjson::Value& args, rapidjson::Document& rest,
                         std::string& account) {
  auto given = find_member(args, "account");
  if (!given)
    return {};
  if (!given->IsString() || given->GetStringLength() == 0
      || given->GetStringLength() > max_account_name)
    return "account must be the label or the address of one of this "
           "connection's email accounts (see list_accounts)";
  account = std::string{string_of(*given)};
  rest.SetObject();
  for (auto& m : args.GetObject())
    if (m.name != "account")
      rest.AddMember(rapidjson::Value{m.name, rest.GetAllocator()},
                     rapidjson::Value{m.value, rest.GetAllocator()},
                     rest.GetAllocator());
  return {};
}

} // namespace

parsed_arguments parse_arguments(const tool_def& tool,
                                 const rapidjson::Value* arguments) {
  static const rapidjson::Value empty_object{rapidjson::kObjectType};
  const rapidjson::Value* args = arguments ? arguments : &empty_object;
  std::string account;
  rapidjson::Document rest;
  if (!tool.about_accounts) {
    if (auto why = take_account(*args, rest, account); !why.empty()) {
      auto r = refuse(std::move(why));
      r.error = "Invalid arguments for " + std::string{tool.name} + ": "
                + r.error + ".";
      return r;
    }
    if (!account.empty())
      args = &rest;
  }
  auto schema = input_schema_of(tool);
  if (!schema || !tool.parse)
    return refuse("Unknown tool " + std::string{tool.name});
  auto err = check_schema(*schema, *args);
  auto r = err.empty() ? tool.parse(tool_arguments{*schema, *args})
                       : refuse(std::move(err));
  if (!r.args)
    r.error = "Invalid arguments for " + std::string{tool.name} + ": " + r.error
              + ".";
  r.account = std::move(account);
  return r;
}

std::string tool_success(std::string_view structured_json) {
  return call_result(structured_json, false);
}

std::string tool_failure(std::string_view sentence) {
  return call_result(sentence, true);
}

} // namespace postern::mcp
