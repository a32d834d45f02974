// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/grant.hpp"
#include "postern/storage/environment.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// OAuth clients and authorization codes in LMDB:
//
//   clients     client id     -> JSON object (operators can read it with
//                                mdb_dump; fields are added freely)
//   auth_codes  SHA-256(code) -> code record (binary, versioned)

namespace postern::storage {

std::string encode(const oauth_client& x);

/// Nullopt for bytes that are not a client record.
std::optional<oauth_client> decode_client(std::string_view id,
                                          std::string_view bytes);

std::optional<oauth_client> find_client(const txn& t, std::string_view id);

void put_client(txn& t, const oauth_client& c);

/// Sets `used_at` of a client; false if it does not exist.
bool touch_client(txn& t, std::string_view id, int64_t now);

/// Removes clients never used within `unused_ttl` seconds of their
/// registration, and used ones idle for `idle_ttl`; returns how many are
/// left.
size_t sweep_clients(txn& t, int64_t now, int64_t unused_ttl, int64_t idle_ttl);

/// An authorization code as stored under SHA-256(code). A used code stays
/// until it is swept, so that a replay can revoke what it issued.
struct code_record {
  /// What the person approved.
  code_request approved;
  /// Unix seconds.
  int64_t expires_at = 0;
  bool used = false;
  /// The grant issued from it; empty before use and after a replay
  /// revoked it.
  grant_id grant;
};

std::string encode(const code_record& x);
code_record decode_code(std::string_view bytes);

std::optional<code_record> find_code(const txn& t, std::string_view digest);
void put_code(txn& t, std::string_view digest, const code_record& rec);

/// Removes codes that expired more than `memory` seconds ago; returns how
/// many.
size_t sweep_codes(txn& t, int64_t now, int64_t memory);

} // namespace postern::storage
