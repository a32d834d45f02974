// SPDX-License-Identifier: Apache-2.0
#pragma once

// The project's test clock (postern::set_test_clock_file) for one test:
// from construction on, unix_seconds(), steady_now() and the rest of
// postern/clock.hpp stand still until the test moves them, so a test of
// an interval or an age moves time instead of sleeping through it. Asio
// and CAF timers keep real time.

#include "postern/clock.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

namespace postern::test {

class test_clock {
public:
  test_clock() : file_(dir_.path() + "/clock") {
    write();
    set_test_clock_file(file_);
  }

  ~test_clock() {
    set_test_clock_file("");
  }

  test_clock(const test_clock&) = delete;
  test_clock& operator=(const test_clock&) = delete;

  /// Moves the clocks forward by `d`.
  void advance(std::chrono::milliseconds d) {
    elapsed_ += d;
    write();
  }

  /// How far the clocks have moved since construction.
  std::chrono::milliseconds elapsed() const {
    return elapsed_;
  }

private:
  /// Writes the offset in seconds (the clock rounds it to milliseconds). A
  /// rename replaces the file at once, so a reader on another thread never
  /// sees it half written.
  void write() {
    auto tmp = file_ + ".new";
    char text[32];
    std::snprintf(text, sizeof(text), "%.3f\n",
                  static_cast<double>(elapsed_.count()) / 1000.0);
    std::ofstream{tmp, std::ios::trunc} << text;
    if (std::rename(tmp.c_str(), file_.c_str()) != 0)
      throw std::runtime_error("cannot write the test clock " + file_);
  }

  temp_dir dir_{"postern-clock"};
  std::string file_;
  std::chrono::milliseconds elapsed_{0};
};

} // namespace postern::test
