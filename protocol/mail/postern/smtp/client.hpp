// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/account.hpp"
#include "postern/host_policy.hpp"
#include "postern/imap/budget.hpp"
#include "postern/imap/session.hpp"
#include "postern/mime/message_builder.hpp"
#include "postern/secret.hpp"

#include <caf/error.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct mailsmtp;
struct _mailstream;

namespace postern::smtp {

/// Settings of an SMTP client that are not part of the account.
struct client_options {
  /// PEM file of CA certificates to trust instead of the system store.
  std::string ca_file;
  /// Bound for every network step (connect, handshake, each command).
  std::chrono::seconds timeout{30};
  /// Bound for a whole connect() or send(), however slowly the server
  /// answers (see imap::session_options::operation_timeout).
  std::chrono::seconds operation_timeout{300};
  /// Which resolved addresses may be connected to (see
  /// imap::session_options::hosts).
  host_policy hosts;
  /// What the server may send: per reply (SMTP_MAX_REPLY_BYTES) and per
  /// connect() or send() (SMTP_MAX_OPERATION_BYTES). Over budget, the
  /// connection is dropped with `ec::over_budget`.
  imap::budget_limits budget = imap::budget_limits::smtp_defaults();
  /// The account's label, for the sentence of `ec::over_budget`.
  std::string account_label;
  /// How connect() signs in: AUTH PLAIN/LOGIN with the password (the
  /// default), or AUTH XOAUTH2 / OAUTHBEARER with the "password" being an
  /// OAuth access token.
  sasl_mechanism sasl = sasl_mechanism::password;
  /// Tests and fuzzing only: makes the connection's stream instead of DNS
  /// and TCP (see imap::session_options::open_stream); plain servers only.
  std::function<_mailstream*()> open_stream;
};

/// One SMTP submission connection: connect, STARTTLS (required when asked
/// for) or implicit TLS, certificate verification, AUTH (PLAIN or LOGIN),
/// then MAIL FROM / RCPT TO / DATA. Blocking and thread-confined like
/// `imap::session`; only `cancel()` may be called from another thread.
class client {
public:
  explicit client(client_options options = {});
  ~client();

  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Connects, secures the connection, verifies the certificate and logs in
  /// (skipped when `server.username` is empty). Errors:
  /// `authentication_failed`, `tls_failure`, `not_supported` (no STARTTLS,
  /// no usable AUTH), `connection_failed`, `timed_out`, `cancelled`.
  caf::error connect(const server_settings& server, const secret& password);

  /// Sends one message. Every recipient is tried; if the server refuses any,
  /// nothing is sent and the error (`recipient_rejected`) names them all.
  caf::error send(std::string_view sender,
                  const std::vector<std::string>& recipients,
                  std::string_view data);

  /// Says QUIT and closes the connection.
  void quit();

  /// Interrupts blocking I/O; callable from any thread.
  void cancel() noexcept;

  std::shared_ptr<imap::canceller> cancel_handle() const noexcept {
    return canceller_;
  }

private:
  // -- connect steps, in order (see connect()) --------------------------------

  /// Opens the stream: TCP (and implicit TLS), or `options_.open_stream`.
  /// Sets `fd` to the socket, or leaves it -1 for a made stream.
  caf::error open_transport(const server_settings& server, int& fd,
                            _mailstream*& stream);
  /// The TCP half of open_transport(), with the implicit-TLS handshake.
  caf::error open_socket(const server_settings& server, int& fd,
                         _mailstream*& stream);
  /// Wraps the new stream in the budget and, for implicit TLS, verifies the
  /// certificate; closes the stream on failure.
  caf::error guard_stream(const server_settings& server, _mailstream* stream);
  /// Hands the stream to libetpan and reads the server's greeting.
  caf::error read_greeting(_mailstream* stream);
  /// STARTTLS (required once asked for), then EHLO again over TLS.
  caf::error start_tls(int fd);
  /// guard_stream() again for the driver STARTTLS put in place.
  caf::error guard_tls_stream();
  /// AUTH PLAIN or LOGIN; from here on server text is redacted.
  caf::error authenticate_oauth(const server_settings& server,
                                const secret& token);
  caf::error authenticate(const server_settings& server,
                          const secret& password);

  // -- helpers ----------------------------------------------------------------

  caf::error command_error(int rc, std::string_view action);
  caf::error interrupted() const;
  caf::error ehlo();
  void close_stream() noexcept;
  std::string server_text() const;

  // -- state ------------------------------------------------------------------

  client_options options_;
  std::shared_ptr<imap::canceller> canceller_;
  std::shared_ptr<imap::budget_tracker> budget_;
  mailsmtp* smtp_ = nullptr;
  std::string host_;
  uint16_t port_ = 0;
  std::chrono::steady_clock::time_point call_start_;
  /// The password once it was sent (AUTH): from then on a server may echo
  /// it, so every server text that reaches an error is redacted with it.
  secret sent_password_;
};

/// Connects, sends `msg` from `msg.sender` to `msg.recipients`, and quits.
caf::error send_message(const server_settings& server, const secret& password,
                        const mime::built_message& msg,
                        const client_options& options = {});

} // namespace postern::smtp
