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

/// Lifetimes of OAuth codes and tokens (OAuth 2.1, RFC 9700).
struct oauth_lifetimes {
  /// Authorization codes are single-use and short-lived (OAuth 2.1
  /// §4.1.2 allows up to 10 minutes; peers use 60 seconds).
  std::chrono::seconds code = std::chrono::seconds(60);
  /// A used code is remembered this long after it expired, so that a
  /// replay still revokes the tokens it issued (OAuth 2.1 §4.1.3).
  std::chrono::seconds used_code_memory = std::chrono::minutes(10);
  std::chrono::seconds access_token = std::chrono::hours(1);
  /// A refresh token dies when unused this long; each rotation starts a
  /// new one...
  std::chrono::seconds refresh_idle = std::chrono::hours(24 * 30);
  /// ...but never outlives its grant, which ends this long after consent.
  std::chrono::seconds grant_cap = std::chrono::hours(24 * 90);
  /// The immediately previous refresh token still works this long after a
  /// rotation (parallel refreshes, lost responses); older ones revoke the
  /// grant.
  std::chrono::seconds refresh_grace = std::chrono::seconds(30);
};

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
  /// Grants (connected agents) one user may hold; a consent beyond it is
  /// refused with ec::too_busy.
  size_t max_grants_per_user = 100;
  /// Entries the sweep examines per write transaction.
  size_t sweep_batch = 1000;
  /// Cache entries unused for this long are dropped by the sweep.
  std::chrono::seconds cache_idle = std::chrono::minutes(10);
  /// Most cached tokens; beyond it the least useful entries go.
  size_t max_cached = 100000;
  /// OAuth code and token lifetimes.
  oauth_lifetimes oauth;
  /// Registered clients never used for a token are removed after an hour
  /// (a registration flood then holds the table only briefly), used ones
  /// after 30 days without use. (Claude registers a new client on every
  /// connection and uses it within minutes.)
  std::chrono::seconds client_unused = std::chrono::hours(1);
  std::chrono::seconds client_idle = std::chrono::hours(24 * 30);
  /// Most registered clients; a full table is swept at most once a minute
  /// before registrations are refused.
  size_t max_clients = 20000;
  /// Longest access token lifetime `issue` accepts (10 years).
  int64_t max_token_ttl = int64_t{10} * 366 * 86400;
  /// A grant's last use is written to LMDB at most this often, batched per
  /// burst of requests (the dashboard's "last used"; `list` adds the newer
  /// in-memory value).
  std::chrono::seconds last_use_interval = std::chrono::minutes(1);
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

  /// When a grant was last used, and when that was last written.
  struct use_mark {
    user_id user;
    /// Unix seconds.
    int64_t seen = 0;
    int64_t stored = 0;
  };

  std::shared_ptr<storage::environment> env;
  token_authority_options opts;
  /// Grant id -> its last use.
  std::unordered_map<std::string, use_mark> uses;
  /// Grant ids whose last use is due to be written by the next flush.
  std::vector<std::string> due_uses;
  /// True while an atom::flush is on its way to the actor.
  bool flush_sent = false;
  /// When registration last swept the clients (clock seconds).
  int64_t last_client_sweep = 0;
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
  caf::error revoke_account(const user_id& user, const grant_id& grant,
                            const account_id& account);
  caf::error set_send_rules(const user_id& user, const grant_id& grant,
                            const send_rules& rules);
  caf::expected<std::vector<grant_info>> grants_of(const user_id& user);

  /// Records a use of a grant; when the last write is older than
  /// `last_use_interval`, queues it for the next flush.
  void note_use(const grant_info& g, int64_t now_s);

  /// Writes the queued last uses in one transaction.
  void flush_uses();

  /// Writes the given uses in one transaction.
  void store_uses(const std::vector<std::string>& ids);

  /// Registers a client: a fresh id, the times, the table cap.
  caf::expected<oauth_client> register_client(oauth_client c);

  /// A registered client; invalid_client if unknown.
  caf::expected<oauth_client> find_client(const std::string& id);

  /// The human names of OAuth clients (empty for unknown ids).
  std::vector<std::string> client_names(const std::vector<std::string>& ids);

  /// Stores an authorization code for an approved consent.
  caf::expected<secret> issue_code(const code_request& req);

  /// The token endpoint's authorization_code grant: checks the code, PKCE,
  /// client, redirect URI and resource, then creates the grant with its
  /// first tokens in the same write transaction that marks the code used.
  caf::expected<token_pair> redeem(const code_exchange& x);

  /// The refresh_token grant: rotation with reuse detection and a grace
  /// window for the immediately previous token.
  caf::expected<token_pair> refresh(const refresh_request& x);

  /// RFC 7009: a refresh token ends its grant, an access token only
  /// itself; unknown tokens are fine.
  caf::error revoke_token(const token_revocation& x);

  /// Sweeps LMDB and trims the cache.
  void sweep();

  /// Makes room before inserting a new cache entry.
  void trim(int64_t now);

  /// Forgets the cached validations of expired grants and the ones unused
  /// for `opts.cache_idle` (the sweep and `trim` both do).
  void forget_stale(int64_t now);
};

/// The TOKEN AUTHORITY behavior.
/// @param self The actor handle.
/// @param env The process's LMDB environment.
/// @param opts Intervals, limits and the clock.
token_authority_actor::behavior_type token_authority(
  token_authority_actor::stateful_pointer<token_authority_state> self,
  std::shared_ptr<storage::environment> env, token_authority_options opts);

/// Spawns the TOKEN AUTHORITY.
token_authority_actor
spawn_token_authority(caf::actor_system& sys,
                      std::shared_ptr<storage::environment> env,
                      token_authority_options opts = {});

} // namespace postern
