// SPDX-License-Identifier: Apache-2.0
#pragma once

// Internal: TCP connect with a timeout and typed errors, and the guards
// libetpan needs, shared by the IMAP session and the SMTP client.

#include "postern/host_policy.hpp"
#include "postern/imap/session.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct _mailstream;

namespace postern::imap {

/// Resolves `host` once and connects to `port` within `timeout`, trying
/// every resolved address that `hosts` allows, and only those: the address
/// checked is the address connected to, so a DNS answer that changes
/// between a check and the connect (rebinding) cannot reach a denied
/// network. Returns a blocking socket below FD_SETSIZE. Errors are
/// `invalid_argument` (not a host name), `forbidden` (every address
/// denied), `connection_failed` (unknown host, refused, unreachable),
/// `timed_out` or `cancelled`; `protocol` ("IMAP", "SMTP") names the server
/// in sentences.
caf::expected<int> tcp_connect(const std::string& host, uint16_t port,
                               std::chrono::seconds timeout, canceller& cancel,
                               std::string_view protocol,
                               const host_policy& hosts);

/// Arms an operation deadline on `c` while it lives: a watchdog thread calls
/// `c->expire()` once `limit` has passed. Nested guards keep the outer
/// deadline. Only the connection's owner thread creates guards.
class deadline_guard {
public:
  deadline_guard(const std::shared_ptr<canceller>& c,
                 std::chrono::seconds limit);
  ~deadline_guard();

  deadline_guard(const deadline_guard&) = delete;
  deadline_guard& operator=(const deadline_guard&) = delete;

private:
  std::shared_ptr<canceller> c_;
  uint64_t id_ = 0;
};

/// Debian's libetpan waits with select(), whose fd_set holds descriptors
/// below FD_SETSIZE only (a higher one aborts the process under
/// _FORTIFY_SOURCE). Checks the stream's socket and cancel pipe.
bool select_safe(_mailstream* stream);

/// The error for a connection refused by select_safe().
caf::error too_many_files();

/// Writing to a socket the peer reset raises SIGPIPE, which would kill the
/// process; libetpan sends without MSG_NOSIGNAL. Ignores it, once.
void ignore_sigpipe();

/// Whether `host` is an IPv4 or IPv6 literal (no SNI for those).
bool is_ip_literal(const std::string& host);

/// Makes server text fit for an error sentence: valid UTF-8, no control
/// characters, at most 300 bytes.
std::string sanitize_server_text(std::string_view text);

/// Replaces occurrences of `secret_text` (if 4+ bytes) with "[redacted]".
std::string redact(std::string text, const std::string& secret_text);

} // namespace postern::imap
