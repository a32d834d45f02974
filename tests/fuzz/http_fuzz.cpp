// SPDX-License-Identifier: Apache-2.0
// HTTP requests as a connection reads them: Beast's request_parser with
// the server's limits (16 KiB of header, MAX_BODY_BYTES of body; see
// http/src/server.cpp), possibly several requests on one keep-alive
// connection, then the request's path and query, its query string and
// form body (form.cpp), its cookies (cookies.cpp), the client's address
// behind trusted proxies (forwarded.cpp: X-Forwarded-For and Forwarded)
// and routing (router.cpp) over the server's route table.
//
// The handlers of the real table ask actors (and need a whole actor
// system), so the table here has the same patterns and methods as
// add_routes (http/src/routes.cpp, dashboard.cpp, oauth.cpp, mcp_endpoint)
// with handlers that answer at once; what is fuzzed is the matching, the
// 404/405 answers with their Allow header, and what the handlers read first.
#include "fuzz_check.hpp"
#include "postern/http/cookies.hpp"
#include "postern/http/form.hpp"
#include "postern/http/forwarded.hpp"
#include "postern/http/router.hpp"

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/parser.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>

using namespace postern;
namespace bhttp = boost::beast::http;

namespace {

constexpr size_t header_limit = 16 * 1024;
constexpr uint64_t body_limit = 1024 * 1024; // MAX_BODY_BYTES's default

void read_request(const http::request& req, const http::responder& respond) {
  (void) http::form_data::parse(req.query());
  if (req.raw[bhttp::field::content_type].starts_with(
        "application/x-www-form-urlencoded"))
    (void) http::form_data::parse(req.raw.body());
  (void) http::find_cookie(req, "postern_session");
  (void) http::find_cookie(req, "postern_csrf");
  http::response_type response{bhttp::status::ok, 11};
  respond(std::move(response));
}

/// TRUST_PROXY on, TRUSTED_PROXIES loopback and 10.0.0.0/8.
const http::proxy_trust& proxies() {
  static const auto trust = [] {
    http::proxy_trust t;
    t.enabled = true;
    t.proxies = *host_policy::parse("127.0.0.0/8,::1/128,10.0.0.0/8");
    return t;
  }();
  return trust;
}

/// The client address from the forwarded headers: the peer itself, or one
/// well-formed address of the chain, in its canonical text.
void check_client_address(const http::request& req) {
  auto chain = http::forwarded_chain(req.raw);
  for (auto& hop : chain)
    fuzz::require(hop.empty() || hop == http::parse_hop(hop),
                  "a hop is empty or canonical");
  for (auto peer : {"127.0.0.1", "10.1.2.3", "192.0.2.7"}) {
    auto who = http::client_address(peer, req.raw, proxies());
    fuzz::require(!who.empty(), "there is always a client address");
    fuzz::require(
      who == peer || std::find(chain.begin(), chain.end(), who) != chain.end(),
      "the address is the peer's or one of the chain");
    if (std::string_view{peer} == "192.0.2.7")
      fuzz::require(who == peer, "an untrusted peer names itself");
  }
}

const http::router& routes() {
  static const auto table = [] {
    http::router r;
    using bhttp::verb;
    for (auto path :
         {"/", "/healthz", "/metrics", "/robots.txt", "/dashboard", "/activity",
          "/login", "/logout", "/signup", "/change-password", "/accounts/add",
          "/oauth/authorize", "/.well-known/oauth-authorization-server",
          "/.well-known/oauth-protected-resource",
          "/.well-known/oauth-protected-resource/mcp", "/mcp"})
      r.add(verb::get, path, read_request);
    for (auto path :
         {"/mcp", "/login", "/logout", "/signup", "/change-password",
          "/accounts/add", "/oauth/authorize", "/oauth/register",
          "/oauth/revoke", "/oauth/token", "/register"})
      r.add(verb::post, path, read_request);
    r.add(verb::delete_, "/mcp", read_request);
    r.add(verb::options, "/mcp", read_request);
    r.add_prefix(verb::get, "/static/", read_request);
    r.add_prefix(verb::get, "/accounts/", read_request);
    r.add_prefix(verb::post, "/accounts/", read_request);
    r.add_prefix(verb::post, "/tokens/", read_request);
    return r;
  }();
  return table;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto input = fuzz::as_text(data, size);
  // At most a few requests per connection, as a client may pipeline them.
  for (int n = 0; n < 4 && !input.empty(); ++n) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(header_limit);
    parser.body_limit(body_limit);
    parser.eager(true);
    boost::beast::error_code ec;
    size_t used = 0;
    while (!parser.is_done() && used < input.size()) {
      auto n_used = parser.put(
        boost::asio::buffer(input.data() + used, input.size() - used), ec);
      used += n_used;
      if (ec == bhttp::error::need_more) {
        ec = {};
        break;
      }
      if (ec || n_used == 0)
        break;
    }
    if (!parser.is_done() && !ec) {
      parser.put_eof(ec);
      if (ec)
        return 0;
    }
    if (ec || !parser.is_done())
      return 0;
    if (auto len = parser.content_length(); len && *len > body_limit)
      return 0;
    http::request req;
    req.raw = parser.release();
    req.client_address = "127.0.0.1";
    check_client_address(req);
    auto path = req.path();
    auto query = req.query();
    fuzz::require(path.size() + query.size() <= req.raw.target().size(),
                  "path and query are parts of the target");
    bool answered = false;
    http::responder respond{
      [&answered](http::response_type) { answered = true; }};
    routes().dispatch(req, respond);
    fuzz::require(answered, "every request is answered at once");
    (void) routes().label(path);
    if (!req.raw.keep_alive())
      break;
    input.remove_prefix(used);
  }
  return 0;
}
