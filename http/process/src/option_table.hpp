// SPDX-License-Identifier: Apache-2.0
#pragma once

// The table behind the command line (command_line.cpp): one entry per
// option, the readers its setters share, and the groups kept in files of
// their own. Internal to the process library.

#include "postern/config.hpp"
#include "postern/error.hpp"
#include "postern/text.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace postern::cli {

// One option: its flag, its environment variable and how to store it.
struct option {
  const char* flag; // "--port"
  const char* env;  // "PORT", or nullptr for flag-only options
  const char* arg;  // placeholder in --help, nullptr for switches
  const char* help;
  std::function<caf::error(config&, const std::string&, bool from_cli)> set;
};

inline caf::error bad(const std::string& what) {
  return caf::make_error(ec::invalid_configuration, what);
}

inline caf::expected<uint64_t> parse_unsigned(const std::string& name,
                                              const std::string& text,
                                              uint64_t max) {
  if (text.empty() || text.size() > 19
      || !std::all_of(text.begin(), text.end(),
                      [](unsigned char c) { return std::isdigit(c); }))
    return bad(name + " must be a whole number, got \"" + text + "\"");
  auto value = std::strtoull(text.c_str(), nullptr, 10);
  if (value > max)
    return bad(name + " must be at most " + std::to_string(max) + ", got "
               + text);
  return static_cast<uint64_t>(value);
}

inline caf::expected<bool> parse_bool(const std::string& name,
                                      const std::string& text) {
  auto lower = ascii_lower(text);
  if (lower == "1" || lower == "true" || lower == "yes" || lower == "on")
    return true;
  if (lower == "0" || lower == "false" || lower == "no" || lower == "off"
      || lower.empty())
    return false;
  return bad(name + " must be true or false, got \"" + text + "\"");
}

template <class T>
auto unsigned_setter(T config::*member, const char* name, uint64_t max) {
  return [=](config& cfg, const std::string& text, bool) -> caf::error {
    auto value = parse_unsigned(name, text, max);
    if (!value)
      return value.error();
    cfg.*member = static_cast<T>(*value);
    return caf::none;
  };
}

inline auto string_setter(std::string config::*member) {
  return [=](config& cfg, const std::string& text, bool) -> caf::error {
    cfg.*member = text;
    return caf::none;
  };
}

inline auto secret_setter(std::optional<secret> config::*member) {
  return
    [=](config& cfg, const std::string& text, bool from_cli) -> caf::error {
      if (text.empty()) {
        (cfg.*member).reset();
        return caf::none;
      }
      cfg.*member = secret{text};
      cfg.secret_on_command_line |= from_cli;
      return caf::none;
    };
}

/// Sign-in at mail providers (Microsoft, Google, MAIL_OAUTH_PROVIDERS) and
/// the lookups that find a new account's settings (mail_setup_options.cpp).
std::vector<option> mail_setup_options();

} // namespace postern::cli
