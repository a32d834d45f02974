// SPDX-License-Identifier: Apache-2.0
// The HTTP client of a provider's token endpoint: one POST per call, on
// the calling thread (the ACCOUNT runs it on a detached helper, never on a
// CAF worker), bounded by one deadline for the whole exchange. The
// endpoint is the operator's configuration, not user input, so no address
// policy applies; TLS is verified against the system's CAs with the host
// name checked, and plain http is allowed only for loopback hosts.
#include "postern/error.hpp"
#include "postern/imap/tls_verify.hpp"
#include "postern/oauth/mail_provider.hpp"
#include "postern/oauth/uri.hpp"
#include "postern/version.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>


#include <optional>

namespace postern::oauth {

namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

constexpr size_t max_answer_bytes = 64 * 1024;

caf::error failed(std::string sentence) {
  return caf::make_error(ec::connection_failed, std::move(sentence));
}

/// Runs `op` (which starts async work on `ioc`) to completion or deadline.
template <class Stream>
caf::expected<std::pair<unsigned, std::string>>
post(net::io_context& ioc, Stream& stream, const uri_parts& parts,
     const token_exchange& req, std::chrono::seconds timeout,
     std::function<void(std::function<void(beast::error_code)>)> handshake) {
  bhttp::request<bhttp::string_body> request{bhttp::verb::post,
                                             parts.rest.empty() ? "/"
                                                                : parts.rest,
                                             11};
  request.set(bhttp::field::host,
              parts.host + (parts.port.empty() ? "" : ":" + parts.port));
  request.set(bhttp::field::user_agent, std::string{"Postern/"} + version);
  request.set(bhttp::field::content_type, "application/x-www-form-urlencoded");
  request.set(bhttp::field::accept, "application/json");
  request.set(bhttp::field::connection, "close");
  request.body() = req.body;
  request.prepare_payload();
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(max_answer_bytes);
  std::optional<caf::error> outcome;
  tcp::resolver resolver{ioc};
  auto& socket = beast::get_lowest_layer(stream);
  socket.expires_after(timeout);
  auto fail = [&](std::string sentence) {
    if (!outcome)
      outcome = failed(std::move(sentence));
  };
  auto on_read = [&](beast::error_code ec, size_t) {
    if (ec == bhttp::error::body_limit)
      return fail("the answer is larger than 64 KiB");
    if (ec)
      return fail("reading the answer failed (" + ec.message() + ")");
    outcome = caf::error{};
  };
  auto on_write = [&](beast::error_code ec, size_t) {
    if (ec)
      return fail("sending the request failed (" + ec.message() + ")");
    bhttp::async_read(stream, buffer, parser, on_read);
  };
  auto on_ready = [&](beast::error_code ec) {
    if (ec)
      return fail("TLS failed (" + ec.message() + ")");
    bhttp::async_write(stream, request, on_write);
  };
  auto on_connect = [&](beast::error_code ec, const tcp::endpoint&) {
    if (ec)
      return fail("the connection was refused (" + ec.message() + ")");
    handshake(on_ready);
  };
  auto port = parts.port.empty() ? (parts.scheme == "https" ? "443" : "80")
                                 : parts.port;
  auto host = parts.host;
  if (host.size() > 2 && host.front() == '[')
    host = host.substr(1, host.size() - 2);
  resolver.async_resolve(host, port,
                         [&](beast::error_code ec,
                             tcp::resolver::results_type results) {
                           if (ec)
                             return fail("the host cannot be resolved");
                           socket.async_connect(results, on_connect);
                         });
  ioc.run_for(timeout + std::chrono::seconds(1));
  if (!outcome) {
    ioc.stop();
    return caf::make_error(ec::timed_out, "no answer within "
                                            + std::to_string(timeout.count())
                                            + " s");
  }
  if (*outcome)
    return *outcome;
  return std::make_pair(parser.get().result_int(),
                        std::move(parser.get().body()));
}

caf::expected<std::pair<unsigned, std::string>>
send_token_request(const token_exchange& req, std::chrono::seconds timeout) {
  auto parts = split_uri(req.url);
  if (!parts || (parts->scheme != "https" && !is_loopback(*parts)))
    return failed("the token endpoint " + req.url
                  + " is not an https URL (http only on loopback)");
  net::io_context ioc{1};
  if (parts->scheme == "http") {
    beast::tcp_stream stream{ioc};
    return post(ioc, stream, *parts, req, timeout,
                [](std::function<void(beast::error_code)> next) {
                  next(beast::error_code{});
                });
  }
  ssl::context tls{ssl::context::tls_client};
  tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2
                  | ssl::context::no_sslv3 | ssl::context::no_tlsv1
                  | ssl::context::no_tlsv1_1);
  tls.set_default_verify_paths();
  tls.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream{ioc, tls};
  if (!imap::expect_tls_host(stream.native_handle(), parts->host))
    return failed("the token endpoint's host is not usable for TLS");
  return post(ioc, stream, *parts, req, timeout,
              [&stream](std::function<void(beast::error_code)> next) {
                stream.async_handshake(ssl::stream_base::client,
                                       [next](beast::error_code ec) {
                                         next(ec);
                                       });
              });
}

} // namespace

token_transport https_token_transport() {
  return send_token_request;
}

} // namespace postern::oauth
