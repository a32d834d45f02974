// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace postern::http {

/// The key throttles use for a client address: the address itself for
/// IPv4, its /64 for IPv6 (one subscriber usually holds a whole /64, so
/// per-address keys would let one party mint endless fresh keys).
std::string address_bucket(std::string_view address);

/// Slows down password guessing, per client address and per username.
///
/// Every attempt counts when it starts (so a burst of parallel guesses is
/// throttled too) and a successful one is refunded. After `free` attempts
/// a key must wait `base` before the next, then twice as long after each
/// further attempt, up to a cap; a key is forgotten after `forget_after`
/// without attempts. Nobody ever sleeps: a throttled request is answered
/// with 429 and Retry-After, held back a second on a timer (hold_response)
/// so that a loop ignoring Retry-After cannot turn refusals into a flood;
/// the delay costs the server nothing and never slows anyone else.
/// Thread-safe.
class login_throttle {
public:
  struct rule {
    /// Attempts before any delay.
    unsigned free = 5;
    /// The first delay; doubles with every further attempt.
    std::chrono::seconds base{1};
    /// The longest delay.
    std::chrono::seconds cap{std::chrono::minutes(15)};
  };

  struct options {
    /// Per client address: a shared NAT may hold many honest people.
    rule per_address{20, std::chrono::seconds(1), std::chrono::minutes(5)};
    /// Per username (case-insensitive).
    rule per_username{5, std::chrono::seconds(1), std::chrono::minutes(15)};
    /// A key without attempts for this long starts afresh.
    std::chrono::seconds forget_after{std::chrono::hours(1)};
    /// Bound on remembered keys (memory); the oldest go first.
    size_t max_keys = 100000;
  };

  /// Milliseconds on a monotonic clock.
  using clock = std::function<int64_t()>;

  /// The default rules on the steady clock.
  login_throttle();

  explicit login_throttle(options opts, clock now = {});

  /// Starts an attempt: 0 if it may go ahead (and it is counted), else the
  /// seconds to wait (rounded up, at least 1; nothing is counted). An
  /// empty username counts against the address only (sign-ups). A
  /// `device` (the id of a valid device cookie for this username, from an
  /// earlier successful login) replaces the username's record with the
  /// device's own, under the same rule: someone keeping the username
  /// locked from elsewhere does not lock out its owner's browser, and
  /// guesses with a stolen device cookie are throttled on their own.
  int64_t begin(std::string_view address, std::string_view username,
                std::string_view device = {});

  /// Ends an attempt begun with begin(): a success refunds it and clears
  /// the username's (and the device's) record.
  void finish(std::string_view address, std::string_view username, bool success,
              std::string_view device = {});

  /// Seconds until `username` (or `address`) may try again; 0 if now.
  int64_t wait_seconds(std::string_view address,
                       std::string_view username) const;

  /// Remembered keys (tests, status).
  size_t size() const;

private:
  struct entry {
    unsigned attempts = 0;
    int64_t last_ms = 0;
    int64_t next_ms = 0;
  };

  int64_t now_ms() const;
  int64_t wait_ms(const std::string& key, int64_t now) const;
  void count(const std::string& key, const rule& r, int64_t now);
  void prune(int64_t now);
  static std::string address_key(std::string_view address);
  static std::string username_key(std::string_view username);
  static std::string device_key(std::string_view device);

  options opts_;
  clock now_;
  mutable std::mutex mtx_;
  std::unordered_map<std::string, entry> entries_;
};

} // namespace postern::http
