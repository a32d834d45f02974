// SPDX-License-Identifier: Apache-2.0
#include "postern/http/cookies.hpp"
#include "postern/http/csrf.hpp"
#include "postern/http/form.hpp"
#include "postern/http/login_throttle.hpp"
#include "postern/http/web.hpp"

#include <gtest/gtest.h>

using namespace postern;
using namespace postern::http;

namespace {

request make_request(
  std::initializer_list<std::pair<std::string, std::string>> headers) {
  request req;
  req.raw.method(bhttp::verb::post);
  req.raw.target("/login");
  for (auto& [k, v] : headers)
    req.raw.insert(k, v);
  return req;
}

} // namespace

TEST(web_form, decodes_url_encoded_bodies) {
  auto f
    = form_data::parse("a=1&b=two+words&c=%3Cx%3E&a=2&d&e=%zz&=x&&f=%E2%9C%93");
  EXPECT_EQ(f.get("a"), "1");
  EXPECT_EQ(f.all("a").size(), 2u);
  EXPECT_EQ(f.get("b"), "two words");
  EXPECT_EQ(f.get("c"), "<x>");
  EXPECT_TRUE(f.has("d"));
  EXPECT_EQ(f.get("d"), "");
  EXPECT_EQ(f.get("e"), "%zz");
  EXPECT_EQ(f.get("f"), "\xE2\x9C\x93");
  EXPECT_FALSE(f.has("missing"));
  EXPECT_EQ(form_data::parse("a=1&b=2&c=3", 2).fields().size(), 2u);
  EXPECT_EQ(url_decode("100%"), "100%");
  EXPECT_EQ(url_encode("/a b?c=d&e"), "%2Fa%20b%3Fc%3Dd%26e");
  EXPECT_EQ(url_decode(url_encode("é /?&=+")), "é /?&=+");
}

TEST(web_cookies, finds_and_sets_cookies) {
  auto req = make_request(
    {{"Cookie", "a=1; postern_session=abc ; b=\"q\""}, {"Cookie", "c=3"}});
  EXPECT_EQ(find_cookie(req, "postern_session"), "abc");
  EXPECT_EQ(find_cookie(req, "b"), "q");
  EXPECT_EQ(find_cookie(req, "c"), "3");
  EXPECT_FALSE(find_cookie(req, "postern"));
  cookie_attributes attrs;
  attrs.secure = true;
  attrs.max_age = 60;
  EXPECT_EQ(set_cookie("s", "v", attrs),
            "s=v; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Lax");
  EXPECT_EQ(delete_cookie("s", false),
            "s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
}

TEST(web_csrf, tokens_are_bound_to_their_cookie) {
  csrf_keys keys{secret{std::string(64, 'a')}};
  csrf_keys same{secret{std::string(64, 'a')}};
  csrf_keys other{secret{std::string(64, 'b')}};
  auto binding = session_binding("session-one");
  auto token = keys.token(binding);
  EXPECT_EQ(token.size(), 43u);
  EXPECT_TRUE(keys.check(binding, token));
  EXPECT_TRUE(same.check(binding, token)) << "stable across restarts";
  EXPECT_FALSE(other.check(binding, token)) << "depends on SESSION_SECRET";
  EXPECT_FALSE(keys.check(session_binding("session-two"), token));
  EXPECT_FALSE(keys.check(pre_session_binding("session-one"), token));
  EXPECT_FALSE(keys.check(binding, ""));
  EXPECT_FALSE(keys.check("", keys.token("")));
  EXPECT_FALSE(keys.check(binding, token.substr(1)));
}

TEST(web_throttle, delays_grow_and_successes_are_refunded) {
  int64_t now = 1000000;
  login_throttle::options opts;
  opts.per_username = {3, std::chrono::seconds(2), std::chrono::seconds(10)};
  opts.per_address = {5, std::chrono::seconds(1), std::chrono::seconds(60)};
  login_throttle t{opts, [&] { return now; }};
  // Three free attempts for a username, then 2 s, 4 s, 8 s, 10 s (cap).
  EXPECT_EQ(t.begin("1.1.1.1", "Alice"), 0);
  t.finish("1.1.1.1", "Alice", false);
  EXPECT_EQ(t.begin("1.1.1.2", "alice"), 0);
  EXPECT_EQ(t.begin("1.1.1.3", "ALICE"), 0);
  EXPECT_EQ(t.begin("1.1.1.4", "alice"), 2) << "usernames are case-insensitive";
  EXPECT_EQ(t.begin("9.9.9.9", "bob"), 0) << "other users are not slowed";
  now += 2000;
  EXPECT_EQ(t.begin("1.1.1.4", "alice"), 0);
  EXPECT_EQ(t.begin("1.1.1.4", "alice"), 4);
  now += 4000;
  EXPECT_EQ(t.begin("1.1.1.4", "alice"), 0);
  EXPECT_EQ(t.wait_seconds("1.1.1.5", "alice"), 8);
  now += 8000;
  EXPECT_EQ(t.begin("1.1.1.4", "alice"), 0);
  EXPECT_EQ(t.wait_seconds("x", "alice"), 10);
  now += 10000;
  // A success clears the username.
  EXPECT_EQ(t.begin("1.1.1.4", "alice"), 0);
  t.finish("1.1.1.4", "alice", true);
  EXPECT_EQ(t.wait_seconds("x", "alice"), 0);
  // An address: five attempts over any usernames.
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(t.begin("6.6.6.6", "user" + std::to_string(i)), 0);
  EXPECT_EQ(t.begin("6.6.6.6", "user4"), 0);
  EXPECT_EQ(t.begin("6.6.6.6", "user5"), 1);
  // Sign-ups count against the address only.
  EXPECT_EQ(t.begin("7.7.7.7", ""), 0);
  EXPECT_EQ(t.wait_seconds("8.8.8.8", ""), 0);
  // Forgotten after an idle hour.
  now += 3600 * 1000;
  EXPECT_EQ(t.begin("6.6.6.6", "user5"), 0);
}

TEST(web_throttle, memory_is_bounded) {
  int64_t now = 0;
  login_throttle::options opts;
  opts.max_keys = 100;
  login_throttle t{opts, [&] { return now; }};
  for (int i = 0; i < 1000; ++i) {
    ++now;
    t.begin("10.0." + std::to_string(i), "u" + std::to_string(i));
  }
  EXPECT_LE(t.size(), 101u);
}

TEST(web_pages, next_targets_stay_on_this_server) {
  using web::safe_next;
  EXPECT_EQ(safe_next("/activity"), "/activity");
  EXPECT_EQ(safe_next("/oauth/authorize?client_id=x&state=y"),
            "/oauth/authorize?client_id=x&state=y");
  EXPECT_EQ(safe_next("//evil.example"), "/dashboard");
  EXPECT_EQ(safe_next("/\\evil.example"), "/dashboard");
  EXPECT_EQ(safe_next("https://evil.example"), "/dashboard");
  EXPECT_EQ(safe_next("/a\r\nLocation: x"), "/dashboard");
  EXPECT_EQ(safe_next(""), "/dashboard");
  EXPECT_EQ(safe_next("javascript:alert(1)"), "/dashboard");
}

TEST(web_pages, cross_site_posts_are_recognized) {
  using web::same_origin;
  EXPECT_TRUE(same_origin(make_request({{"Sec-Fetch-Site", "same-origin"}})));
  EXPECT_FALSE(same_origin(make_request({{"Sec-Fetch-Site", "cross-site"},
                                         {"Origin", "http://h"},
                                         {"Host", "h"}})));
  EXPECT_FALSE(same_origin(make_request({{"Sec-Fetch-Site", "same-site"}})));
  EXPECT_TRUE(
    same_origin(make_request({{"Origin", "http://h:1"}, {"Host", "h:1"}})));
  EXPECT_FALSE(
    same_origin(make_request({{"Origin", "http://evil"}, {"Host", "h:1"}})));
  EXPECT_FALSE(
    same_origin(make_request({{"Origin", "null"}, {"Host", "h:1"}})));
  EXPECT_TRUE(same_origin(make_request({}))) << "no browser: the token decides";
}

TEST(web_pages, pages_carry_the_csp_and_escape) {
  web::page p;
  p.title = "<T>";
  p.body = "message";
  p.data.set("heading", "<h>");
  p.data.set("message", "\"m\"");
  auto response = web::render_page(p);
  EXPECT_EQ(response.result(), bhttp::status::ok);
  EXPECT_EQ(response["Content-Security-Policy"], std::string{web::page_csp});
  auto& body = response.body();
  EXPECT_NE(body.find("<title>&lt;T&gt; · Postern</title>"), std::string::npos);
  EXPECT_NE(body.find("&lt;h&gt;"), std::string::npos);
  EXPECT_NE(body.find("&quot;m&quot;"), std::string::npos);
  EXPECT_EQ(web::format_time(0), "—");
  EXPECT_EQ(web::format_time(1700000000), "2023-11-14 22:13 UTC");
  EXPECT_EQ(web::iso_time(1700000000), "2023-11-14T22:13:20Z");
}
