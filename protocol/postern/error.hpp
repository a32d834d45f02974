// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/fwd.hpp"

#include <caf/error.hpp>
#include <caf/make_message.hpp> // needed by CAF_ERROR_CODE_ENUM (0.17)

#include <string>

namespace postern {

/// Project-wide error codes (category atom "postern"). Error contexts carry
/// ids and operations, never secrets.
enum class ec : uint8_t {
  /// Unspecified failure; prefer a specific code.
  unspecified = 1,
  /// A configuration value is missing or malformed.
  invalid_configuration,
  /// Reading or writing a file failed; context names the path.
  filesystem_failure,
  /// LMDB returned an error; context holds mdb_strerror().
  storage_failure,
  /// A request was malformed.
  invalid_request,
  /// TLS handshake or certificate verification failed.
  tls_failure,
  /// An IMAP command failed.
  imap_failure,
  /// An SMTP command failed.
  smtp_failure,
  /// The server is shutting down.
  shutting_down,
};

/// @relates ec
std::string to_string(ec x);

/// Renders any caf::error for logs: "code: context".
std::string render(const caf::error& err);

/// The human sentence of an error: the context alone for Postern's own
/// errors (they are made with a sentence), else the same as render().
std::string describe(const caf::error& err);

} // namespace postern

CAF_ERROR_CODE_ENUM(postern::ec, "postern")
