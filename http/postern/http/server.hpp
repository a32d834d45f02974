// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/config.hpp"
#include "postern/http/forwarded.hpp"
#include "postern/http/router.hpp"

#include <caf/error.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

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

} // namespace postern::http
