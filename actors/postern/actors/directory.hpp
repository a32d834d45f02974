// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/actors/account_rules.hpp"
#include "postern/actors/directory_actor.hpp"
#include "postern/actors/hasher_actor.hpp"
#include "postern/actors/vault_actor.hpp"
#include "postern/host_policy.hpp"
#include "postern/storage/directory_store.hpp"
#include "postern/storage/environment.hpp"

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include <chrono>
#include <memory>
#include <vector>

namespace postern {

/// What the DIRECTORY needs to know about the operator's choices.
struct directory_options {
  signup_policy signup = signup_policy::open;
  host_policy hosts = host_policy::deny_private();
  std::chrono::seconds session_ttl = std::chrono::hours(24);
  /// Most email accounts one user may add.
  size_t max_accounts_per_user = 20;
  /// How often expired sessions and invites are swept; zero turns the
  /// timer off (deterministic tests send atom::tick themselves).
  std::chrono::seconds sweep_interval = std::chrono::minutes(10);
  /// Audit events older than this are pruned by the sweep (in batches of
  /// `audit_batch` per transaction, so writers never wait long); zero
  /// keeps them forever.
  std::chrono::seconds audit_retention = std::chrono::hours(24 * 90);
  size_t audit_batch = 1000;
};

/// State of the DIRECTORY; lives exactly as long as the actor.
struct directory_state {
  static inline const char* name = "directory";

  std::shared_ptr<storage::environment> env;
  vault_actor vault;
  std::vector<hasher_actor> hashers;
  size_t next_hasher = 0;
  directory_options opts;
  /// A real Argon2id hash of a random password: unknown usernames are
  /// verified against it, so they cost as much time as wrong passwords.
  std::string dummy_hash;

  /// The next HASHER, round-robin.
  hasher_actor pick_hasher();

  // -- synchronous parts (LMDB), called from the handlers ---------------------

  caf::expected<user_info> store_user(const std::string& username,
                                      const std::string& password_hash,
                                      const std::string& invite_code);
  caf::expected<session_grant> open_session(const user_info& user);
  caf::expected<user_info> resolve_session(const std::string& token);
  caf::error end_session(const std::string& token);
  caf::expected<storage::user_record> lookup_user(const std::string& username);
  caf::expected<user_info> lookup_user(const user_id& id);
  caf::expected<session_grant> replace_password(const user_id& user,
                                                const std::string& new_hash);
  caf::error remove_user(const user_id& user);
  /// Stores settings and, when given, sealed credentials in one write
  /// transaction. On an update, `typed` (the passwords typed with the
  /// edit) is checked against the stored servers in that transaction
  /// (check_passwords_follow_servers). Credentials sealed under a key
  /// another process has since rotated away are refused: `*stale_key` (if
  /// given) is then set and the caller seals again.
  caf::expected<account_settings>
  store_account(account_settings settings, const sealed_credentials* creds,
                bool is_new, const account_credentials* typed,
                bool* stale_key = nullptr);
  caf::expected<account_settings> lookup_account(const user_id& user,
                                                 const account_id& account);
  /// An OAuth account's sign-in changed, in one write transaction: the
  /// sealed refresh token when given (a rotation or a new sign-in; refused
  /// like store_account's under a stale key), and whether the person must
  /// sign in again. Only these change: an edit of the account that races
  /// a refresh keeps its settings.
  caf::expected<account_settings>
  record_signin(const user_id& user, const account_id& account,
                const sealed_credentials* creds, bool needs_signin,
                bool* stale_key = nullptr);
  caf::expected<std::vector<account_settings>>
  all_accounts(const user_id& user);
  caf::error remove_account(const user_id& user, const account_id& account);
  void record(audit_event event);
  void record_all(std::vector<audit_event> events);
  caf::expected<std::vector<audit_event>> audit_of(const user_id& user,
                                                   uint64_t limit);
  caf::expected<std::string> create_invite(int64_t ttl_seconds);
  caf::error check_invite(const std::string& code) const;
  void sweep();

  /// Removes audit events older than opts.audit_retention, in bounded
  /// transactions.
  void prune_audit();
};

/// The DIRECTORY behavior.
directory_actor::behavior_type
directory(directory_actor::stateful_pointer<directory_state> self,
          std::shared_ptr<storage::environment> env, vault_actor vault,
          std::vector<hasher_actor> hashers, directory_options opts,
          std::string dummy_hash);

/// Spawns the DIRECTORY with its HASHER pool.
caf::expected<directory_actor>
spawn_directory(caf::actor_system& sys,
                std::shared_ptr<storage::environment> env, vault_actor vault,
                directory_options opts, size_t hasher_count = 0,
                bool background_hashing = false);

} // namespace postern
