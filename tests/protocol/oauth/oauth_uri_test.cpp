// SPDX-License-Identifier: Apache-2.0
// The OAuth server's URL rules and client metadata documents, without I/O.
#include "postern/error.hpp"
#include "postern/oauth/client_metadata.hpp"
#include "postern/oauth/uri.hpp"

#include <gtest/gtest.h>

using namespace postern;
using namespace postern::oauth;
using std::chrono::seconds;

TEST(OAuthUri, SplitsAndRefusesUserInfo) {
  auto p = split_uri("HTTPS://Example.COM:8443/a/b?c#d");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->scheme, "https");
  EXPECT_EQ(p->host, "example.com");
  EXPECT_EQ(p->port, "8443");
  EXPECT_EQ(p->rest, "/a/b?c#d");
  EXPECT_FALSE(split_uri("https://user@example.com/"));
  EXPECT_FALSE(split_uri("https://example.com:/x"));
  EXPECT_FALSE(split_uri("https://example.com:8x/x"));
  EXPECT_FALSE(split_uri("no-scheme"));
  EXPECT_EQ(split_uri("http://[::1]:99/cb")->host, "[::1]");
}

TEST(OAuthUri, RedirectRules) {
  EXPECT_EQ(check_redirect_uri("https://claude.ai/api/mcp/auth_callback"), "");
  EXPECT_EQ(check_redirect_uri("http://127.0.0.1:1234/cb"), "");
  EXPECT_EQ(check_redirect_uri("com.example.app:/cb"), "");
  EXPECT_NE(check_redirect_uri("http://example.com/cb"), "");
  EXPECT_NE(check_redirect_uri("https://x/cb#frag"), "");
  EXPECT_NE(check_redirect_uri("javascript:alert(1)"), "");
  EXPECT_TRUE(
    redirect_matches("http://127.0.0.1:1/cb", "http://127.0.0.1:2/cb"));
  EXPECT_FALSE(
    redirect_matches("http://127.0.0.1:1/cb", "http://127.0.0.1:2/cb2"));
  EXPECT_FALSE(redirect_matches("https://a/cb", "https://a/cb/"));
  EXPECT_FALSE(redirect_matches("https://a/cb", "https://A/cb"));
  EXPECT_EQ(host_of("https://Claude.ai/cb"), "claude.ai");
  EXPECT_EQ(redirect_origin("https://claude.ai:443/cb"),
            "https://claude.ai:443");
}

TEST(OAuthUri, CanonicalResource) {
  EXPECT_EQ(canonical_resource("HTTPS://Mail.Example.com:443/mcp/"),
            "https://mail.example.com/mcp");
  EXPECT_EQ(canonical_resource("http://localhost:80/"), "http://localhost");
}

TEST(OAuthUri, ClientNamesAreCleaned) {
  EXPECT_EQ(clean_client_name("Claude\n\x01"), "Claude");
  EXPECT_EQ(clean_client_name(std::string(300, 'x')).size(), 100u);
}

TEST(OAuthUri, MetadataUrls) {
  EXPECT_TRUE(is_metadata_client_id("https://app.example/client.json"));
  EXPECT_TRUE(is_metadata_client_id("http://app.example/client.json"));
  EXPECT_FALSE(is_metadata_client_id("pc_abc"));
  EXPECT_EQ(check_metadata_url("https://app.example/oauth/client.json"), "");
  EXPECT_EQ(check_metadata_url("https://app.example:8443/c?v=1"), "");
  EXPECT_EQ(check_metadata_url("http://app.example/client.json"),
            "A client_id URL must use https.");
  EXPECT_EQ(check_metadata_url("https://app.example"),
            "A client_id URL must have a path.");
  EXPECT_EQ(check_metadata_url("https://app.example/"),
            "A client_id URL must have a path.");
  EXPECT_EQ(check_metadata_url("https://app.example/a/../b"),
            "A client_id URL must not have . or .. path segments.");
  EXPECT_EQ(check_metadata_url("https://app.example/c#x"),
            "A client_id URL must not have a fragment.");
  EXPECT_NE(check_metadata_url("https://u@app.example/c"), "");
}

TEST(OAuthUri, CacheLifetime) {
  auto fallback = seconds(300);
  auto longest = seconds(86400);
  EXPECT_EQ(cache_lifetime("", fallback, longest), fallback);
  EXPECT_EQ(cache_lifetime("public, max-age=60", fallback, longest),
            seconds(60));
  EXPECT_EQ(cache_lifetime("Max-Age=99999999", fallback, longest), longest);
  EXPECT_EQ(cache_lifetime("no-store", fallback, longest), seconds(0));
  EXPECT_EQ(cache_lifetime("max-age=60, no-cache", fallback, longest),
            seconds(0));
  EXPECT_EQ(cache_lifetime("max-age=-5", fallback, longest), seconds(0));
}

TEST(ClientMetadata, AcceptsAGoodDocument) {
  auto url = "https://app.example/client.json";
  auto doc = parse_client_metadata(
    url, R"({"client_id":"https://app.example/client.json",
             "client_name":"App\u0007 One",
             "redirect_uris":["https://app.example/cb","http://127.0.0.1/cb"],
             "token_endpoint_auth_method":"none"})");
  ASSERT_TRUE(doc) << describe(doc.error());
  EXPECT_EQ(doc->client_id, url);
  EXPECT_EQ(doc->name, "App One");
  EXPECT_EQ(doc->redirect_uris.size(), 2u);
  auto nameless = parse_client_metadata(
    url, R"({"client_id":"https://app.example/client.json",
             "redirect_uris":["https://cb.example/x"]})");
  ASSERT_TRUE(nameless);
  EXPECT_EQ(nameless->name, "cb.example");
}

TEST(ClientMetadata, RefusesBadDocuments) {
  auto url = "https://app.example/client.json";
  auto why = [&](const char* body) {
    auto doc = parse_client_metadata(url, body);
    EXPECT_FALSE(doc) << body;
    return doc ? std::string{} : describe(doc.error());
  };
  EXPECT_EQ(why("[1]"), "The client metadata document is not a JSON object.");
  EXPECT_EQ(why(R"({"client_id":"https://app.example/client.json/",
                    "redirect_uris":["https://a/cb"]})"),
            "The client metadata document's client_id is not exactly the URL "
            "it was fetched from.");
  EXPECT_EQ(why(R"({"client_id":"https://app.example/client.json",
                    "redirect_uris":[]})"),
            "The client metadata document must list 1 to 10 redirect_uris.");
  EXPECT_NE(why(R"({"client_id":"https://app.example/client.json",
                    "redirect_uris":["http://evil.example/cb"]})"),
            "");
  EXPECT_NE(why(R"({"client_id":"https://app.example/client.json",
                    "redirect_uris":["https://a/cb"],
                    "token_endpoint_auth_method":"private_key_jwt"})"),
            "");
}

TEST(ClientMetadata, RefusesDeepNestingWithoutRecursion) {
  auto url = "https://app.example/client.json";
  // 65 levels: one past the limit; 100 000 levels would blow a recursive
  // parser's stack (ASan aborts at 65 536).
  for (size_t levels : {size_t{65}, size_t{100000}}) {
    std::string body = R"({"client_id":"https://app.example/client.json",)"
                       R"("redirect_uris":["https://a.example/cb"],"x":)";
    body += std::string(levels, '[') + std::string(levels, ']') + "}";
    EXPECT_FALSE(parse_client_metadata(url, body)) << levels;
  }
  // 63 levels inside the object (64 in all) are fine.
  std::string ok = R"({"client_id":"https://app.example/client.json",)"
                   R"("redirect_uris":["https://a.example/cb"],"x":)";
  ok += std::string(63, '[') + std::string(63, ']') + "}";
  EXPECT_TRUE(parse_client_metadata(url, ok));
  // Brackets inside strings do not count.
  std::string quoted = R"({"client_id":"https://app.example/client.json",)"
                       R"("redirect_uris":["https://a.example/cb"],"x":")";
  quoted += std::string(1000, '[') + "\"}";
  EXPECT_TRUE(parse_client_metadata(url, quoted));
}

TEST(ClientRegistration, SharesTheDocumentsRulesAndAddsItsOwn) {
  auto reg = parse_registration(R"({"redirect_uris":["https://a.example/cb"],
                                    "client_name":"Claude",
                                    "grant_types":["authorization_code",
                                                   "refresh_token"],
                                    "response_types":["code"],
                                    "token_endpoint_auth_method":"none"})");
  ASSERT_TRUE(reg) << describe(reg.error());
  EXPECT_TRUE(reg->client_id.empty());
  EXPECT_EQ(reg->name, "Claude");
  ASSERT_EQ(reg->redirect_uris.size(), 1u);
  // Without a name, the redirect URI's host names the client.
  auto unnamed
    = parse_registration(R"({"redirect_uris":["https://a.example/cb"]})");
  ASSERT_TRUE(unnamed);
  EXPECT_EQ(unnamed->name, "a.example");
  // The redirect URIs' faults name that field (invalid_redirect_uri);
  // the rest name none (invalid_client_metadata).
  auto field_of = [](const char* body) {
    auto r = parse_registration(body);
    EXPECT_FALSE(r) << body;
    return r ? std::string{"accepted"} : error_field(r.error());
  };
  EXPECT_EQ(field_of(R"({"redirect_uris":[]})"), "redirect_uris");
  EXPECT_EQ(field_of(R"({"redirect_uris":[1]})"), "redirect_uris");
  EXPECT_EQ(field_of(R"({"redirect_uris":["http://evil.example/cb"]})"),
            "redirect_uris");
  EXPECT_EQ(field_of(R"({})"), "redirect_uris");
  EXPECT_EQ(field_of("[1]"), "");
  EXPECT_EQ(field_of(R"({"redirect_uris":["https://a.example/cb"],
                         "grant_types":["client_credentials"]})"),
            "");
  EXPECT_EQ(field_of(R"({"redirect_uris":["https://a.example/cb"],
                         "response_types":["token"]})"),
            "");
  EXPECT_EQ(field_of(R"({"redirect_uris":["https://a.example/cb"],
                         "client_name":7})"),
            "");
  EXPECT_EQ(field_of(R"({"redirect_uris":["https://a.example/cb"],
                         "token_endpoint_auth_method":"client_secret_basic"})"),
            "");
}
