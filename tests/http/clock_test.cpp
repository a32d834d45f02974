// SPDX-License-Identifier: Apache-2.0
#include "postern/clock.hpp"
#include "postern/http/login_throttle.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace {

/// A clock file in /tmp, with the test clock set for the test's duration.
struct test_clock_fixture : ::testing::Test {
  std::string path = "/tmp/postern-clock-test-" + std::to_string(::getpid());

  void SetUp() override {
    write("0");
    postern::set_test_clock_file(path);
  }

  void TearDown() override {
    postern::set_test_clock_file("");
    std::remove(path.c_str());
  }

  void write(const std::string& seconds) {
    std::ofstream{path, std::ios::trunc} << seconds << "\n";
  }
};

} // namespace

TEST_F(test_clock_fixture, stands_still_until_the_file_moves_it) {
  ASSERT_TRUE(postern::test_clock_active());
  auto unix0 = postern::unix_millis();
  auto steady0 = postern::steady_millis();
  // Real time passes; the test clock does not.
  ::usleep(20000);
  EXPECT_EQ(postern::unix_millis(), unix0);
  EXPECT_EQ(postern::steady_millis(), steady0);
  write("2.5");
  EXPECT_EQ(postern::unix_millis(), unix0 + 2500);
  EXPECT_EQ(postern::steady_millis(), steady0 + 2500);
  EXPECT_EQ(postern::unix_seconds(), (unix0 + 2500) / 1000);
  // Decimals that binary floating point cannot hold are rounded, not cut.
  write("1.001"); // 1000.999… in binary
  EXPECT_EQ(postern::steady_millis(), steady0 + 1001);
  write("0.001");
  EXPECT_EQ(postern::steady_millis(), steady0 + 1);
  // Garbage, negative numbers and a missing file count as 0.
  write("soon");
  EXPECT_EQ(postern::steady_millis(), steady0);
  write("-5");
  EXPECT_EQ(postern::steady_millis(), steady0);
  std::remove(path.c_str());
  EXPECT_EQ(postern::steady_millis(), steady0);
}

TEST_F(test_clock_fixture, an_empty_path_restores_the_real_clock) {
  auto frozen = postern::steady_millis();
  postern::set_test_clock_file("");
  EXPECT_FALSE(postern::test_clock_active());
  ::usleep(20000);
  EXPECT_GE(postern::steady_millis(), frozen + 20);
}

TEST_F(test_clock_fixture, the_login_throttle_follows_the_test_clock) {
  postern::http::login_throttle::options opts;
  opts.per_username = {1, std::chrono::seconds(10), std::chrono::minutes(1)};
  postern::http::login_throttle throttle{opts};
  EXPECT_EQ(throttle.begin("10.0.0.1", "alice"), 0);
  throttle.finish("10.0.0.1", "alice", false);
  EXPECT_EQ(throttle.begin("10.0.0.2", "alice"), 10);
  // However long the machine takes, the wait holds until time is moved.
  ::usleep(20000);
  EXPECT_EQ(throttle.begin("10.0.0.2", "alice"), 10);
  write("9.5");
  EXPECT_EQ(throttle.begin("10.0.0.2", "alice"), 1);
  write("10");
  EXPECT_EQ(throttle.begin("10.0.0.2", "alice"), 0);
}
