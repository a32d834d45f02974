// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace postern {

/// Unix seconds now (the test clock when one is set).
int64_t unix_seconds();

/// Unix milliseconds now (the test clock when one is set).
int64_t unix_millis();

/// Monotonic time for throttles, memos and idle timers: steady_clock::now(),
/// or the test clock when one is set.
std::chrono::steady_clock::time_point steady_now();

/// Milliseconds of steady_now() since the clock's epoch.
int64_t steady_millis();

/// Unix seconds as ISO 8601 UTC: "2026-12-05T14:03:00Z".
std::string iso8601_utc(int64_t unix_seconds);

/// Tests only (TEST_CLOCK_FILE): from now on, the clocks above stand still
/// at this moment plus the number of seconds (a decimal, may be fractional)
/// written in `path`; a test moves time forward by writing a larger number.
/// A missing or unreadable file counts as 0. An empty path restores the
/// real clocks. Asio timers (connection timeouts, held responses) keep
/// real time.
void set_test_clock_file(const std::string& path);

/// True while a test clock is set.
bool test_clock_active();

} // namespace postern
