// SPDX-License-Identifier: Apache-2.0
#include "postern/imap/session.hpp"

#include "budget_stream.hpp"
#include "etpan.hpp"
#include "net.hpp"
#include "postern/error.hpp"
#include "postern/imap/mailbox_name.hpp"
#include "postern/imap/tls_verify.hpp"
#include "postern/log.hpp"
#include "postern/mime/charset.hpp"
#include "postern/sasl.hpp"
#include "postern/mime/header.hpp"

#include <sys/socket.h>

#include <unistd.h>

#include <algorithm>

namespace postern::imap {

using namespace detail;

// -- canceller ----------------------------------------------------------------

void canceller::cancel() noexcept {
  cancelled_ = true;
  wake();
}

void canceller::expire() noexcept {
  expired_ = true;
  wake();
}

void canceller::wake() noexcept {
  std::lock_guard<std::mutex> guard{mtx_};
  // mailstream_cancel wakes a read or write waiting in libetpan; shutdown()
  // also wakes a TCP connect or a TLS handshake, which have no stream yet.
  if (stream_ != nullptr)
    mailstream_cancel(stream_);
  if (fd_ >= 0)
    ::shutdown(fd_, SHUT_RDWR);
}

void canceller::attach(int fd, _mailstream* stream) noexcept {
  std::lock_guard<std::mutex> guard{mtx_};
  fd_ = fd;
  stream_ = stream;
  // A cancel() that came while nothing was attached (between two steps of
  // a connect, say) found nothing to wake: wake what is attached now, or
  // the next read would wait for the whole timeout (seen in CI under load:
  // imap_faults.cancel_interrupts_a_blocked_call blocked for 60 s).
  if (cancelled_.load() || expired_.load()) {
    if (stream_ != nullptr)
      mailstream_cancel(stream_);
    if (fd_ >= 0)
      ::shutdown(fd_, SHUT_RDWR);
  }
}

void canceller::detach() noexcept {
  std::lock_guard<std::mutex> guard{mtx_};
  fd_ = -1;
  stream_ = nullptr;
}

// -- construction -------------------------------------------------------------

session::session(session_options options)
  : options_(std::move(options)),
    canceller_(std::make_shared<canceller>()),
    budget_(std::make_shared<budget_tracker>(budget_tracker::syntax::imap,
                                             options_.budget)) {
  if (options_.fetch_chunk_bytes == 0)
    options_.fetch_chunk_bytes = 1024 * 1024;
  if (options_.timeout.count() < 1)
    options_.timeout = std::chrono::seconds{1};
}

session::~session() {
  if (usable_)
    logout();
  close_stream();
  if (imap_ != nullptr)
    mailimap_free(imap_);
}

void session::cancel() noexcept {
  canceller_->cancel();
}

void session::start_call() noexcept {
  call_start_ = std::chrono::steady_clock::now();
  budget_->begin_operation();
}

void session::close_stream() noexcept {
  canceller_->detach();
  usable_ = false;
  selected_.clear();
  if (imap_ != nullptr && imap_->imap_stream != nullptr) {
    // Closing here keeps mailimap_free from sending LOGOUT on a dead or
    // stalled connection (which would block for the whole timeout).
    mailstream_close(imap_->imap_stream);
    imap_->imap_stream = nullptr;
    imap_->imap_state = MAILIMAP_STATE_DISCONNECTED;
  }
}

void session::logout() {
  deadline_guard deadline{canceller_, options_.timeout};
  if (imap_ != nullptr && imap_->imap_stream != nullptr && usable_
      && !canceller_->cancelled()) {
    // mailimap_logout closes and frees the stream whatever the answer, so
    // it cannot stay attached to the canceller; a short read timeout bounds
    // the goodbye instead.
    canceller_->detach();
    auto secs = std::min<time_t>(options_.timeout.count(), 2);
    mailstream_low_set_timeout(mailstream_get_low(imap_->imap_stream), secs);
    mailimap_logout(imap_);
  }
  close_stream();
}

std::string session::server_text() const {
  if (imap_ == nullptr || imap_->imap_response == nullptr)
    return {};
  return sanitize_server_text(without_secrets(imap_->imap_response));
}

void session::remember_sent(const secret& password, const std::string& user) {
  sent_password_ = password;
  sent_forms_.clear();
  for (auto mech : {sasl_mechanism::xoauth2, sasl_mechanism::oauthbearer})
    sent_forms_.push_back(
      sasl::initial_response(mech, user, host_, port_, password));
}

std::string session::without_secrets(std::string text) const {
  text = redact(std::move(text), sent_password_.reveal());
  for (auto& form : sent_forms_)
    text = redact(std::move(text), form.reveal());
  return text;
}

// -- errors -------------------------------------------------------------------

caf::error session::interrupted() const {
  if (canceller_->expired())
    return caf::make_error(
      ec::timed_out, "The IMAP server " + host_ + ":" + std::to_string(port_)
                       + " did not complete the operation within "
                       + std::to_string(options_.operation_timeout.count())
                       + " seconds");
  if (canceller_->cancelled())
    return caf::make_error(ec::cancelled,
                           "The IMAP operation was cancelled because Postern "
                           "is shutting down or replacing the connection");
  return {};
}

caf::error session::check_usable() {
  if (auto err = interrupted())
    return err;
  if (!usable_)
    return caf::make_error(ec::connection_failed,
                           "The connection to the IMAP server " + host_ + ":"
                             + std::to_string(port_)
                             + " is closed; a new one is needed");
  return {};
}

caf::error session::command_error(int rc, std::string_view action) {
  auto where = host_ + ":" + std::to_string(port_);
  auto dead = [&](caf::error err) {
    POSTERN_DEBUG("IMAP connection to {} closed: {}", where, describe(err));
    close_stream();
    return err;
  };
  // Over budget, the driver failed the read: say so, not "broke".
  if (auto& v = budget_->violation()) {
    POSTERN_INFO("IMAP server {} over budget while trying to {}", where,
                 action);
    return dead(caf::make_error(
      ec::over_budget, describe_violation(v, options_.account_label, "IMAP")));
  }
  // A cancel or deadline shuts the socket down under libetpan, which then
  // reads an end of stream: in the greeting that is a parse error, in a
  // command a stream error. Either way the cause is the interruption.
  if (rc != MAILIMAP_ERROR_BAD_STATE)
    if (auto err = interrupted())
      return dead(std::move(err));
  switch (rc) {
    case MAILIMAP_ERROR_STREAM:
    case MAILIMAP_ERROR_CONNECTION_REFUSED:
    case MAILIMAP_ERROR_SSL: {
      auto elapsed = std::chrono::steady_clock::now() - call_start_;
      // libetpan reports a timeout and a reset alike; the clock tells them
      // apart.
      if (elapsed + std::chrono::milliseconds{300} >= options_.timeout)
        return dead(caf::make_error(
          ec::timed_out, "The IMAP server " + where + " did not answer within "
                           + std::to_string(options_.timeout.count())
                           + " seconds (while trying to " + std::string{action}
                           + ")"));
      return dead(caf::make_error(ec::connection_failed,
                                  "The connection to the IMAP server " + where
                                    + " broke while trying to "
                                    + std::string{action}));
    }
    case MAILIMAP_ERROR_PARSE:
      return dead(caf::make_error(
        ec::protocol_violation,
        "The IMAP server " + where
          + " sent a response Postern could not understand (while trying to "
          + std::string{action} + ")"));
    case MAILIMAP_ERROR_FATAL: {
      auto text = server_text();
      return dead(caf::make_error(ec::connection_failed,
                                  "The IMAP server " + where
                                    + " closed the connection"
                                    + (text.empty() ? "" : ": " + text)));
    }
    case MAILIMAP_ERROR_MEMORY:
      return dead(
        caf::make_error(ec::imap_failure, "Out of memory while trying to "
                                            + std::string{action}));
    case MAILIMAP_ERROR_BAD_STATE:
      return caf::make_error(ec::imap_failure,
                             "The IMAP session is in the wrong state to "
                               + std::string{action});
    case MAILIMAP_ERROR_PROTOCOL: {
      // A tagged BAD: the server did not accept the command itself.
      auto text = server_text();
      return caf::make_error(ec::server_refused,
                             "The IMAP server rejected the command to "
                               + std::string{action}
                               + (text.empty() ? "" : ": " + text));
    }
    default: {
      auto text = server_text();
      return caf::make_error(ec::server_refused,
                             "The IMAP server could not " + std::string{action}
                               + (text.empty() ? "" : ": " + text));
    }
  }
}

caf::error session::folder_error(const std::string& folder, int rc,
                                 std::string_view action) {
  auto err = command_error(rc, action);
  if (err.code() != static_cast<uint8_t>(ec::server_refused) || !usable_)
    return err;
  bool trycreate = imap_->imap_response_info != nullptr
                   && imap_->imap_response_info->rsp_trycreate;
  // NO [TRYCREATE] means the target mailbox is missing; for SELECT etc. ask
  // the server whether the folder exists (NONEXISTENT is not universal).
  if (trycreate || !folder_exists(wire_mailbox_name(folder)))
    return caf::make_error(ec::no_such_folder, "The folder \""
                                                 + mime::to_valid_utf8(folder)
                                                 + "\" does not exist");
  return err;
}

bool session::folder_exists(const std::string& wire) {
  if (wire == "INBOX")
    return true;
  clist* raw = nullptr;
  start_call();
  auto rc = mailimap_list(imap_, "", wire.c_str(), &raw);
  list_result_ptr list{raw};
  if (rc != MAILIMAP_NO_ERROR) {
    command_error(rc, "check the folder"); // notes a dead connection
    return true; // unknown: report the original error rather than guess
  }
  for (auto* mb : items<mailimap_mailbox_list>(list.get())) {
    if (mb->mb_name == nullptr || wire != mb->mb_name)
      continue;
    bool nonexistent = false;
    if (mb->mb_flag != nullptr)
      for (auto* f : items<mailimap_mbx_list_oflag>(mb->mb_flag->mbf_oflags))
        if (f->of_type == MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT
            && f->of_flag_ext != nullptr
            && mime::iequals(f->of_flag_ext, "NonExistent"))
          nonexistent = true;
    return !nonexistent;
  }
  return false;
}

// -- connecting ---------------------------------------------------------------

namespace {

// SNI: libetpan calls this with the TLS context before the handshake.
void set_server_name(mailstream_ssl_context* ctx, void* data) {
  auto* host = static_cast<std::string*>(data);
  if (!is_ip_literal(*host))
    mailstream_ssl_set_server_name(ctx, host->data());
}

} // namespace

caf::error session::connect(const server_settings& server,
                            const secret& password) {
  deadline_guard deadline{canceller_, options_.operation_timeout};
  if (imap_ != nullptr)
    return caf::make_error(ec::imap_failure,
                           "The IMAP session is already connected");
  ignore_sigpipe();
  host_ = server.host;
  port_ = server.port != 0                             ? server.port
          : server.security == transport_security::tls ? uint16_t{993}
                                                       : uint16_t{143};
  imap_ = mailimap_new(0, nullptr);
  if (imap_ == nullptr)
    return caf::make_error(ec::imap_failure, "Out of memory");
  mailimap_set_timeout(imap_, options_.timeout.count());
  if (auto err = open_stream(server))
    return err;
  if (server.security == transport_security::starttls)
    if (auto err = start_tls())
      return err;
  if (auto err = login(server, password))
    return err;
  return refresh_capabilities();
}

caf::error session::open_stream(const server_settings& server) {
  auto where = host_ + ":" + std::to_string(port_);
  if (options_.open_stream) {
    if (server.security != transport_security::plain)
      return caf::make_error(ec::imap_failure,
                             "A stream made by open_stream is plain only");
    auto* stream = options_.open_stream();
    if (stream == nullptr)
      return caf::make_error(ec::connection_failed,
                             "Could not open the stream to " + where);
    if (!install_budget(stream, budget_)) {
      mailstream_close(stream);
      return caf::make_error(ec::imap_failure, "Out of memory");
    }
    canceller_->attach(-1, stream);
    return greet(stream, where);
  }
  auto fd = tcp_connect(host_, port_, options_.timeout, *canceller_, "IMAP",
                        options_.hosts);
  if (!fd)
    return std::move(fd.error());
  canceller_->attach(*fd, nullptr);
  mailstream* stream = nullptr;
  auto secs = options_.timeout.count();
  start_call();
  if (server.security == transport_security::tls)
    stream = mailstream_ssl_open_with_callback_timeout(*fd, secs,
                                                       set_server_name, &host_);
  else
    stream = mailstream_socket_open_timeout(*fd, secs);
  if (stream == nullptr) {
    canceller_->detach();
    ::close(*fd);
    if (auto err = interrupted())
      return err;
    if (server.security == transport_security::tls) {
      if (std::chrono::steady_clock::now() - call_start_
            + std::chrono::milliseconds{300}
          >= options_.timeout)
        return caf::make_error(ec::timed_out, "The TLS handshake with " + where
                                                + " did not finish within "
                                                + std::to_string(secs)
                                                + " seconds");
      return caf::make_error(ec::tls_failure,
                             "The TLS handshake with the IMAP server " + where
                               + " failed; check that this port expects TLS "
                                 "(usually 993) and not STARTTLS (143)");
    }
    return caf::make_error(ec::imap_failure, "Out of memory");
  }
  canceller_->attach(*fd, stream);
  if (!select_safe(stream)) {
    canceller_->detach();
    mailstream_close(stream);
    return too_many_files();
  }
  if (!install_budget(stream, budget_)) {
    canceller_->detach();
    mailstream_close(stream);
    return caf::make_error(ec::imap_failure, "Out of memory");
  }
  if (server.security == transport_security::tls)
    if (auto err = verify_peer_certificate(stream, host_, options_.ca_file)) {
      canceller_->detach();
      mailstream_close(stream);
      return caf::make_error(ec::tls_failure,
                             "The certificate of the IMAP server " + where
                               + " is not valid: " + describe(err));
    }
  return greet(stream, where);
}

caf::error session::greet(_mailstream* stream, const std::string& where) {
  start_call();
  auto rc = mailimap_connect(imap_, stream); // owns the stream from here
  if (rc == MAILIMAP_NO_ERROR_AUTHENTICATED
      || rc == MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
    usable_ = true;
    return {};
  }
  if (rc == MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION) {
    auto text = server_text();
    close_stream();
    return caf::make_error(ec::connection_failed,
                           "The IMAP server " + where + " refused the session"
                             + (text.empty() ? "" : ": " + text));
  }
  return command_error(rc, "read the greeting");
}

caf::error session::start_tls() {
  auto where = host_ + ":" + std::to_string(port_);
  if (auto err = refresh_capabilities())
    return err;
  auto offered = std::find(caps_.all.begin(), caps_.all.end(), "STARTTLS")
                 != caps_.all.end();
  if (!offered) {
    close_stream();
    return caf::make_error(ec::not_supported,
                           "The IMAP server " + where
                             + " does not offer STARTTLS, so Postern will not "
                               "send the password over this unencrypted "
                               "connection; use TLS (usually port 993)");
  }
  // The stream's low-level driver is swapped during the upgrade: only the
  // socket may be cancelled meanwhile.
  auto fd = mailstream_low_get_fd(mailstream_get_low(imap_->imap_stream));
  canceller_->attach(fd, nullptr);
  start_call();
  auto rc = mailimap_socket_starttls_with_callback(imap_, set_server_name,
                                                   &host_);
  if (rc != MAILIMAP_NO_ERROR) {
    if (rc == MAILIMAP_ERROR_STREAM && !interrupted()
        && std::chrono::steady_clock::now() - call_start_
               + std::chrono::milliseconds{300}
             < options_.timeout) {
      close_stream();
      return caf::make_error(ec::tls_failure,
                             "The TLS handshake after STARTTLS with the IMAP "
                             "server "
                               + where + " failed");
    }
    return command_error(rc, "start TLS");
  }
  canceller_->attach(fd, imap_->imap_stream);
  if (!select_safe(imap_->imap_stream)) {
    close_stream();
    return too_many_files();
  }
  // STARTTLS replaced the driver the budget wrapped.
  if (!install_budget(imap_->imap_stream, budget_)) {
    close_stream();
    return caf::make_error(ec::imap_failure, "Out of memory");
  }
  if (auto err = verify_peer_certificate(imap_->imap_stream, host_,
                                         options_.ca_file)) {
    close_stream();
    return caf::make_error(ec::tls_failure,
                           "The certificate of the IMAP server " + where
                             + " is not valid: " + describe(err));
  }
  // Capabilities seen before TLS must not be trusted (RFC 3501 6.2.1).
  caps_ = {};
  return {};
}

caf::error session::login(const server_settings& server,
                          const secret& password) {
  if (imap_->imap_state == MAILIMAP_STATE_AUTHENTICATED)
    return {}; // PREAUTH greeting
  if (caps_.all.empty())
    if (auto err = refresh_capabilities())
      return err;
  if (options_.sasl != sasl_mechanism::password)
    return authenticate(server, password);
  if (std::find(caps_.all.begin(), caps_.all.end(), "LOGINDISABLED")
      != caps_.all.end()) {
    close_stream();
    return caf::make_error(ec::not_supported,
                           "The IMAP server " + host_
                             + " does not allow password login on this "
                               "connection (LOGINDISABLED)");
  }
  start_call();
  remember_sent(password, server.username);
  auto rc = mailimap_login(imap_, server.username.c_str(),
                           password.reveal().c_str());
  if (rc == MAILIMAP_NO_ERROR)
    return {};
  if (rc != MAILIMAP_ERROR_LOGIN && rc != MAILIMAP_ERROR_PROTOCOL)
    return command_error(rc, "log in");
  // Some servers echo what they got; never let the password into an error.
  auto text = server_text();
  std::string code;
  if (imap_->imap_response_info != nullptr
      && imap_->imap_response_info->rsp_atom != nullptr)
    code = mime::to_lower(imap_->imap_response_info->rsp_atom);
  close_stream();
  if (code == "unavailable" || code == "inuse" || code == "expired"
      || code == "privacyrequired" || code == "contactadmin")
    return caf::make_error(ec::server_refused,
                           "The IMAP server did not let you log in"
                             + (text.empty() ? "" : ": " + text));
  return caf::make_error(ec::authentication_failed,
                         "The IMAP server rejected the username or password"
                           + (text.empty() ? "" : " (" + text + ")"));
}

caf::error session::refresh_capabilities() {
  // Not mailimap_capability: libetpan 1.9.4 copies the connection's record
  // of capabilities there without checking it, and a server decides what
  // that record holds. A bare OK with no "* CAPABILITY" line left no record
  // at all; "[CAPABILITY]" with nothing after it in an answer leaves a
  // record without a list (both crashed the process; found by tests/fuzz
  // imap). The untagged answer to a plain CAPABILITY command lands in the
  // same record, which is read here with the checks libetpan skips.
  auto* info = imap_->imap_connection_info;
  if (info == nullptr)
    return caf::make_error(ec::imap_failure,
                           "The IMAP session is not connected");
  start_call();
  auto rc = mailimap_custom_command(imap_, "CAPABILITY");
  if (rc != MAILIMAP_NO_ERROR)
    return command_error(rc, "read the capabilities");
  caps_ = convert_capabilities(info->imap_capability);
  return {};
}

caf::error session::noop() {
  deadline_guard deadline{canceller_, options_.operation_timeout};
  if (auto err = check_usable())
    return err;
  start_call();
  auto rc = mailimap_noop(imap_);
  if (rc != MAILIMAP_NO_ERROR)
    return command_error(rc, "check the connection");
  return {};
}

// -- folders ------------------------------------------------------------------

caf::error session::select(const std::string& folder) {
  if (auto err = check_usable())
    return err;
  auto wire = wire_mailbox_name(folder);
  if (wire == selected_) {
    // Already selected: NOOP brings in new EXISTS/EXPUNGE counts.
    start_call();
    auto rc = mailimap_noop(imap_);
    if (rc != MAILIMAP_NO_ERROR)
      return command_error(rc, "refresh the folder");
    return {};
  }
  selected_.clear();
  start_call();
  auto rc = mailimap_select(imap_, wire.c_str());
  if (rc != MAILIMAP_NO_ERROR)
    return folder_error(folder, rc, "open the folder \"" + folder + "\"");
  selected_ = wire;
  uid_validity_ = imap_->imap_selection_info != nullptr
                    ? imap_->imap_selection_info->sel_uidvalidity
                    : 0;
  return {};
}

} // namespace postern::imap
