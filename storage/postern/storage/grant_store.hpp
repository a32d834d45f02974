// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/grant.hpp"
#include "postern/storage/environment.hpp"
#include "postern/storage/record.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Grants and tokens in LMDB. Layout (every token is stored only as its
// SHA-256, `D` below, 32 raw bytes):
//
//   grants          U/G          -> grant record
//                   U/G/a/D      -> "" (index: access token D belongs to G)
//                   U/G/r/D      -> "" (index: refresh token D belongs to G)
//   access_tokens   D            -> access token record (user, grant, expiry)
//   refresh_tokens  D            -> refresh token record (user, grant,
//                                   generation, expiry)
//
// U is the user id, G the grant id (fixed-length base64url, so no id is a
// prefix of another). A user's grants and their indexes share the prefix
// "U/", so deleting a user or an account finds its tokens without scanning
// the token tables, and everything happens in the caller's transaction.

namespace postern::storage {

/// An access token as stored under SHA-256(token).
struct access_token_record {
  user_id user;
  grant_id grant;
  /// The token's scopes; 0 means "the grant's".
  scope_set scopes = 0;
  int64_t issued_at = 0;
  int64_t expires_at = 0;
};

/// A refresh token as stored under SHA-256(token). Rotation keeps the
/// previous record until it expires: presenting a generation older than
/// the grant's `refresh_generation` is reuse and revokes the grant.
struct refresh_token_record {
  user_id user;
  grant_id grant;
  uint64_t generation = 0;
  int64_t issued_at = 0;
  int64_t expires_at = 0;
};

// -- encoding -----------------------------------------------------------------

/// The accounts of a grant or code after the record's other fields: the
/// second and later ids, then the default (the first id is where records
/// of one account had theirs). A record without them has one account.
void write_accounts(record_writer& out, const grant_accounts& x);
void read_accounts(record_reader& in, grant_accounts& x);

/// The send rules after the accounts: held-for-a-yes, then the recipient
/// patterns. A record without them (older) sends freely, as it did.
void write_send_rules(record_writer& out, const send_rules& x);
void read_send_rules(record_reader& in, send_rules& x);

std::string encode(const grant_info& x);
grant_info decode_grant(std::string_view bytes);
std::string encode(const access_token_record& x);
access_token_record decode_access_token(std::string_view bytes);
std::string encode(const refresh_token_record& x);
refresh_token_record decode_refresh_token(std::string_view bytes);

// -- keys ---------------------------------------------------------------------

/// grants: user id + '/' + grant id.
std::string grant_key(const user_id& user, const grant_id& grant);

/// A new random grant id (16 bytes, base64url: 22 characters).
grant_id new_grant_id();

// -- queries and changes inside a transaction ---------------------------------

std::optional<grant_info> find_grant(const txn& t, const user_id& user,
                                     const grant_id& grant);

/// The grants of a user, in key order.
std::vector<grant_info> list_grants(const txn& t, const user_id& user);

/// Stores (or replaces) a grant.
void put_grant(txn& t, const grant_info& grant);

/// Stores an access token under `digest` (SHA-256 of the token) and indexes
/// it under its grant.
void put_access_token(txn& t, std::string_view digest,
                      const access_token_record& rec);

/// Stores a refresh token under `digest` and indexes it under its grant.
void put_refresh_token(txn& t, std::string_view digest,
                       const refresh_token_record& rec);

std::optional<access_token_record> find_access_token(const txn& t,
                                                     std::string_view digest);
std::optional<refresh_token_record> find_refresh_token(const txn& t,
                                                       std::string_view digest);

/// Removes one access token and its index entry; false if absent.
bool erase_access_token(txn& t, std::string_view digest);

/// Removes a grant with all of its tokens; false if it did not exist.
bool erase_grant(txn& t, const user_id& user, const grant_id& grant);

/// Takes `account` out of every grant of a user that reaches it; a grant
/// left without accounts is removed with its tokens. Returns how many
/// grants changed.
size_t drop_account_from_grants(txn& t, const user_id& user,
                                const account_id& account);

/// Removes every grant and token of a user.
size_t erase_grants_of_user(txn& t, const user_id& user);

/// What a sweep removed.
struct sweep_counts {
  size_t access_tokens = 0;
  size_t refresh_tokens = 0;
  size_t grants = 0;
};

/// Removes expired access and refresh tokens, tokens whose grant is gone,
/// and grants past their own expiry (with their tokens).
sweep_counts sweep_grants(txn& t, int64_t now);

// -- change notification inside this process
// -----------------------------------

/// A counter that grows whenever grants or tokens were removed in this
/// process. Call `note_grants_changed()` after the commit; the TOKEN
/// AUTHORITY reads the counter before each re-check, so its cache never
/// keeps a removed token alive past the next request. (Changes by another
/// process are seen by the TOKEN AUTHORITY's periodic re-check.)
uint64_t grants_epoch() noexcept;
void note_grants_changed() noexcept;

} // namespace postern::storage
