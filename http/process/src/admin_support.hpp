// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the `postern admin` commands share: their arguments, secrets read
// from standard input, the node they start, how they fail; and the
// commands kept in files of their own (admin_accounts.cpp). Internal to
// the process library.

#include "postern/config.hpp"
#include "postern/directory_types.hpp"
#include "postern/process/local_node.hpp"

#include <caf/expected.hpp>

#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace postern::admin {

/// Flags of one admin command: "--name value" pairs and positionals.
struct arguments {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;

  std::optional<std::string> flag(const std::string& name) const {
    if (auto i = flags.find(name); i != flags.end())
      return i->second;
    return std::nullopt;
  }
};

/// `known` are the flags that take a value, `switches` those that stand
/// alone (present: "yes").
caf::expected<arguments>
parse_arguments(const std::vector<std::string>& args, size_t first,
                const std::vector<std::string>& known,
                const std::vector<std::string>& switches = {});

/// Reads one line; with a terminal, prompts without echo.
std::optional<std::string> read_secret_line(std::istream& in, std::ostream& err,
                                            const char* prompt);

/// A decimal number above 0 of at most `max_digits` digits (so it cannot
/// overflow), or nothing.
std::optional<int64_t> parse_positive(const std::string& text,
                                      size_t max_digits);

/// Starts the node and finds the user named on the command line: the
/// first steps of every command about one user.
caf::expected<user_info> start_and_find_user(local_node& s, config& cfg,
                                             const std::string& username);

/// Prints the error's sentence; the exit code (2 for a usage error).
int fail(std::ostream& err, const caf::error& e);

/// add-account, with passwords or (--auth oauth2) a provider's sign-in.
int add_account(config& cfg, const arguments& a, std::istream& in,
                std::ostream& out, std::ostream& err);

} // namespace postern::admin
