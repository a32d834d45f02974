// SPDX-License-Identifier: Apache-2.0
#pragma once

// The command line and environment of the postern process: every option
// (environment variable and flag) in one table, parsed into a `config`,
// checked, and explained by `postern --help`. Only the programs link this
// (main.cpp, test tools): the libraries receive a finished `config`.

#include "postern/config.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace postern {

/// What the command line asked for.
enum class command {
  serve,
  help,
  version,
  /// `postern admin ...`: operator commands (see admin_commands.hpp).
  admin,
};

struct parsed_command_line {
  command what = command::serve;
  config cfg;
  /// The arguments after `admin`, for the admin command parser.
  std::vector<std::string> admin_args;
};

/// Looks up an environment variable; returns nullopt when unset.
using env_lookup = std::function<std::optional<std::string>(const char*)>;

/// The process environment.
env_lookup process_environment();

/// Builds the configuration from environment and arguments (without argv[0])
/// and validates it. Errors are sentences naming the variable or flag, never
/// echoing a secret value.
caf::expected<parsed_command_line>
parse_command_line(const std::vector<std::string>& args, const env_lookup& env);

/// Checks ranges and formats; called by parse_command_line.
caf::error validate(const config& cfg);

/// The text of `postern --help`.
std::string usage();

} // namespace postern
