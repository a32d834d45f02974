// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <caf/expected.hpp>

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The tools' schema files (protocol/tools/src/schemas/, embedded at build
// time like the ui's assets): one `<tool>.json` per tool holding its title,
// description, inputSchema and outputSchema, and `common.json` holding the
// pieces several tools share. `{"$use": "name"}` anywhere in a file stands
// for the piece `name` of common.json, so a shared piece (and the default it
// carries) is written once.

namespace postern::mcp {

/// What tools/list shows of one tool's schema file, resolved and compact.
struct tool_schema {
  std::string title;
  std::string description;
  /// JSON text without `$use`, as it goes into tools/list.
  std::string input;
  std::string output;
};

/// Schema files by name ("common.json", "list_folders.json", ...).
using schema_files = std::vector<std::pair<std::string_view, std::string_view>>;

/// Parses and checks the schema file of each tool in `tools`: JSON that
/// parses, exactly the four members, object schemas, every `$use` known,
/// every `default` valid for its property, and no file left unused. Fails
/// with `ec::invalid_configuration` naming the file and the problem.
caf::expected<std::map<std::string, tool_schema, std::less<>>>
load_tool_schemas(const schema_files& files,
                  const std::vector<std::string_view>& tools);

namespace detail {

/// The files of protocol/tools/src/schemas/, sorted by name (generated).
extern const schema_files tool_schema_files;

} // namespace detail

} // namespace postern::mcp
