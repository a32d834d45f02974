// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace postern::http {

namespace bhttp = boost::beast::http;

using request_type = bhttp::request<bhttp::string_body>;
using response_type = bhttp::response<bhttp::string_body>;

/// Fires once when the client closes its connection before the response to
/// its request was sent. In protocol 2026-07-28 that is how a client cancels
/// a call; handlers that can abandon work subscribe. Thread-safe: the
/// session fires it on its own thread, handlers subscribe from any.
class client_gone {
public:
  /// Runs `f` when the signal fires, or at once if it already has.
  void subscribe(std::function<void()> f);

  /// Runs the subscribers (once; later calls do nothing).
  void fire();

  bool fired() const;

private:
  mutable std::mutex mtx_;
  bool fired_ = false;
  std::vector<std::function<void()>> subscribers_;
};

/// One request as the handlers see it: the parsed message plus what only the
/// connection knows.
struct request {
  request_type raw;
  /// The client's IP address (from X-Forwarded-For when TRUST_PROXY is on).
  std::string client_address;
  /// True when the connection itself is TLS.
  bool secure = false;
  /// Fires if the client goes away before the response (never null).
  std::shared_ptr<client_gone> gone = std::make_shared<client_gone>();

  /// The target without its query string.
  std::string_view path() const;
  /// The query string without '?', or empty.
  std::string_view query() const;
};

/// Delivers the response to one request, exactly once, from any thread (the
/// session posts it back to its strand). If every copy is destroyed without
/// a response, the client gets a 500 instead of a hung connection.
class responder {
public:
  using sink = std::function<void(response_type)>;

  explicit responder(sink send);

  /// Sends the response; calls after the first are ignored.
  void operator()(response_type response) const;

  /// True once a response was sent.
  bool done() const;

private:
  struct state;
  std::shared_ptr<state> state_;
};

} // namespace postern::http
