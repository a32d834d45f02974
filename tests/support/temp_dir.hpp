// SPDX-License-Identifier: Apache-2.0
#pragma once

// A fresh directory for one test (an LMDB environment, key files), removed
// with everything in it when the test is done.

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace postern::test {

class temp_dir {
public:
  /// Makes /tmp/<prefix>-XXXXXX; throws when it cannot (the test fails).
  explicit temp_dir(const std::string& prefix = "postern") {
    std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed for " + tmpl);
    path_ = tmpl;
  }

  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const noexcept {
    return path_;
  }

private:
  std::string path_;
};

} // namespace postern::test
