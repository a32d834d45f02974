// SPDX-License-Identifier: Apache-2.0
#include "postern/smtp/client.hpp"

#include "../imap/budget_stream.hpp"
#include "../imap/net.hpp"
#include "postern/error.hpp"
#include "postern/imap/tls_verify.hpp"
#include "postern/mime/address.hpp"
#include "postern/sasl.hpp"
#include "postern/text.hpp"

#include <libetpan/libetpan.h>

#include <unistd.h>

// Exported by libetpan 1.9.4 (mailsmtp.c) but declared only in its
// private header: one command line, written without passing through the
// session's logger, and the next reply's code (0 when the stream failed).
// AUTH XOAUTH2 / OAUTHBEARER need them; libetpan's own
// mailsmtp_oauth2_authenticate knows XOAUTH2 only.
extern "C" {
int mailsmtp_send_command_private(mailsmtp* session, char* command);
int mailsmtp_read_response(mailsmtp* session);
}

namespace postern::smtp {

namespace {

void set_server_name(mailstream_ssl_context* ctx, void* data) {
  auto* host = static_cast<std::string*>(data);
  if (!imap::is_ip_literal(*host))
    mailstream_ssl_set_server_name(ctx, host->data());
}

} // namespace

client::client(client_options options)
  : options_(std::move(options)),
    canceller_(std::make_shared<imap::canceller>()),
    budget_(std::make_shared<imap::budget_tracker>(
      imap::budget_tracker::syntax::smtp, options_.budget)) {
  if (options_.timeout.count() < 1)
    options_.timeout = std::chrono::seconds{1};
}

client::~client() {
  close_stream();
  if (smtp_ != nullptr)
    mailsmtp_free(smtp_);
}

void client::cancel() noexcept {
  canceller_->cancel();
}

void client::close_stream() noexcept {
  canceller_->detach();
  if (smtp_ != nullptr && smtp_->stream != nullptr) {
    // Keeps mailsmtp_free from sending QUIT on a dead connection.
    mailstream_close(smtp_->stream);
    smtp_->stream = nullptr;
  }
}

void client::quit() {
  if (smtp_ != nullptr && smtp_->stream != nullptr
      && !canceller_->cancelled()) {
    canceller_->detach();
    mailsmtp_quit(smtp_); // sends QUIT without waiting, closes the stream
  }
  close_stream();
}

std::string client::server_text() const {
  if (smtp_ == nullptr || smtp_->response == nullptr)
    return {};
  return imap::sanitize_server_text(
    imap::redact(smtp_->response, sent_password_.reveal()));
}

caf::error client::interrupted() const {
  if (canceller_->expired())
    return caf::make_error(
      ec::timed_out, "The SMTP server " + host_ + ":" + std::to_string(port_)
                       + " did not complete the operation within "
                       + std::to_string(options_.operation_timeout.count())
                       + " seconds");
  if (canceller_->cancelled())
    return caf::make_error(ec::cancelled,
                           "Sending was cancelled because Postern is shutting "
                           "down");
  return {};
}

caf::error client::command_error(int rc, std::string_view action) {
  auto where = host_ + ":" + std::to_string(port_);
  auto text = server_text();
  auto said = text.empty() ? std::string{}
                           : " (server said: "
                               + std::to_string(
                                 smtp_ != nullptr ? smtp_->response_code : 0)
                               + " " + text + ")";
  // Over budget, the driver failed the read: say so, not "broke".
  if (auto& v = budget_->violation()) {
    close_stream();
    return caf::make_error(ec::over_budget,
                           imap::describe_violation(v, options_.account_label,
                                                    "SMTP"));
  }
  if (rc == MAILSMTP_ERROR_STREAM || rc == MAILSMTP_ERROR_SSL
      || rc == MAILSMTP_ERROR_CONNECTION_REFUSED) {
    close_stream();
    if (auto err = interrupted())
      return err;
    if (std::chrono::steady_clock::now() - call_start_
          + std::chrono::milliseconds{300}
        >= options_.timeout)
      return caf::make_error(
        ec::timed_out, "The SMTP server " + where + " did not answer within "
                         + std::to_string(options_.timeout.count())
                         + " seconds (while trying to " + std::string{action}
                         + ")");
    return caf::make_error(ec::connection_failed,
                           "The connection to the SMTP server " + where
                             + " broke while trying to " + std::string{action});
  }
  if (rc == MAILSMTP_ERROR_MEMORY)
    return caf::make_error(ec::smtp_failure, "Out of memory");
  return caf::make_error(ec::server_refused, "The SMTP server " + where
                                               + " refused to "
                                               + std::string{action} + said);
}

caf::error client::ehlo() {
  call_start_ = std::chrono::steady_clock::now();
  // EHLO, falling back to HELO for ancient servers (which then offer no
  // STARTTLS and no AUTH: the checks below catch that).
  auto rc = mailsmtp_init(smtp_);
  if (rc != MAILSMTP_NO_ERROR)
    return command_error(rc, "greet it (EHLO)");
  return {};
}

// -- connect steps ------------------------------------------------------------

caf::error client::connect(const server_settings& server,
                           const secret& password) {
  imap::deadline_guard deadline{canceller_, options_.operation_timeout};
  budget_->begin_operation();
  if (smtp_ != nullptr)
    return caf::make_error(ec::smtp_failure,
                           "The SMTP client is already connected");
  imap::ignore_sigpipe();
  host_ = server.host;
  port_ = server.port != 0                             ? server.port
          : server.security == transport_security::tls ? uint16_t{465}
                                                       : uint16_t{587};
  smtp_ = mailsmtp_new(0, nullptr);
  if (smtp_ == nullptr)
    return caf::make_error(ec::smtp_failure, "Out of memory");
  mailsmtp_set_timeout(smtp_, options_.timeout.count());
  // The socket stays -1 for a stream made by open_stream (plain only, so
  // STARTTLS, the only later user of it, never runs).
  int fd = -1;
  _mailstream* stream = nullptr;
  if (auto err = open_transport(server, fd, stream))
    return err;
  if (auto err = guard_stream(server, stream))
    return err;
  if (auto err = read_greeting(stream))
    return err;
  if (auto err = ehlo())
    return err;
  if (server.security == transport_security::starttls)
    if (auto err = start_tls(fd))
      return err;
  if (server.username.empty())
    return {};
  return authenticate(server, password);
}

caf::error client::open_transport(const server_settings& server, int& fd,
                                  _mailstream*& stream) {
  if (!options_.open_stream)
    return open_socket(server, fd, stream);
  // Tests and fuzzing: no DNS, no TCP, no TLS.
  if (server.security != transport_security::plain)
    return caf::make_error(ec::smtp_failure,
                           "A stream made by open_stream is plain only");
  stream = options_.open_stream();
  if (stream == nullptr)
    return caf::make_error(ec::connection_failed,
                           "Could not open the stream to " + host_ + ":"
                             + std::to_string(port_));
  canceller_->attach(-1, stream);
  return {};
}

caf::error client::open_socket(const server_settings& server, int& fd,
                               _mailstream*& stream) {
  auto where = host_ + ":" + std::to_string(port_);
  auto secs = options_.timeout.count();
  auto connected = imap::tcp_connect(host_, port_, options_.timeout,
                                     *canceller_, "SMTP", options_.hosts);
  if (!connected)
    return std::move(connected.error());
  fd = *connected;
  canceller_->attach(fd, nullptr);
  call_start_ = std::chrono::steady_clock::now();
  // Implicit TLS shakes hands right here, before the server says anything.
  if (server.security == transport_security::tls)
    stream = mailstream_ssl_open_with_callback_timeout(fd, secs,
                                                       set_server_name, &host_);
  else
    stream = mailstream_socket_open_timeout(fd, secs);
  if (stream == nullptr) {
    canceller_->detach();
    ::close(fd);
    if (auto err = interrupted())
      return err;
    // A handshake that ran into the timeout is slow, not broken.
    if (std::chrono::steady_clock::now() - call_start_
          + std::chrono::milliseconds{300}
        >= options_.timeout)
      return caf::make_error(ec::timed_out, "The TLS handshake with " + where
                                              + " did not finish in time");
    return caf::make_error(ec::tls_failure,
                           "The TLS handshake with the SMTP server " + where
                             + " failed; check that this port expects TLS "
                               "(usually 465) and not STARTTLS (587)");
  }
  canceller_->attach(fd, stream);
  if (!imap::select_safe(stream)) {
    canceller_->detach();
    mailstream_close(stream);
    return imap::too_many_files();
  }
  return {};
}

caf::error client::guard_stream(const server_settings& server,
                                _mailstream* stream) {
  // The stream is not yet owned by smtp_, so failures close it here.
  if (!imap::detail::install_budget(stream, budget_)) {
    canceller_->detach();
    mailstream_close(stream);
    return caf::make_error(ec::smtp_failure, "Out of memory");
  }
  if (server.security == transport_security::tls)
    if (auto err = imap::verify_peer_certificate(stream, host_,
                                                 options_.ca_file)) {
      canceller_->detach();
      mailstream_close(stream);
      return caf::make_error(ec::tls_failure,
                             "The certificate of the SMTP server " + host_ + ":"
                               + std::to_string(port_)
                               + " is not valid: " + describe(err));
    }
  return {};
}

caf::error client::read_greeting(_mailstream* stream) {
  call_start_ = std::chrono::steady_clock::now();
  auto rc = mailsmtp_connect(smtp_, stream); // closes the stream on failure
  if (rc == MAILSMTP_NO_ERROR)
    return {};
  canceller_->detach();
  if (rc == MAILSMTP_ERROR_STREAM)
    return command_error(rc, "read the greeting");
  auto text = server_text();
  return caf::make_error(ec::connection_failed,
                         "The SMTP server " + host_ + ":"
                           + std::to_string(port_) + " refused the session"
                           + (text.empty() ? "" : ": " + text));
}

caf::error client::start_tls(int fd) {
  if ((smtp_->esmtp & MAILSMTP_ESMTP_STARTTLS) == 0) {
    close_stream();
    return caf::make_error(ec::not_supported,
                           "The SMTP server " + host_ + ":"
                             + std::to_string(port_)
                             + " does not offer STARTTLS, so Postern will "
                               "not send the password over this "
                               "unencrypted connection; use TLS (usually "
                               "port 465)");
  }
  canceller_->attach(fd, nullptr); // the stream's driver is swapped
  call_start_ = std::chrono::steady_clock::now();
  auto rc = mailsmtp_socket_starttls_with_callback(smtp_, set_server_name,
                                                   &host_);
  if (rc != MAILSMTP_NO_ERROR) {
    // A stream error well before the timeout is the handshake failing,
    // not the server going away.
    if (rc == MAILSMTP_ERROR_STREAM && !interrupted()
        && std::chrono::steady_clock::now() - call_start_
               + std::chrono::milliseconds{300}
             < options_.timeout) {
      close_stream();
      return caf::make_error(
        ec::tls_failure, "The TLS handshake after STARTTLS with the "
                         "SMTP server "
                           + host_ + ":" + std::to_string(port_) + " failed");
    }
    return command_error(rc, "start TLS");
  }
  canceller_->attach(fd, smtp_->stream);
  if (auto err = guard_tls_stream())
    return err;
  // Forget what was said before TLS (RFC 3207 4.2) and ask again.
  call_start_ = std::chrono::steady_clock::now();
  rc = mailesmtp_ehlo(smtp_);
  if (rc != MAILSMTP_NO_ERROR)
    return command_error(rc, "greet it after STARTTLS (EHLO)");
  return {};
}

caf::error client::guard_tls_stream() {
  if (!imap::select_safe(smtp_->stream)) {
    close_stream();
    return imap::too_many_files();
  }
  // STARTTLS replaced the driver the budget wrapped.
  if (!imap::detail::install_budget(smtp_->stream, budget_)) {
    close_stream();
    return caf::make_error(ec::smtp_failure, "Out of memory");
  }
  if (auto err = imap::verify_peer_certificate(smtp_->stream, host_,
                                               options_.ca_file)) {
    close_stream();
    return caf::make_error(ec::tls_failure,
                           "The certificate of the SMTP server " + host_ + ":"
                             + std::to_string(port_)
                             + " is not valid: " + describe(err));
  }
  return {};
}

caf::error client::authenticate_oauth(const server_settings& server,
                                      const secret& token) {
  auto mechanism = std::string{to_string(options_.sasl)};
  // The EHLO answer (the last reply) lists the mechanisms on its AUTH line.
  std::string_view ehlo = smtp_->response != nullptr ? smtp_->response : "";
  bool offered = false;
  for (auto line : split_words(ehlo, "\r\n")) {
    auto words = split_words(line, " ");
    if (words.empty() || ascii_lower(words[0]) != "auth")
      continue;
    for (auto w : words)
      if (ascii_lower(w) == ascii_lower(mechanism))
        offered = true;
  }
  if (!offered) {
    close_stream();
    return caf::make_error(ec::not_supported,
                           "The SMTP server " + host_ + ":"
                             + std::to_string(port_) + " does not offer AUTH "
                             + mechanism
                             + ", which this account's provider signs in "
                               "with");
  }
  call_start_ = std::chrono::steady_clock::now();
  sent_password_ = token;
  auto response = sasl::initial_response(options_.sasl, server.username, host_,
                                         port_, token);
  auto command = "AUTH " + mechanism + " " + response.reveal() + "\r\n";
  auto rc = mailsmtp_send_command_private(smtp_, command.data());
  secret{std::move(command)}.wipe();
  if (rc != MAILSMTP_NO_ERROR)
    return command_error(MAILSMTP_ERROR_STREAM, "sign in");
  auto code = mailsmtp_read_response(smtp_);
  std::string status;
  if (code == 334) {
    // The error challenge (base64 JSON): answer it to get the final reply.
    if (smtp_->response != nullptr)
      status = sasl::challenge_status(smtp_->response);
    std::string abort = std::string{sasl::abort_response(options_.sasl)}
                        + "\r\n";
    if (mailsmtp_send_command_private(smtp_, abort.data()) != MAILSMTP_NO_ERROR)
      return command_error(MAILSMTP_ERROR_STREAM, "sign in");
    code = mailsmtp_read_response(smtp_);
  }
  if (code == 235)
    return {};
  if (code == 0)
    return command_error(MAILSMTP_ERROR_STREAM, "sign in");
  // Neither the token (server_text redacts it) nor the SASL response that
  // carries it reaches the sentence.
  auto text = imap::redact(server_text(), response.reveal());
  quit();
  if (code == 535 || code == 534 || code == 530 || code == 454)
    return caf::make_error(
      ec::authentication_failed,
      "The SMTP server did not accept the access token (" + mechanism
        + (status.empty() ? "" : ", " + status) + ")"
        + (text.empty() ? "" : ": " + text));
  return caf::make_error(ec::server_refused,
                         "The SMTP server did not let you sign in: "
                           + std::to_string(code) + " " + text);
}

caf::error client::authenticate(const server_settings& server,
                                const secret& password) {
  if (options_.sasl != sasl_mechanism::password)
    return authenticate_oauth(server, password);
  const char* mechanism = nullptr;
  if ((smtp_->auth & MAILSMTP_AUTH_PLAIN) != 0)
    mechanism = "PLAIN";
  else if ((smtp_->auth & MAILSMTP_AUTH_LOGIN) != 0)
    mechanism = "LOGIN";
  if (mechanism == nullptr) {
    close_stream();
    return caf::make_error(ec::not_supported,
                           "The SMTP server " + host_ + ":"
                             + std::to_string(port_)
                             + " offers no password login (AUTH PLAIN or "
                               "LOGIN) on this connection");
  }
  call_start_ = std::chrono::steady_clock::now();
  // Set before AUTH: any reply from here on may echo the password, and
  // server_text() redacts it for the rest of the connection.
  sent_password_ = password;
  auto rc = mailesmtp_auth_sasl(smtp_, mechanism, host_.c_str(), nullptr,
                                nullptr, server.username.c_str(),
                                server.username.c_str(),
                                password.reveal().c_str(), nullptr);
  if (rc == MAILSMTP_NO_ERROR)
    return {};
  if (rc == MAILSMTP_ERROR_STREAM || rc == MAILSMTP_ERROR_SSL)
    return command_error(rc, "log in");
  auto text = server_text();
  auto code = smtp_->response_code;
  quit();
  if (code == 535 || code == 534 || code == 530 || code == 0
      || rc == MAILSMTP_ERROR_AUTH_AUTHENTICATION_FAILED
      || rc == MAILSMTP_ERROR_AUTH_LOGIN)
    return caf::make_error(ec::authentication_failed,
                           "The SMTP server rejected the username or password"
                             + (text.empty() ? "" : " (" + text + ")"));
  return caf::make_error(ec::server_refused,
                         "The SMTP server did not let you log in: "
                           + std::to_string(code) + " " + text);
}

// -- sending ------------------------------------------------------------------

caf::error client::send(std::string_view sender,
                        const std::vector<std::string>& recipients,
                        std::string_view data) {
  imap::deadline_guard deadline{canceller_, options_.operation_timeout};
  budget_->begin_operation();
  if (auto err = interrupted())
    return err;
  if (smtp_ == nullptr || smtp_->stream == nullptr)
    return caf::make_error(ec::connection_failed,
                           "The connection to the SMTP server is closed");
  if (recipients.empty())
    return caf::make_error(ec::invalid_argument,
                           "The message has no recipient");
  // These go into SMTP command lines: a CR or LF would inject commands.
  for (auto addr : recipients)
    if (!mime::is_sendable_address(addr))
      return caf::make_error(ec::invalid_argument,
                             "\"" + imap::sanitize_server_text(addr)
                               + "\" is not a valid recipient address");
  if (!mime::is_sendable_address(sender))
    return caf::make_error(ec::invalid_argument,
                           "\"" + imap::sanitize_server_text(sender)
                             + "\" is not a valid sender address");
  std::string s{sender};
  call_start_ = std::chrono::steady_clock::now();
  auto rc = mailsmtp_mail(smtp_, s.c_str());
  if (rc != MAILSMTP_NO_ERROR)
    return command_error(rc, "accept the sender " + s);
  std::vector<std::string> rejected;
  for (auto& rcpt : recipients) {
    call_start_ = std::chrono::steady_clock::now();
    rc = mailsmtp_rcpt(smtp_, rcpt.c_str());
    if (rc == MAILSMTP_NO_ERROR)
      continue;
    if (rc == MAILSMTP_ERROR_STREAM || rc == MAILSMTP_ERROR_SSL)
      return command_error(rc, "accept the recipients");
    rejected.push_back(rcpt + " (" + std::to_string(smtp_->response_code) + " "
                       + server_text() + ")");
  }
  if (!rejected.empty()) {
    // Nothing is sent when any recipient fails: a partial send is worse.
    call_start_ = std::chrono::steady_clock::now();
    mailsmtp_reset(smtp_);
    std::string list;
    for (auto& r : rejected)
      list += (list.empty() ? "" : ", ") + r;
    return caf::make_error(ec::recipient_rejected,
                           "The SMTP server rejected "
                             + std::string{rejected.size() == 1
                                             ? "the recipient "
                                             : "the recipients "}
                             + list + "; nothing was sent");
  }
  call_start_ = std::chrono::steady_clock::now();
  rc = mailsmtp_data(smtp_);
  if (rc != MAILSMTP_NO_ERROR)
    return command_error(rc, "accept the message (DATA)");
  call_start_ = std::chrono::steady_clock::now();
  rc = mailsmtp_data_message(smtp_, data.data(), data.size());
  if (rc != MAILSMTP_NO_ERROR)
    return command_error(rc, "accept the message");
  return {};
}

caf::error send_message(const server_settings& server, const secret& password,
                        const mime::built_message& msg,
                        const client_options& options) {
  client c{options};
  if (auto err = c.connect(server, password))
    return err;
  if (auto err = c.send(msg.sender, msg.recipients, msg.data))
    return err;
  c.quit();
  return {};
}

} // namespace postern::smtp
