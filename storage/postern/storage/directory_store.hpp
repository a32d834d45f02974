// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/account.hpp"
#include "postern/directory_types.hpp"
#include "postern/storage/environment.hpp"

#include <optional>
#include <string>
#include <vector>

namespace postern::storage {

/// A user as stored: the info plus the password hash.
struct user_record {
  user_info info;
  /// Argon2id encoded hash.
  std::string password_hash;
};

/// A web session as stored under SHA-256 of its cookie value.
struct session_record {
  user_id user;
  int64_t created_at = 0;
  int64_t expires_at = 0;
};

// -- encoding -----------------------------------------------------------------

std::string encode(const user_record& x);
user_record decode_user(std::string_view bytes);
std::string encode(const account_settings& x);
account_settings decode_account(std::string_view bytes);
std::string encode(const session_record& x);
session_record decode_session(std::string_view bytes);
std::string encode(const audit_event& x);
audit_event decode_audit(std::string_view bytes);

// -- keys ---------------------------------------------------------------------

/// Usernames are unique without regard to case.
std::string username_key(std::string_view username);

/// accounts: user id + '/' + account id, so a user's accounts are a prefix.
std::string account_key(const user_id& user, const account_id& account);

/// audit: user id + '/' + big-endian ms + sequence + 2 random bytes
/// (ordered within a process, unique across processes, newest last).
std::string audit_key(const user_id& user, int64_t time_ms);

// -- queries and changes inside a transaction ---------------------------------

std::optional<user_record> find_user(const txn& t, const user_id& id);
std::optional<user_record> find_user_by_name(const txn& t,
                                             std::string_view username);
std::optional<account_settings> find_account(const txn& t, const user_id& user,
                                             const account_id& account);
std::vector<account_settings> list_accounts(const txn& t, const user_id& user);

/// Removes an account, its credentials and everything that references it.
/// Returns false if it did not exist.
bool erase_account(txn& t, const user_id& user, const account_id& account);

/// Removes a user and everything that references them (accounts,
/// credentials, web sessions, grants and tokens). Audit entries stay.
bool erase_user(txn& t, const user_id& user);

/// Erases every web session of a user; returns how many.
size_t erase_sessions_of(txn& t, const user_id& user);

/// Appends to the audit log.
void append_audit(txn& t, const audit_event& event);

/// Removes up to `limit` of the oldest audit events of `user` older than
/// `before_ms` (a user's events are stored oldest first, so this reads no
/// further than the first one it keeps); returns how many it removed.
size_t prune_audit(txn& t, const user_id& user, int64_t before_ms,
                   size_t limit);

/// The newest `limit` audit events of a user, newest first.
std::vector<audit_event> recent_audit(const txn& t, const user_id& user,
                                      size_t limit);

} // namespace postern::storage
