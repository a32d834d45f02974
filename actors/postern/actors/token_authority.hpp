// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/actors/token_authority_actor.hpp"
#include "postern/storage/environment.hpp"

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace postern {

/// What the TOKEN AUTHORITY needs to know about the operator's choices.
struct token_authority_options {
  /// A cached token is re-read from LMDB after this long, so grants,
  /// tokens or accounts removed by another process (`postern admin`) stop
  /// working within this interval. Removals in this process are seen at
  /// once (storage::grants_epoch).
  std::chrono::milliseconds recheck_interval = std::chrono::seconds(2);
  /// How often expired tokens and grants are swept; zero turns the timer
  /// off (deterministic tests send atom::tick themselves).
  std::chrono::seconds sweep_interval = std::chrono::minutes(10);
  /// Cache entries unused for this long are dropped by the sweep.
  std::chrono::seconds cache_idle = std::chrono::minutes(10);
  /// Most cached tokens; beyond it the least useful entries go.
  size_t max_cached = 100000;
  /// Longest access token lifetime `issue` accepts (10 years).
  int64_t max_token_ttl = int64_t{10} * 366 * 86400;
  /// Unix milliseconds; tests inject their own clock.
  std::function<int64_t()> clock;
};

/// State of the TOKEN AUTHORITY; lives exactly as long as the actor.
struct token_authority_state {
  static inline const char* name = "token-authority";

  /// One validated token in memory.
  struct entry {
    access_grant grant;
    /// When LMDB last confirmed it (clock ms).
    int64_t checked_ms = 0;
    /// storage::grants_epoch() read before that confirmation.
    uint64_t epoch = 0;
    /// Last validate (clock ms), for trimming.
    int64_t used_ms = 0;
  };

  std::shared_ptr<storage::environment> env;
  token_authority_options opts;
  /// SHA-256(token) -> entry.
  std::unordered_map<std::string, entry> cache;
  /// LMDB reads done by validate (tests check the memory path).
  uint64_t lmdb_reads = 0;

  int64_t now_ms() const;

  /// The hot path: memory first, LMDB on a miss or a stale entry.
  caf::expected<access_grant> validate(const std::string& digest,
                                       const std::string& resource);

  /// Reads token, grant and account in one read transaction.
  caf::expected<access_grant> load(const std::string& digest, int64_t now_s);

  caf::expected<issued_token> issue(const grant_request& req);
  caf::error revoke(const user_id& user, const grant_id& grant);
  caf::expected<std::vector<grant_info>> grants_of(const user_id& user);

  /// Sweeps LMDB and trims the cache.
  void sweep();

  /// Makes room before inserting a new cache entry.
  void trim(int64_t now);
};

/// The TOKEN AUTHORITY behavior.
/// @param self The actor handle.
/// @param env The process's LMDB environment.
/// @param opts Intervals, limits and the clock.
token_authority_actor::behavior_type
token_authority(token_authority_actor::stateful_pointer<token_authority_state> self,
                std::shared_ptr<storage::environment> env,
                token_authority_options opts);

/// Spawns the TOKEN AUTHORITY.
token_authority_actor
spawn_token_authority(caf::actor_system& sys,
                      std::shared_ptr<storage::environment> env,
                      token_authority_options opts = {});

} // namespace postern
