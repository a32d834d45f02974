// SPDX-License-Identifier: Apache-2.0
#pragma once

// The test mail environment (Dovecot + Postfix on loopback) as the CTest
// fixture `mail_servers` describes it: tests/mail/fixture.sh writes
// KEY=VALUE lines to ports.env, and postern_mail_test()
// (cmake/PosternTesting.cmake) points $POSTERN_MAIL_ENV at that file. Keys: see
// tests/mail/README.md.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

namespace postern::test {

class mail_env {
public:
  /// Reads the file named by $POSTERN_MAIL_ENV; fails the current test with
  /// an explanation when the variable is unset or the file unreadable. Call
  /// as `ASSERT_NO_FATAL_FAILURE(env.load());`.
  void load() {
    const char* path = std::getenv("POSTERN_MAIL_ENV");
    ASSERT_TRUE(path != nullptr && *path != '\0')
      << "POSTERN_MAIL_ENV is not set. Run this test through ctest (it needs "
         "the fixture mail_servers, e.g. `ctest --preset dev -L integration`),"
         " or start the servers by hand with `tests/mail/fixture.sh start DIR`"
         " and export POSTERN_MAIL_ENV=DIR/ports.env.";
    std::ifstream in(path);
    ASSERT_TRUE(in.good())
      << "cannot read POSTERN_MAIL_ENV=" << path
      << ": did the test mail_servers.start (tests/mail/fixture.sh) fail?";
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r')
        line.pop_back();
      auto eq = line.find('=');
      if (line.empty() || line[0] == '#' || eq == std::string::npos)
        continue;
      values_[line.substr(0, eq)] = line.substr(eq + 1);
    }
    ASSERT_FALSE(values_.empty()) << path << " holds no KEY=VALUE lines";
    path_ = path;
  }

  bool has(const std::string& key) const {
    return values_.count(key) > 0;
  }

  /// The value of `key`; records a test failure and returns "" if missing.
  std::string get(const std::string& key) const {
    auto i = values_.find(key);
    if (i != values_.end())
      return i->second;
    ADD_FAILURE() << "no " << key << " in " << path_;
    return {};
  }

  /// A port number; records a test failure and returns 0 if not valid.
  uint16_t port(const std::string& key) const {
    auto text = get(key);
    char* end = nullptr;
    auto value = std::strtoul(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || value == 0 || value > 65535) {
      ADD_FAILURE() << key << "=" << text << " in " << path_
                    << " is not a port";
      return 0;
    }
    return static_cast<uint16_t>(value);
  }

  const std::map<std::string, std::string>& values() const noexcept {
    return values_;
  }

private:
  std::string path_ = "(not loaded)";
  std::map<std::string, std::string> values_;
};

} // namespace postern::test
