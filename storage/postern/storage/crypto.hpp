// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/secret.hpp"

#include <caf/expected.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postern::storage {

/// `n` bytes from OpenSSL's CSPRNG (aborts the process if it fails: there is
/// no safe way to go on without randomness).
std::string random_bytes(size_t n);

/// Lower-case hex of arbitrary bytes.
std::string to_hex(std::string_view bytes);

/// Decodes hex (either case); nullopt if malformed.
std::optional<std::string> from_hex(std::string_view hex);

/// Unpadded base64url (RFC 4648 §5), for tokens and ids in URLs.
std::string base64url(std::string_view bytes);

/// A random token of `n` bytes, base64url-encoded (32 bytes = 256 bits).
std::string random_token(size_t n = 32);

/// A random RFC 4122 version 4 UUID, the id format of the original.
std::string new_uuid();

/// SHA-256 of `data` (raw 32 bytes).
std::string sha256(std::string_view data);

/// HMAC-SHA-256 of `data` under `key` (raw 32 bytes).
std::string hmac_sha256(std::string_view key, std::string_view data);

/// HKDF-SHA-256 (RFC 5869): a `length`-byte subkey for one purpose.
secret hkdf_sha256(std::string_view input_key, std::string_view salt,
                   std::string_view info, size_t length = 32);

/// AES-256-GCM with a random 96-bit nonce. Returns nonce || ciphertext ||
/// 16-byte tag. `aad` is authenticated but not stored.
caf::expected<std::string> seal(const secret& key, std::string_view plaintext,
                                std::string_view aad);

/// Reverses `seal`; fails (never returns garbage) if the key, the AAD or any
/// byte is wrong.
caf::expected<secret> open_sealed(const secret& key, std::string_view sealed,
                                  std::string_view aad);

/// Argon2id parameters: OWASP's recommendation (19 MiB, 2 passes, 1 lane),
/// about 50 ms per hash here; see README.
struct password_hash_params {
  uint32_t time_cost = 2;
  uint32_t memory_kib = 19 * 1024;
  uint32_t parallelism = 1;
};

/// Hashes a password into the standard encoded form
/// ($argon2id$v=19$m=...,t=...,p=...$salt$hash) with a random salt.
caf::expected<std::string>
hash_password(const secret& password, const password_hash_params& params = {});

/// Checks a password against an encoded hash in constant time.
bool verify_password(const secret& password, const std::string& encoded);

} // namespace postern::storage
