// SPDX-License-Identifier: Apache-2.0
// The mail providers OAuth accounts sign in to: the built-in presets, the
// MAIL_OAUTH_PROVIDERS file (every error names the field), and what a
// provider's token endpoint answers.
#include "postern/error.hpp"
#include "postern/oauth/mail_provider.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

using namespace postern;
using namespace postern::oauth;

namespace {

const char* good = R"([{
  "name": "acme", "title": "Acme Mail",
  "authorization_endpoint": "https://login.acme.example/authorize",
  "token_endpoint": "https://login.acme.example/token",
  "client_id": "postern", "client_secret": "s3cret",
  "scopes": ["mail", "offline"],
  "imap": {"host": "imap.acme.example", "port": 993, "security": "tls"},
  "smtp": {"host": "smtp.acme.example", "port": 587, "security": "starttls"},
  "sasl": "OAUTHBEARER", "domains": ["Acme.Example"],
  "authorize_params": {"prompt": "consent"}
}])";

std::string describe_parse(const std::string& json) {
  auto parsed = parse_mail_providers(json);
  return parsed ? std::string{"ok"} : describe(parsed.error());
}

/// `good` with one field replaced (or removed, when `value` is empty).
std::string with_field(const std::string& field, const std::string& value) {
  std::string doc = good;
  auto at = doc.find("\"" + field + "\":");
  EXPECT_NE(at, std::string::npos) << field;
  auto start = at + field.size() + 3;
  // The value ends at the comma or brace that closes it at depth 0.
  int depth = 0;
  auto end = start;
  for (; end < doc.size(); ++end) {
    char c = doc[end];
    if (c == '{' || c == '[')
      ++depth;
    else if ((c == '}' || c == ']') && depth > 0)
      --depth;
    else if ((c == ',' || c == '}') && depth == 0)
      break;
  }
  if (value.empty()) {
    auto from = at;
    auto to = end < doc.size() && doc[end] == ',' ? end + 1 : end;
    return doc.substr(0, from) + doc.substr(to);
  }
  return doc.substr(0, start) + value + doc.substr(end);
}

} // namespace

TEST(mail_provider, a_file_provider_is_read_whole) {
  auto parsed = parse_mail_providers(good);
  ASSERT_TRUE(parsed) << describe(parsed.error());
  ASSERT_EQ(parsed->size(), 1u);
  auto& p = parsed->front();
  EXPECT_EQ(p.name, "acme");
  EXPECT_EQ(p.title, "Acme Mail");
  EXPECT_EQ(p.scopes, "mail offline");
  EXPECT_EQ(p.client_secret.reveal(), "s3cret");
  EXPECT_EQ(p.imap.host, "imap.acme.example");
  EXPECT_EQ(p.imap.port, 993);
  EXPECT_EQ(p.smtp.security, transport_security::starttls);
  EXPECT_EQ(p.sasl, sasl_mechanism::oauthbearer);
  ASSERT_EQ(p.domains.size(), 1u);
  EXPECT_EQ(p.domains[0], "acme.example");
  EXPECT_EQ(p.authorize_params.at("prompt"), "consent");
  mail_providers all{std::move(*parsed)};
  EXPECT_NE(all.find("acme"), nullptr);
  EXPECT_EQ(all.find("other"), nullptr);
  EXPECT_NE(all.for_address("someone@ACME.example"), nullptr);
  EXPECT_EQ(all.for_address("someone@elsewhere.example"), nullptr);
  EXPECT_EQ(all.for_address("no-at-sign"), nullptr);
}

TEST(mail_provider, optional_fields_have_defaults) {
  auto doc = with_field("client_secret", "");
  doc = doc.replace(doc.find("\"sasl\": \"OAUTHBEARER\","), 22, "");
  auto parsed = parse_mail_providers(doc);
  ASSERT_TRUE(parsed) << describe(parsed.error());
  EXPECT_TRUE(parsed->front().client_secret.empty());
  EXPECT_EQ(parsed->front().sasl, sasl_mechanism::xoauth2);
}

TEST(mail_provider, every_malformed_field_is_named) {
  struct bad_case {
    std::string field;
    std::string value; // empty: the field is left out
    std::string named;
  };
  std::vector<bad_case> cases = {
    {"name", "", "\"name\" is missing"},
    {"name", "\"Has Spaces\"", "\"name\""},
    {"name", "7", "\"name\""},
    {"title", "", "\"title\" is missing"},
    {"authorization_endpoint", "\"http://login.acme.example/a\"",
     "\"authorization_endpoint\" must be an https URL"},
    {"token_endpoint", "\"not a url\"", "\"token_endpoint\""},
    {"token_endpoint", "", "\"token_endpoint\" is missing"},
    {"client_id", "\"\"", "\"client_id\""},
    {"scopes", "[]", "\"scopes\""},
    {"scopes", "[1]", "\"scopes\""},
    {"scopes", "{}", "\"scopes\""},
    {"imap", "", "\"imap\""},
    {"imap", "{\"port\": 993, \"security\": \"tls\"}", "\"imap.host\""},
    {"smtp", "{\"host\": \"h\", \"port\": 0, \"security\": \"tls\"}",
     "\"smtp.port\""},
    {"smtp", "{\"host\": \"h\", \"port\": 70000, \"security\": \"tls\"}",
     "\"smtp.port\""},
    {"smtp", "{\"host\": \"h\", \"port\": 25, \"security\": \"maybe\"}",
     "\"smtp.security\""},
    {"sasl", "\"PLAIN\"", "\"sasl\" must be XOAUTH2 or OAUTHBEARER"},
    {"domains", "\"acme.example\"", "\"domains\""},
    {"authorize_params", "{\"a\": 1}", "\"authorize_params\""},
  };
  for (auto& c : cases) {
    auto sentence = describe_parse(with_field(c.field, c.value));
    EXPECT_NE(sentence.find(c.named), std::string::npos)
      << c.field << "=" << c.value << ": " << sentence;
    EXPECT_NE(sentence.find("provider 1"), std::string::npos) << sentence;
  }
}

TEST(mail_provider, whole_document_errors) {
  EXPECT_NE(describe_parse("{").find("not valid JSON"), std::string::npos);
  EXPECT_NE(describe_parse("{}").find("array"), std::string::npos);
  EXPECT_NE(describe_parse("[1]").find("provider 1 is not a JSON object"),
            std::string::npos);
  EXPECT_NE(describe_parse("[[[[[[[[[[]]]]]]]]]]").find("not valid JSON"),
            std::string::npos);
  std::string twice = std::string{good};
  twice.pop_back();
  twice += "," + std::string{good}.substr(1);
  EXPECT_NE(describe_parse(twice).find("provider 2 (\"acme\"): field "
                                       "\"name\" repeats"),
            std::string::npos)
    << describe_parse(twice);
  // An http endpoint on loopback is fine (a provider under test).
  auto local = with_field("token_endpoint", "\"http://127.0.0.1:8080/token\"");
  EXPECT_EQ(describe_parse(local), "ok");
}

TEST(mail_provider, built_ins_follow_the_environment) {
  provider_settings s;
  auto none = load_mail_providers(s);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  s.microsoft_client_id = "ms-app";
  s.microsoft_client_secret = secret{"ms-secret"};
  s.microsoft_tenant = "contoso.onmicrosoft.com";
  s.google_client_id = "g-app";
  auto both = load_mail_providers(s);
  ASSERT_TRUE(both) << describe(both.error());
  auto* ms = both->find("microsoft");
  ASSERT_NE(ms, nullptr);
  EXPECT_EQ(ms->token_endpoint, "https://login.microsoftonline.com/"
                                "contoso.onmicrosoft.com/oauth2/v2.0/token");
  // The outlook.office.com scopes: the short Graph names give tokens IMAP
  // refuses.
  EXPECT_NE(ms->scopes.find("https://outlook.office.com/IMAP.AccessAsUser.All"),
            std::string::npos);
  EXPECT_NE(ms->scopes.find("offline_access"), std::string::npos);
  EXPECT_EQ(ms->imap.host, "outlook.office365.com");
  EXPECT_EQ(ms->smtp.port, 587);
  EXPECT_EQ(ms->smtp.security, transport_security::starttls);
  auto* g = both->find("google");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->scopes, "https://mail.google.com/");
  EXPECT_EQ(g->smtp.port, 465);
  EXPECT_EQ(g->authorize_params.at("access_type"), "offline");
  EXPECT_EQ(both->for_address("x@gmail.com"), g);
  EXPECT_EQ(both->for_address("x@outlook.com"), ms);
  s.microsoft_tenant = "bad/tenant";
  EXPECT_FALSE(load_mail_providers(s));
  provider_settings orphan;
  orphan.google_client_secret = secret{"x"};
  auto refused = load_mail_providers(orphan);
  ASSERT_FALSE(refused);
  EXPECT_NE(describe(refused.error()).find("GOOGLE_CLIENT_ID"),
            std::string::npos);
}

TEST(mail_provider, the_file_is_named_in_its_errors) {
  provider_settings s;
  s.providers_file = "/nonexistent/providers.json";
  auto missing = load_mail_providers(s);
  ASSERT_FALSE(missing);
  EXPECT_NE(describe(missing.error()).find("/nonexistent/providers.json"),
            std::string::npos);
  auto path = testing::TempDir() + "providers.json";
  {
    std::ofstream out{path};
    out << with_field("imap", "");
  }
  s.providers_file = path;
  auto bad = load_mail_providers(s);
  ASSERT_FALSE(bad);
  auto sentence = describe(bad.error());
  EXPECT_NE(sentence.find("MAIL_OAUTH_PROVIDERS"), std::string::npos);
  EXPECT_NE(sentence.find(path), std::string::npos);
  EXPECT_NE(sentence.find("\"imap\""), std::string::npos) << sentence;
  {
    std::ofstream out{path};
    out << with_field("name", "\"google\"");
  }
  s.google_client_id = "g";
  auto clash = load_mail_providers(s);
  ASSERT_FALSE(clash);
  EXPECT_NE(describe(clash.error()).find("built in"), std::string::npos);
  {
    std::ofstream out{path};
    out << good;
  }
  auto fine = load_mail_providers(s);
  ASSERT_TRUE(fine) << describe(fine.error());
  EXPECT_EQ(fine->all().size(), 2u);
  std::remove(path.c_str());
}

TEST(mail_provider, token_answers) {
  mail_provider p;
  p.title = "Acme";
  auto ok = parse_token_response(
    p, 200,
    R"({"access_token":"at-1","token_type":"Bearer","expires_in":3599,)"
    R"("refresh_token":"rt-2","scope":"mail"})");
  ASSERT_TRUE(ok) << describe(ok.error());
  EXPECT_EQ(ok->access_token.reveal(), "at-1");
  EXPECT_EQ(ok->expires_in, 3599);
  EXPECT_EQ(ok->refresh_token.reveal(), "rt-2");
  // Microsoft has sent expires_in as a string; no refresh token: keep.
  auto str = parse_token_response(
    p, 200, R"({"access_token":"at","token_type":"bearer","expires_in":"60"})");
  ASSERT_TRUE(str);
  EXPECT_EQ(str->expires_in, 60);
  EXPECT_TRUE(str->refresh_token.empty());
  auto refused = parse_token_response(
    p, 400,
    R"({"error":"invalid_grant","error_description":"token rt-2 revoked"})");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), ec::signin_required);
  EXPECT_EQ(describe(refused.error()).find("rt-2"), std::string::npos);
  auto other = parse_token_response(
    p, 401, R"({"error":"invalid_client","error_description":"secret x"})");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error(), ec::server_refused);
  EXPECT_NE(describe(other.error()).find("invalid_client"), std::string::npos);
  EXPECT_EQ(describe(other.error()).find("secret x"), std::string::npos);
  for (auto body : {"", "<html>", R"({"token_type":"Bearer"})",
                    R"({"access_token":"a","token_type":"mac"})",
                    R"({"access_token":"a","expires_in":0})",
                    R"({"access_token":"a","expires_in":-5})",
                    R"({"access_token":7})"}) {
    auto r = parse_token_response(p, 200, body);
    EXPECT_FALSE(r) << body;
    if (!r) {
      EXPECT_EQ(r.error(), ec::server_refused) << body;
    }
  }
  EXPECT_FALSE(parse_token_response(p, 500, R"({"access_token":"a"})"));
}

TEST(mail_provider, token_requests_are_form_encoded) {
  mail_provider p;
  p.token_endpoint = "https://login.acme.example/token";
  p.client_id = "postern app";
  p.client_secret = secret{"s&cret"};
  auto r = oauth::refresh_request(p, secret{"rt/1+2"});
  EXPECT_EQ(r.url, p.token_endpoint);
  EXPECT_EQ(r.body, "grant_type=refresh_token&refresh_token=rt%2F1%2B2"
                    "&client_id=postern%20app&client_secret=s%26cret");
  auto c = oauth::code_request(p, "c1", "v1", "https://postern.example/cb");
  EXPECT_EQ(c.body, "grant_type=authorization_code&code=c1&code_verifier=v1"
                    "&redirect_uri=https%3A%2F%2Fpostern.example%2Fcb"
                    "&client_id=postern%20app&client_secret=s%26cret");
  p.client_secret = secret{};
  EXPECT_EQ(oauth::refresh_request(p, secret{"r"}).body.find("client_secret"),
            std::string::npos);
  // exchange: a transport failure names the provider, never the body.
  p.title = "Acme";
  token_transport down = [](const token_exchange&, std::chrono::seconds)
    -> caf::expected<std::pair<unsigned, std::string>> {
    return caf::make_error(ec::connection_failed, "refused");
  };
  auto failed = exchange(p, down, oauth::refresh_request(p, secret{"rt-secret"}),
                         std::chrono::seconds{1});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error(), ec::connection_failed);
  EXPECT_NE(describe(failed.error()).find("Acme"), std::string::npos);
  EXPECT_EQ(describe(failed.error()).find("rt-secret"), std::string::npos);
  token_transport fine = [](const token_exchange& req, std::chrono::seconds)
    -> caf::expected<std::pair<unsigned, std::string>> {
    EXPECT_NE(req.body.find("refresh_token=r"), std::string::npos);
    return std::make_pair(200u, std::string{R"({"access_token":"a"})"});
  };
  auto got = exchange(p, fine, oauth::refresh_request(p, secret{"r"}),
                      std::chrono::seconds{1});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->expires_in, 3600);
}
