// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/config.hpp"
#include "postern/host_policy.hpp"
#include "postern/http/router.hpp"

#include <caf/error.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace postern::http {

/// The HTTP(S) server: an Asio thread pool, one strand per connection, a
/// parser with header and body limits, timeouts on every read and write, and
/// a graceful shutdown that drains connections.
class server {
public:
  explicit server(const config& cfg);
  ~server();

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Loads TLS material (when configured), binds and listens. Fails with a
  /// sentence naming the address or file.
  caf::error bind();

  /// The port actually bound (differs from the config when it was 0);
  /// known after bind().
  uint16_t port() const;

  /// Starts accepting and serving `routes` on the server's threads.
  void run(std::shared_ptr<const router> routes);

  /// Number of open connections (for tests and status).
  size_t connections() const;

  /// Stops accepting, lets requests in flight finish, closes idle keep-alive
  /// connections, and stops the threads after at most `grace`. Blocks; call
  /// it from a thread that is not one of the server's.
  void shutdown(std::chrono::milliseconds grace);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Which peers may name the client's address: with TRUST_PROXY on, the
/// proxies of TRUSTED_PROXIES (CIDR ranges, default loopback).
struct proxy_trust {
  bool enabled = false;
  /// The trusted proxies, as a set of ranges (host_policy's syntax; an
  /// address this policy does not allow is a trusted proxy).
  host_policy proxies = host_policy::deny_private();

  /// From TRUST_PROXY and TRUSTED_PROXIES (already validated).
  static proxy_trust from(const config& cfg);

  /// True for a well-formed address inside TRUSTED_PROXIES.
  bool trusts(std::string_view address) const;
};

/// The addresses of every X-Forwarded-For and Forwarded (`for=`) header,
/// in the order of the header lines and, within one, left to right. Entries
/// that are not addresses ("unknown", "_hidden", garbage) are kept as
/// empty strings so that they stop a walk from the right.
std::vector<std::string> forwarded_chain(const bhttp::fields& headers);

/// The client address for logs and rate limits: the socket peer; or, with
/// TRUST_PROXY and a peer inside TRUSTED_PROXIES, the right-most address of
/// the forwarded chain that is not a trusted proxy (earlier entries are
/// client-controlled; a proxy such as HAProxy's `option forwardfor` adds
/// its own header after the client's). A malformed entry reached before an
/// untrusted address stops the walk at the last trusted hop.
std::string client_address(const std::string& peer,
                           const bhttp::fields& headers,
                           const proxy_trust& trust);

} // namespace postern::http
