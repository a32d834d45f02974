// SPDX-License-Identifier: Apache-2.0
#include "postern/clock.hpp"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <mutex>
#include <vector>

namespace postern {

namespace {

/// The frozen origin of a test clock and the file that moves it.
struct test_clock {
  std::string path;
  int64_t unix_ms = 0;
  std::chrono::steady_clock::time_point steady;
};

// Set once at startup by tests; read on every clock call. Clocks are never
// freed (kept in `all`), so a reader never sees a dangling one.
std::atomic<const test_clock*> current{nullptr};
std::mutex all_mtx;
auto* all = new std::vector<std::unique_ptr<test_clock>>;

/// The offset in milliseconds written in the clock file.
int64_t offset_ms(const test_clock& c) {
  std::unique_ptr<FILE, int (*)(FILE*)> f{std::fopen(c.path.c_str(), "r"),
                                          &std::fclose};
  if (!f)
    return 0;
  char buf[64] = {};
  auto n = std::fread(buf, 1, sizeof(buf) - 1, f.get());
  buf[n] = '\0';
  auto seconds = std::strtod(buf, nullptr);
  if (!(seconds > 0) || seconds > 1e9)
    return 0;
  return std::llround(seconds * 1000.0); // "1.001" is 1000.999… in binary
}

int64_t real_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace

int64_t unix_millis() {
  if (auto c = current.load(std::memory_order_acquire))
    return c->unix_ms + offset_ms(*c);
  return real_unix_ms();
}

int64_t unix_seconds() {
  return unix_millis() / 1000;
}

std::chrono::steady_clock::time_point steady_now() {
  if (auto c = current.load(std::memory_order_acquire))
    return c->steady + std::chrono::milliseconds(offset_ms(*c));
  return std::chrono::steady_clock::now();
}

int64_t steady_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           steady_now().time_since_epoch())
    .count();
}

void set_test_clock_file(const std::string& path) {
  if (path.empty()) {
    current.store(nullptr, std::memory_order_release);
    return;
  }
  std::lock_guard<std::mutex> guard{all_mtx};
  all->push_back(std::make_unique<test_clock>(
    test_clock{path, real_unix_ms(), std::chrono::steady_clock::now()}));
  current.store(all->back().get(), std::memory_order_release);
}

bool test_clock_active() {
  return current.load(std::memory_order_acquire) != nullptr;
}

std::string iso8601_utc(int64_t unix_seconds) {
  auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  auto n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string{buf, n};
}

} // namespace postern
