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
  /// No such user.
  no_such_user,
  /// No such email account (or not the caller's).
  no_such_account,
  /// Username or password wrong; deliberately unspecific.
  invalid_credentials,
  /// A username, label or other value breaks the rules; context says how.
  invalid_argument,
  /// The name is taken.
  already_exists,
  /// The operator's policy forbids it (SIGNUP, ACCOUNT_HOST_DENY).
  forbidden,
  /// No such web session, or it expired.
  no_such_session,
  /// The mail server rejected the username or password (IMAP or SMTP).
  authentication_failed,
  /// The mail server could not be reached, refused the connection, or the
  /// connection broke; the context says which.
  connection_failed,
  /// The mail server did not answer within the timeout.
  timed_out,
  /// The folder does not exist on the mail server.
  no_such_folder,
  /// No message with that UID in the folder.
  no_such_message,
  /// The mail server answered NO or BAD; context holds its (sanitized) text.
  server_refused,
  /// The mail server lacks a capability the operation needs.
  not_supported,
  /// The mail server sent something that is not valid protocol.
  protocol_violation,
  /// The SMTP server refused a recipient; context names it.
  recipient_rejected,
  /// The operation was cancelled (shutdown or a stuck connection).
  cancelled,
  /// A limit was reached (connections, queued requests); try again later.
  too_busy,
  /// An access token is unknown, expired or revoked, or its grant or
  /// account is gone; the context says which, for the client.
  invalid_token,
  /// OAuth: an authorization code or refresh token is unknown, expired,
  /// used, revoked or bound to another client (RFC 6749 invalid_grant).
  invalid_grant,
  /// OAuth: the requested scope exceeds the grant.
  invalid_scope,
  /// OAuth: the requested resource (RFC 8707) is not the grant's.
  invalid_target,
  /// OAuth: no client with that id (never registered, or swept).
  invalid_client,
  /// No MIME part with that id in the message (get_attachment).
  no_such_part,
  /// Something is larger than the configured cap; the context names both.
  too_large,
  /// The account sent as many messages as its per-minute limit allows.
  send_rate_limited,
  /// A mail server sent more than a byte budget allows (a literal, a
  /// response, an operation, items, nesting); its connection was dropped.
  /// The context names the account's label and the limit.
  over_budget,
  /// The mail provider refused the account's stored sign-in (OAuth
  /// invalid_grant): the person must sign in to the provider again.
  signin_required,
};

/// @relates ec
std::string to_string(ec x);

/// Renders any caf::error for logs: "code: context".
std::string render(const caf::error& err);

/// The human sentence of an error: the context alone for Postern's own
/// errors (they are made with a sentence), else the same as render().
std::string describe(const caf::error& err);

/// An error about one input of a form or request ("imap_host"): its context
/// is (the atom `field`, the field's name, the sentence), so a page marks
/// that field without reading the sentence. describe() gives the sentence,
/// render() puts the field in brackets before it.
caf::error make_field_error(ec code, std::string field, std::string sentence);

/// The input field an error is about, or "" when it names none.
std::string error_field(const caf::error& err);

} // namespace postern

CAF_ERROR_CODE_ENUM(postern::ec, "postern")
