// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/config.hpp"

#include <caf/expected.hpp>

#include <string>
#include <vector>

namespace postern::storage {

/// Where a key came from, for the startup message.
enum class key_origin {
  /// ENCRYPTION_KEY / SESSION_SECRET (environment or flag).
  configured,
  /// A key file in DATA_DIR written by an earlier start.
  key_file,
  /// Generated now and written to DATA_DIR.
  generated,
};

/// The outcome of `ensure_keys`.
struct key_setup {
  key_origin encryption_key = key_origin::configured;
  key_origin session_secret = key_origin::configured;
  /// Paths of the key files, for messages (never their contents).
  std::string encryption_key_file;
  std::string session_secret_file;
  /// Things the operator should hear about (loose permissions fixed, ...).
  std::vector<std::string> warnings;
};

/// Creates DATA_DIR (mode 0700) when missing and fills in the keys that the
/// configuration lacks: from DATA_DIR/encryption.key and
/// DATA_DIR/session.key when present, otherwise from fresh random bytes
/// written there with mode 0600. A malformed key file is an error, never
/// replaced silently: it may be the only copy of the key.
caf::expected<key_setup> ensure_keys(config& cfg);

/// Reads a key file: 64 hex characters, optionally followed by a newline.
caf::expected<secret> read_key_file(const std::string& path);

/// Writes a new key file atomically with mode 0600; fails if it exists.
caf::error write_key_file(const std::string& path, const secret& key);

/// 32 random bytes from OpenSSL's CSPRNG, hex-encoded.
caf::expected<secret> generate_hex_key();

} // namespace postern::storage
