// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/clock.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace postern::http {

/// The MCP sessions (Mcp-Session-Id) of the server, in memory.
///
/// A session belongs to the grant that created it: it is stored in the
/// shard of that grant and found only with the same grant, so another
/// token's request for it gets "unknown" (404) — no separate check can be
/// forgotten. Sessions end after an idle time; each grant holds at most
/// `per_grant` of them (its least recently used one ends first), each user
/// at most `per_user` over all their grants, and the whole table at most
/// `max_total`. A full table or a user at their quota refuses the new
/// session; nobody else's session is ever ended to make room. Thread-safe;
/// every operation locks one shard briefly (and the per-user counts).
class mcp_session_table {
public:
  using clock = std::chrono::steady_clock;

  struct session {
    /// The grant ("user/grant") that created it.
    std::string grant;
    /// The protocol version agreed in initialize.
    std::string protocol_version;
    /// clientInfo.name from initialize, for logs (unauthenticated).
    std::string client_name;
    /// The client declared URL-mode elicitation (capabilities.elicitation
    /// .url): Postern may ask its person to open a page.
    bool url_elicitation = false;
    bool initialized = false;
    clock::time_point last_used;
  };

  mcp_session_table(std::chrono::seconds idle, size_t per_grant,
                    size_t max_total = 100000, size_t per_user = 64);

  /// Why create() refused.
  enum class refusal {
    none,
    /// The whole table is full.
    table_full,
    /// The grant's user holds `per_user` sessions already.
    user_full,
  };

  /// Creates a session and returns its id (256 random bits, base64url), or
  /// nullopt when the table is full or the user is at their quota (`why`
  /// says which).
  std::optional<std::string>
  create(const std::string& grant, std::string protocol_version,
         std::string client_name, clock::time_point now = steady_now(),
         refusal* why = nullptr, bool url_elicitation = false);

  /// The session if it exists, belongs to `grant` and is not idle-expired;
  /// refreshes its idle timer.
  std::optional<session> touch(const std::string& id, const std::string& grant,
                               clock::time_point now = steady_now());

  /// Marks the session initialized (notifications/initialized).
  void mark_initialized(const std::string& id, const std::string& grant);

  /// Ends a session of `grant`; false if there was none.
  bool remove(const std::string& id, const std::string& grant);

  /// Ends every session of a grant (it was revoked).
  size_t remove_grant(const std::string& grant);

  /// Drops idle sessions of every shard.
  void purge(clock::time_point now = steady_now());

  size_t size() const;

private:
  static constexpr size_t shard_count = 16;

  struct shard {
    mutable std::mutex mtx;
    std::unordered_map<std::string, session> sessions;
    std::unordered_map<std::string, size_t> per_grant;
    clock::time_point last_purge{};
  };

  shard& shard_of(const std::string& grant);
  void purge_locked(shard& s, clock::time_point now);
  void erase_locked(shard& s,
                    std::unordered_map<std::string, session>::iterator i);

  /// The user part of a grant key ("user/grant").
  static std::string user_of(const std::string& grant);

  std::chrono::steady_clock::duration idle_;
  size_t per_grant_;
  size_t max_total_;
  size_t per_user_;
  std::array<shard, shard_count> shards_;
  // Locked after a shard's mutex, never before.
  std::mutex users_mtx_;
  std::unordered_map<std::string, size_t> per_user_count_;
};

/// A token bucket per key (grant): `per_minute` calls per minute on
/// average, bursts of up to `per_minute`. Thread-safe, bounded (idle
/// buckets are dropped).
class rate_limiter {
public:
  using clock = std::chrono::steady_clock;

  /// 0 turns the limit off.
  explicit rate_limiter(unsigned per_minute);

  struct verdict {
    bool allowed = true;
    /// Whole seconds until a call will be allowed again (when refused).
    int64_t retry_after = 0;
    /// True for the first refusal after an allowed call (worth an audit
    /// entry; repeats are not).
    bool first_refusal = false;
  };

  verdict acquire(const std::string& key, clock::time_point now = steady_now());

  unsigned per_minute() const {
    return per_minute_;
  }

private:
  struct bucket {
    double tokens = 0;
    clock::time_point updated;
    bool refused = false;
  };

  unsigned per_minute_;
  std::mutex mtx_;
  std::unordered_map<std::string, bucket> buckets_;
  clock::time_point last_purge_{};
};

} // namespace postern::http
