// SPDX-License-Identifier: Apache-2.0
#pragma once

// What postern-bench runs beside or instead of the MCP load: a flood of
// wrong-password logins (does it slow MCP clients down?) and a trivial
// responder (how fast is the load generator itself?).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace postern::bench {

/// Parallel loops that each fetch the login form (for its CSRF token) and
/// post a wrong password, as fast as the server answers. With `spoof`, every
/// attempt uses another username and another X-Forwarded-For address (a
/// distributed attack; only meaningful when the server trusts the proxy
/// header), so the per-address and per-username throttles do not cut it off
/// and every attempt costs a password hash.
class login_flood {
public:
  login_flood(std::string host, std::string port, std::string username,
              bool spoof);
  ~login_flood();

  void start(unsigned loops);
  void stop();

  uint64_t attempts() const noexcept {
    return attempts_.load();
  }
  /// 401 answers: a password was checked.
  uint64_t rejected() const noexcept {
    return rejected_.load();
  }
  /// 429 answers: the throttle refused without checking.
  uint64_t throttled() const noexcept {
    return throttled_.load();
  }
  uint64_t other() const noexcept {
    return other_.load();
  }

private:
  void loop(unsigned seed);

  std::string host_;
  std::string port_;
  std::string username_;
  bool spoof_;
  std::atomic<bool> running_{false};
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> attempts_{0};
  std::atomic<uint64_t> rejected_{0};
  std::atomic<uint64_t> throttled_{0};
  std::atomic<uint64_t> other_{0};
};

/// Serves every request on 127.0.0.1:`port` with a fixed MCP-shaped answer
/// of about `body_bytes` (a session id header, a JSON-RPC result) from one
/// thread, for `seconds` -- the ceiling of the load generator when pointed
/// at it with `postern-bench run`.
int trivial_responder(uint16_t port, size_t body_bytes, unsigned seconds);

} // namespace postern::bench
