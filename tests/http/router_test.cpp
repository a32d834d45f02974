// SPDX-License-Identifier: Apache-2.0
#include "postern/http/metrics.hpp"
#include "postern/http/metrics_route.hpp"
#include "postern/http/responses.hpp"
#include "postern/http/router.hpp"
#include "postern/http/routes.hpp"
#include "postern/http/server.hpp"

#include <gtest/gtest.h>

#include <optional>

using namespace postern::http;

namespace {

request make_request(bhttp::verb method, std::string target) {
  request req;
  req.raw.method(method);
  req.raw.target(target);
  req.raw.version(11);
  return req;
}

/// Dispatches synchronously and returns what the handler answered.
std::optional<response_type> dispatch(const router& r, const request& req) {
  std::optional<response_type> result;
  r.dispatch(req,
             responder{[&](response_type res) { result = std::move(res); }});
  return result;
}

router sample_router() {
  router r;
  r.add(bhttp::verb::get, "/a", [](const request&, const responder& respond) {
    respond(json_response(bhttp::status::ok, "{\"a\":1}"));
  });
  r.add(bhttp::verb::post, "/a", [](const request&, const responder& respond) {
    respond(json_response(bhttp::status::created, "{}"));
  });
  r.add_prefix(bhttp::verb::get, "/static/", serve_static);
  return r;
}

} // namespace

TEST(router, dispatches_by_method_and_path) {
  auto r = sample_router();
  auto get = dispatch(r, make_request(bhttp::verb::get, "/a?x=1"));
  ASSERT_TRUE(get);
  EXPECT_EQ(get->result(), bhttp::status::ok);
  EXPECT_EQ(get->body(), "{\"a\":1}");
  auto post = dispatch(r, make_request(bhttp::verb::post, "/a"));
  ASSERT_TRUE(post);
  EXPECT_EQ(post->result(), bhttp::status::created);
}

TEST(router, unknown_path_is_a_json_404) {
  auto r = sample_router();
  auto res = dispatch(r, make_request(bhttp::verb::get, "/nope"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result(), bhttp::status::not_found);
  EXPECT_EQ((*res)[bhttp::field::content_type], "application/json");
  EXPECT_EQ(res->body(),
            "{\"error\":\"not_found\",\"error_description\":\"No such "
            "endpoint: /nope\"}");
}

TEST(router, wrong_method_is_a_405_with_allow) {
  auto r = sample_router();
  auto res = dispatch(r, make_request(bhttp::verb::delete_, "/a"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result(), bhttp::status::method_not_allowed);
  EXPECT_EQ((*res)[bhttp::field::allow], "GET, POST");
}

TEST(router, head_is_routed_like_get) {
  auto r = sample_router();
  auto res = dispatch(r, make_request(bhttp::verb::head, "/a"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result(), bhttp::status::ok);
}

TEST(router, paths_with_invalid_utf8_still_give_valid_json) {
  auto r = sample_router();
  auto res = dispatch(r, make_request(bhttp::verb::get, "/\xff\"x"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body(), "{\"error\":\"not_found\",\"error_description\":"
                         "\"No such endpoint: /\xEF\xBF\xBD\\\"x\"}");
}

TEST(static_files, serves_embedded_assets_and_nothing_else) {
  auto r = sample_router();
  auto css = dispatch(r, make_request(bhttp::verb::get, "/static/postern.css"));
  ASSERT_TRUE(css);
  EXPECT_EQ(css->result(), bhttp::status::ok);
  EXPECT_EQ((*css)[bhttp::field::content_type], "text/css; charset=utf-8");
  EXPECT_NE(css->body().find("body"), std::string::npos);
  for (auto target : {"/static/../CMakeLists.txt", "/static/missing.css",
                      "/static/", "/static/%2e%2e/x"}) {
    auto res = dispatch(r, make_request(bhttp::verb::get, target));
    ASSERT_TRUE(res) << target;
    EXPECT_EQ(res->result(), bhttp::status::not_found) << target;
  }
}

TEST(responder, answers_once_and_500_when_dropped) {
  int calls = 0;
  std::optional<response_type> last;
  {
    responder respond{[&](response_type res) {
      ++calls;
      last = std::move(res);
    }};
    respond(json_response(bhttp::status::ok, "{}"));
    respond(json_response(bhttp::status::accepted, "{}"));
    EXPECT_TRUE(respond.done());
  }
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(last->result(), bhttp::status::ok);
  {
    responder dropped{[&](response_type res) {
      ++calls;
      last = std::move(res);
    }};
  }
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(last->result(), bhttp::status::internal_server_error);
}

namespace {

proxy_trust trust(std::string_view ranges = "loopback") {
  proxy_trust t;
  t.enabled = true;
  t.proxies = *postern::host_policy::parse(ranges);
  return t;
}

/// Header lines in order: {"X-Forwarded-For", "1.2.3.4"}, ...
bhttp::fields headers(
  std::initializer_list<std::pair<std::string_view, std::string_view>> lines) {
  bhttp::fields f;
  for (auto& [name, value] : lines)
    f.insert(name, value);
  return f;
}

} // namespace

TEST(client_address, ignores_forwarded_for_unless_trusted) {
  auto xff = headers({{"X-Forwarded-For", "1.2.3.4"}});
  proxy_trust off;
  EXPECT_EQ(client_address("127.0.0.1", xff, off), "127.0.0.1");
  EXPECT_EQ(client_address("127.0.0.1", headers({}), trust()), "127.0.0.1");
  // A peer outside TRUSTED_PROXIES is the client, whatever it claims.
  EXPECT_EQ(client_address("10.0.0.1", xff, trust()), "10.0.0.1");
  EXPECT_EQ(client_address("10.0.0.1", xff, trust("10.0.0.0/8")), "1.2.3.4");
  EXPECT_EQ(client_address("::ffff:127.0.0.1", xff, trust()), "1.2.3.4");
}

TEST(client_address, takes_the_right_most_untrusted_hop) {
  auto t = trust();
  EXPECT_EQ(client_address("127.0.0.1",
                           headers({{"X-Forwarded-For", "1.2.3.4"}}), t),
            "1.2.3.4");
  // The client can prepend anything; only what our proxy appended counts.
  EXPECT_EQ(client_address("127.0.0.1",
                           headers({{"X-Forwarded-For", "6.6.6.6, 1.2.3.4"}}),
                           t),
            "1.2.3.4");
  EXPECT_EQ(
    client_address("127.0.0.1",
                   headers({{"X-Forwarded-For", "6.6.6.6,2001:db8::1 "}}), t),
    "2001:db8::1");
  // Trusted hops on the right are skipped (a chain of our own proxies).
  EXPECT_EQ(
    client_address("127.0.0.1",
                   headers({{"X-Forwarded-For", "6.6.6.6, 1.2.3.4, "
                                                "10.0.0.7, 127.0.0.1"}}),
                   trust("loopback,10.0.0.0/8")),
    "1.2.3.4");
  // Garbage where our proxy should have written: its own address counts.
  EXPECT_EQ(client_address("127.0.0.1",
                           headers({{"X-Forwarded-For", "1.2.3.4, not-an-ip"}}),
                           t),
            "127.0.0.1");
}

TEST(client_address, a_second_header_line_cannot_choose_the_address) {
  auto t = trust();
  // HAProxy's option forwardfor adds its own header after the client's:
  // the first line is the client's lie, the last one is the truth.
  EXPECT_EQ(client_address("127.0.0.1",
                           headers({{"X-Forwarded-For", "6.6.6.6"},
                                    {"X-Forwarded-For", "1.2.3.4"}}),
                           t),
            "1.2.3.4");
  EXPECT_EQ(client_address("127.0.0.1",
                           headers({{"X-Forwarded-For", "6.6.6.6"},
                                    {"Host", "a"},
                                    {"x-forwarded-for", "1.2.3.4, 127.0.0.1"}}),
                           t),
            "1.2.3.4");
}

TEST(client_address, reads_forwarded_too) {
  auto t = trust();
  EXPECT_EQ(client_address(
              "127.0.0.1",
              headers({{"Forwarded", "for=6.6.6.6, for=1.2.3.4;proto=https"}}),
              t),
            "1.2.3.4");
  EXPECT_EQ(client_address(
              "127.0.0.1",
              headers({{"Forwarded", "For=\"[2001:db8:cafe::17]:4711\";by=x"}}),
              t),
            "2001:db8:cafe::17");
  EXPECT_EQ(client_address("127.0.0.1",
                           headers({{"Forwarded", "for=\"192.0.2.60:8080\""}}),
                           t),
            "192.0.2.60");
  // Across both kinds of header, in line order.
  EXPECT_EQ(client_address("127.0.0.1",
                           headers({{"X-Forwarded-For", "6.6.6.6"},
                                    {"Forwarded", "for=1.2.3.4"}}),
                           t),
            "1.2.3.4");
  EXPECT_EQ(client_address("127.0.0.1",
                           headers({{"Forwarded", "for=6.6.6.6"},
                                    {"X-Forwarded-For", "1.2.3.4"}}),
                           t),
            "1.2.3.4");
  // An obfuscated or unknown hop stops the walk at our proxy.
  EXPECT_EQ(client_address("127.0.0.1",
                           headers({{"Forwarded", "for=1.2.3.4, for=unknown"}}),
                           t),
            "127.0.0.1");
  EXPECT_EQ(client_address("127.0.0.1",
                           headers({{"Forwarded", "for=1.2.3.4, for=_hidden"}}),
                           t),
            "127.0.0.1");
}

TEST(metrics_route, needs_the_token_even_on_loopback) {
  postern::config cfg;
  cfg.bind = "127.0.0.1";
  router off;
  add_metrics_route(off, cfg, endpoints{});
  auto res = dispatch(off, make_request(bhttp::verb::get, "/metrics"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result(), bhttp::status::not_found);
  EXPECT_NE(res->body().find("METRICS_TOKEN"), std::string::npos);
  cfg.metrics_token = postern::secret{"metrics-secret"};
  router protected_routes;
  add_metrics_route(protected_routes, cfg, endpoints{});
  auto anonymous = dispatch(protected_routes,
                            make_request(bhttp::verb::get, "/metrics"));
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->result(), bhttp::status::unauthorized);
  EXPECT_EQ(anonymous->at(bhttp::field::www_authenticate), "Bearer");
  for (auto given : {"Bearer metrics-secreT", "Bearer metrics-secre",
                     "Bearer metrics-secret2", "Basic metrics-secret",
                     "metrics-secret", "Bearer "}) {
    auto wrong = make_request(bhttp::verb::get, "/metrics");
    wrong.raw.set(bhttp::field::authorization, given);
    auto denied = dispatch(protected_routes, wrong);
    ASSERT_TRUE(denied);
    EXPECT_EQ(denied->result(), bhttp::status::unauthorized) << given;
    EXPECT_EQ(denied->body().find("metrics-secret"), std::string::npos);
  }
}

TEST(metrics, renders_prometheus_text_with_bounded_labels) {
  auto& m = postern::http::metrics::instance();
  m.observe_request("/unit-test", 200, std::chrono::microseconds(700));
  m.observe_request("/unit-test", 200, std::chrono::microseconds(30000));
  m.observe_tool("unit_tool", "ok", std::chrono::microseconds(1500));
  m.count_error("unit:kind");
  auto text = m.render({{"unit_gauge", 3}});
  EXPECT_NE(
    text.find(
      "postern_http_requests_total{route=\"/unit-test\",status=\"200\"} 2"),
    std::string::npos)
    << text;
  EXPECT_NE(text.find("postern_http_request_duration_seconds_bucket{route=\"/"
                      "unit-test\",le=\"0.001\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("postern_http_request_duration_seconds_bucket{route=\"/"
                      "unit-test\",le=\"0.05\"} 2"),
            std::string::npos);
  EXPECT_NE(
    text.find("postern_tool_calls_total{tool=\"unit_tool\",outcome=\"ok\"} 1"),
    std::string::npos);
  EXPECT_NE(text.find("postern_errors_total{kind=\"unit:kind\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("unit_gauge 3"), std::string::npos);
}

TEST(client_gone, fires_each_subscriber_once_and_late_subscribers_at_once) {
  postern::http::client_gone gone;
  int early = 0;
  int late = 0;
  gone.subscribe([&] { ++early; });
  EXPECT_FALSE(gone.fired());
  gone.fire();
  gone.fire();
  EXPECT_TRUE(gone.fired());
  EXPECT_EQ(early, 1);
  gone.subscribe([&] { ++late; });
  EXPECT_EQ(late, 1);
}

TEST(client_gone, a_subscriber_may_subscribe_again_while_it_runs) {
  postern::http::client_gone gone;
  int inner = 0;
  gone.subscribe([&] { gone.subscribe([&] { ++inner; }); });
  gone.fire();
  EXPECT_EQ(inner, 1);
}
