// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <functional>
#include <memory>
#include <string>

namespace postern::http {

namespace bhttp = boost::beast::http;

using request_type = bhttp::request<bhttp::string_body>;
using response_type = bhttp::response<bhttp::string_body>;

/// One request as the handlers see it: the parsed message plus what only the
/// connection knows.
struct request {
  request_type raw;
  /// The client's IP address (from X-Forwarded-For when TRUST_PROXY is on).
  std::string client_address;
  /// True when the connection itself is TLS.
  bool secure = false;

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
