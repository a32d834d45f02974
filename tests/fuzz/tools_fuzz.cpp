// SPDX-License-Identifier: Apache-2.0
// The argument parser of every tool (mcp::parse_arguments, through the
// public API: a later split of tools.cpp changes nothing here). Input: the
// first byte picks the tool of tool_catalogue(); the rest is the JSON of
// its `arguments` (parsed as the endpoint parses a request), or no
// arguments at all when it is empty.
#include "fuzz_check.hpp"
#include "postern/mcp/bounded_parse.hpp"
#include "postern/mcp/tools.hpp"
#include "postern/mime/charset.hpp"

#include <cstdint>

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  auto& tools = mcp::tool_catalogue();
  auto& tool = tools[data[0] % tools.size()];
  auto json = fuzz::as_text(data + 1, size - 1);
  rapidjson::Document doc;
  const rapidjson::Value* arguments = nullptr;
  if (!json.empty()) {
    if (!mcp::parse_bounded(doc, json))
      return 0;
    arguments = &doc;
  }
  auto parsed = mcp::parse_arguments(tool, arguments);
  fuzz::require(parsed.args.has_value() != !parsed.error.empty(),
                "either arguments or an error");
  fuzz::require(mime::is_valid_utf8(parsed.error), "the error is UTF-8");
  if (!parsed.error.empty())
    (void) mcp::tool_failure(parsed.error);
  return 0;
}
