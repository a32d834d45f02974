// SPDX-License-Identifier: Apache-2.0
#include "admin_support.hpp"

#include "postern/error.hpp"

#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>

namespace postern::admin {

/// `known` are the flags that take a value, `switches` those that stand
/// alone (present: "yes").
caf::expected<arguments>
parse_arguments(const std::vector<std::string>& args, size_t first,
                const std::vector<std::string>& known,
                const std::vector<std::string>& switches) {
  arguments result;
  for (size_t i = first; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a.rfind("--", 0) != 0) {
      result.positional.push_back(a);
      continue;
    }
    auto eq = a.find('=');
    auto name = a.substr(2,
                         eq == std::string::npos ? std::string::npos : eq - 2);
    if (std::find(switches.begin(), switches.end(), name) != switches.end()) {
      if (eq != std::string::npos)
        return caf::make_error(ec::invalid_argument,
                               "--" + name + " takes no value");
      result.flags[name] = "yes";
      continue;
    }
    if (std::find(known.begin(), known.end(), name) == known.end())
      return caf::make_error(ec::invalid_argument, "unknown option --" + name);
    if (eq != std::string::npos)
      result.flags[name] = a.substr(eq + 1);
    else if (i + 1 < args.size())
      result.flags[name] = args[++i];
    else
      return caf::make_error(ec::invalid_argument,
                             "--" + name + " needs a value");
  }
  return result;
}

/// Reads one line; with a terminal, prompts without echo.
std::optional<std::string> read_secret_line(std::istream& in, std::ostream& err,
                                            const char* prompt) {
  bool tty = &in == &std::cin && isatty(STDIN_FILENO);
  termios old_mode{};
  if (tty) {
    err << prompt << std::flush;
    tcgetattr(STDIN_FILENO, &old_mode);
    auto silent = old_mode;
    silent.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &silent);
  }
  std::string line;
  bool ok = static_cast<bool>(std::getline(in, line));
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSANOW, &old_mode);
    err << "\n";
  }
  if (!ok)
    return std::nullopt;
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  return line;
}

/// A decimal number above 0 of at most `max_digits` digits (so it cannot
/// overflow), or nothing.
std::optional<int64_t> parse_positive(const std::string& text,
                                      size_t max_digits) {
  if (text.empty() || text.size() > max_digits
      || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  auto n = std::stoll(text);
  if (n == 0)
    return std::nullopt;
  return n;
}

/// Starts the node and finds the user named on the command line: the
/// first steps of every command about one user.
caf::expected<user_info> start_and_find_user(local_node& s, config& cfg,
                                             const std::string& username) {
  if (auto e = s.start(cfg))
    return e;
  return s.ask<user_info>(s.actors().directory, atom::find_user_v, username);
}

int fail(std::ostream& err, const caf::error& e) {
  err << "postern admin: " << describe(e) << "\n";
  return e == ec::invalid_argument ? 2 : 1;
}

} // namespace postern::admin
