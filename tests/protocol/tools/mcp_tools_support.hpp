// SPDX-License-Identifier: Apache-2.0
#pragma once

// Helpers of the tool tests (mcp_tools_test.cpp, mcp_organize_tools_test.cpp):
// run a tool's argument checks on JSON text, check results against the
// tool's outputSchema.

#include "postern/mcp/schema.hpp"
#include "postern/mcp/tools.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <string_view>
#include <variant>

namespace postern::mcp::test {

inline rapidjson::Document parse(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  EXPECT_FALSE(d.HasParseError()) << json.substr(0, 200);
  return d;
}

/// Parses `args_json` and runs the tool's argument checks.
inline parsed_arguments call(std::string_view tool,
                             const std::string& args_json) {
  auto t = find_tool(tool);
  EXPECT_NE(t, nullptr) << tool;
  auto doc = parse(args_json);
  return parse_arguments(*t, &doc);
}

inline std::string error_of(std::string_view tool,
                            const std::string& args_json) {
  auto r = call(tool, args_json);
  EXPECT_FALSE(r.args) << args_json;
  return r.error;
}

template <class T>
T args_of(std::string_view tool, const std::string& args_json) {
  auto r = call(tool, args_json);
  EXPECT_TRUE(r.args) << r.error;
  return std::get<T>(*r.args);
}

/// Checks structured content against the tool's declared outputSchema.
inline void expect_conforms(std::string_view tool, const std::string& json) {
  auto schema = parse(find_tool(tool)->output_schema);
  auto value = parse(json);
  EXPECT_EQ(check_schema(schema, value), "")
    << tool << ": " << json.substr(0, 300);
}

/// A message summary with every usual field set.
inline imap::message_summary summary(uint32_t uid) {
  imap::message_summary s;
  s.uid = uid;
  s.subject = "Subject " + std::to_string(uid);
  s.from = {{"Alice", "alice@example.test"}};
  s.to = {{"", "bob@example.test"}};
  s.date = "2026-01-02T03:04:05Z";
  s.flags = {"\\Seen"};
  s.size = 1234;
  s.message_id = "<" + std::to_string(uid) + "@example.test>";
  return s;
}

/// A part of message `uid` as the ACCOUNT hands it to get_attachment.
inline mime::attachment_content part(uint32_t uid, std::string part_id,
                                     std::string mime_type,
                                     mime::attachment_kind kind,
                                     std::string data) {
  mime::attachment_content p;
  p.uid = uid;
  p.part_id = std::move(part_id);
  p.mime_type = std::move(mime_type);
  p.kind = kind;
  p.size = data.size();
  p.data = std::move(data);
  return p;
}

} // namespace postern::mcp::test
