// SPDX-License-Identifier: Apache-2.0
#include "postern/error.hpp"
#include "postern/process/command_line.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace postern;

namespace {

const std::string key_a(64, 'a');
const std::string key_b
  = "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef";

env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    if (auto i = vars.find(name); i != vars.end())
      return i->second;
    return std::nullopt;
  };
}

caf::expected<parsed_command_line>
parse(std::vector<std::string> args,
      std::map<std::string, std::string> env = {}) {
  return parse_command_line(args, env_of(std::move(env)));
}

} // namespace

TEST(config, defaults_match_the_typescript_original) {
  auto r = parse({});
  ASSERT_TRUE(r) << describe(r.error());
  EXPECT_EQ(r->what, command::serve);
  EXPECT_EQ(r->cfg.port, 3000);
  EXPECT_EQ(r->cfg.bind, "127.0.0.1");
  EXPECT_EQ(r->cfg.data_dir, "./data");
  EXPECT_EQ(r->cfg.base_url, "http://localhost:3000");
  EXPECT_FALSE(r->cfg.encryption_key);
  EXPECT_FALSE(r->cfg.session_secret);
  EXPECT_FALSE(r->cfg.trust_proxy);
  EXPECT_FALSE(r->cfg.tls_enabled());
}

TEST(config, reads_environment_variables) {
  auto r = parse({}, {{"PORT", "8080"},
                      {"BIND", "0.0.0.0"},
                      {"DATA_DIR", "/var/lib/postern"},
                      {"BASE_URL", "https://mail.example.com/"},
                      {"ENCRYPTION_KEY", key_a},
                      {"SESSION_SECRET", key_b},
                      {"TRUST_PROXY", "true"}});
  ASSERT_TRUE(r) << describe(r.error());
  EXPECT_EQ(r->cfg.port, 8080);
  EXPECT_EQ(r->cfg.bind, "0.0.0.0");
  EXPECT_EQ(r->cfg.data_dir, "/var/lib/postern");
  EXPECT_EQ(r->cfg.base_url, "https://mail.example.com"); // trailing / dropped
  ASSERT_TRUE(r->cfg.encryption_key);
  EXPECT_EQ(r->cfg.encryption_key->reveal(), key_a);
  EXPECT_EQ(r->cfg.session_secret->reveal(), key_b);
  EXPECT_TRUE(r->cfg.trust_proxy);
  EXPECT_FALSE(r->cfg.secret_on_command_line);
}

TEST(config, flags_override_environment) {
  auto r = parse({"--port", "4000", "--bind=::1", "--data-dir", "/tmp/d"},
                 {{"PORT", "8080"}, {"BIND", "0.0.0.0"}});
  ASSERT_TRUE(r) << describe(r.error());
  EXPECT_EQ(r->cfg.port, 4000);
  EXPECT_EQ(r->cfg.bind, "::1");
  EXPECT_EQ(r->cfg.data_dir, "/tmp/d");
  EXPECT_EQ(r->cfg.base_url, "http://localhost:4000");
}

TEST(config, secret_flags_are_flagged_as_visible) {
  auto r = parse({"--encryption-key", key_a});
  ASSERT_TRUE(r) << describe(r.error());
  EXPECT_TRUE(r->cfg.secret_on_command_line);
}

TEST(config, help_and_version) {
  EXPECT_EQ(parse({"--help"})->what, command::help);
  EXPECT_EQ(parse({"-h"})->what, command::help);
  EXPECT_EQ(parse({"--version"})->what, command::version);
  auto text = usage();
  for (auto name :
       {"BASE_URL", "PORT", "ENCRYPTION_KEY", "SESSION_SECRET", "DATA_DIR",
        "BIND", "TLS_CERT_FILE", "TLS_KEY_FILE", "TRUST_PROXY"})
    EXPECT_NE(text.find(name), std::string::npos) << name;
}

TEST(config, malformed_encryption_key_is_an_error_without_echoing_it) {
  const std::string bad_key = "not-a-key-but-a-secret-password";
  auto r = parse({}, {{"ENCRYPTION_KEY", bad_key}});
  ASSERT_FALSE(r);
  auto text = describe(r.error());
  EXPECT_NE(text.find("ENCRYPTION_KEY"), std::string::npos) << text;
  EXPECT_NE(text.find("64 hexadecimal"), std::string::npos) << text;
  EXPECT_EQ(text.find(bad_key), std::string::npos)
    << "leaked the value: " << text;
  // 63 and 65 characters, and non-hex characters of the right length.
  EXPECT_FALSE(parse({}, {{"ENCRYPTION_KEY", std::string(63, 'a')}}));
  EXPECT_FALSE(parse({}, {{"ENCRYPTION_KEY", std::string(65, 'a')}}));
  EXPECT_FALSE(parse({}, {{"ENCRYPTION_KEY", std::string(64, 'g')}}));
}

TEST(config, session_secret_is_any_string_of_at_least_32_characters) {
  // A passphrase, as the original accepted: the key is derived from it.
  const std::string passphrase
    = "correct horse battery staple, but longer than that";
  auto r = parse({}, {{"SESSION_SECRET", passphrase}});
  ASSERT_TRUE(r) << describe(r.error());
  EXPECT_EQ(r->cfg.session_secret->reveal(), passphrase);
  EXPECT_TRUE(parse({}, {{"SESSION_SECRET", std::string(48, 'x')}}));
  EXPECT_TRUE(parse({}, {{"SESSION_SECRET", std::string(32, 'x')}}));
  EXPECT_TRUE(parse({}, {{"SESSION_SECRET", key_b}})); // 64 hex still works
  // Too short: refused with the reason, never echoing the value.
  const std::string short_secret = "dev-session-secret";
  auto bad = parse({}, {{"SESSION_SECRET", short_secret}});
  ASSERT_FALSE(bad);
  auto text = describe(bad.error());
  EXPECT_NE(text.find("SESSION_SECRET must be at least 32 characters"),
            std::string::npos)
    << text;
  EXPECT_NE(text.find("got 18 characters"), std::string::npos) << text;
  EXPECT_EQ(text.find(short_secret), std::string::npos) << text;
  EXPECT_FALSE(parse({}, {{"SESSION_SECRET", std::string(31, 'x')}}));
}

TEST(config, the_originals_cors_origin_is_read_as_allowed_origins) {
  auto r = parse({}, {{"CORS_ORIGIN", " https://claude.ai "}});
  ASSERT_TRUE(r) << describe(r.error());
  EXPECT_EQ(r->cfg.allowed_origins, "https://claude.ai");
  EXPECT_FALSE(r->cfg.cors_origin_ignored);
  // ALLOWED_ORIGINS, Postern's own name, wins.
  auto both = parse({}, {{"CORS_ORIGIN", "https://a.example"},
                         {"ALLOWED_ORIGINS", "https://b.example"}});
  ASSERT_TRUE(both);
  EXPECT_EQ(both->cfg.allowed_origins, "https://b.example");
  // "Any origin" is never admitted: ignored, and said at start.
  for (auto any : {"*", "true"}) {
    auto wild = parse({}, {{"CORS_ORIGIN", any}});
    ASSERT_TRUE(wild);
    EXPECT_TRUE(wild->cfg.cors_origin_ignored);
    EXPECT_EQ(wild->cfg.allowed_origins, "");
  }
  auto bad = parse({}, {{"CORS_ORIGIN", "claude.ai/path"}});
  ASSERT_FALSE(bad);
  EXPECT_NE(describe(bad.error()).find("CORS_ORIGIN"), std::string::npos);
}

TEST(config, rejects_bad_values_with_sentences) {
  auto expect_error = [](caf::expected<parsed_command_line> r,
                         const std::string& needle) {
    ASSERT_FALSE(r) << "expected an error mentioning " << needle;
    EXPECT_NE(describe(r.error()).find(needle), std::string::npos)
      << describe(r.error());
  };
  expect_error(parse({}, {{"PORT", "70000"}}), "PORT");
  expect_error(parse({}, {{"PORT", "abc"}}), "PORT");
  expect_error(parse({}, {{"PORT", "-1"}}), "PORT");
  expect_error(parse({}, {{"BASE_URL", "ftp://x"}}), "BASE_URL");
  expect_error(parse({}, {{"BASE_URL", "https://"}}), "BASE_URL");
  expect_error(parse({}, {{"BASE_URL", "http://mail.example.com"}}), "https");
  expect_error(parse({}, {{"TRUST_PROXY", "maybe"}}), "TRUST_PROXY");
  expect_error(parse({}, {{"TLS_CERT_FILE", "/x.pem"}}), "TLS_KEY_FILE");
  expect_error(parse({}, {{"LOG_LEVEL", "loud"}}), "LOG_LEVEL");
  expect_error(parse({"--no-such-flag"}), "unknown argument");
  expect_error(parse({"--port"}), "needs a value");
}

TEST(config, plain_http_is_allowed_for_loopback_and_with_native_tls) {
  EXPECT_TRUE(parse({}, {{"BASE_URL", "http://127.0.0.1:3000"}}));
  EXPECT_TRUE(parse({}, {{"BASE_URL", "http://[::1]:3000"}}));
  EXPECT_TRUE(parse({}, {{"BASE_URL", "https://mail.example.com/postern"}}));
}

TEST(config, trusted_proxies_default_to_loopback_and_are_checked) {
  auto r = parse({});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->cfg.trusted_proxies, "loopback");
  auto set = parse({}, {{"TRUSTED_PROXIES", "10.0.0.0/8, 2001:db8::/32"}});
  ASSERT_TRUE(set) << describe(set.error());
  EXPECT_EQ(set->cfg.trusted_proxies, "10.0.0.0/8, 2001:db8::/32");
  auto bad = parse({}, {{"TRUSTED_PROXIES", "my-proxy"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(describe(bad.error()).rfind("TRUSTED_PROXIES", 0), 0u)
    << describe(bad.error());
}

TEST(config, metrics_are_open_only_when_said_so) {
  auto r = parse({});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->cfg.metrics_open);
  auto open = parse({}, {{"METRICS_OPEN", "1"}});
  ASSERT_TRUE(open);
  EXPECT_TRUE(open->cfg.metrics_open);
  EXPECT_FALSE(parse({}, {{"METRICS_OPEN", "sometimes"}}));
}

TEST(config, mail_server_byte_budgets) {
  auto r = parse({});
  ASSERT_TRUE(r) << describe(r.error());
  EXPECT_EQ(r->cfg.imap_max_literal_bytes, 4u * 1024 * 1024);
  EXPECT_EQ(r->cfg.imap_max_response_bytes, 8u * 1024 * 1024);
  EXPECT_EQ(r->cfg.imap_max_operation_bytes, 64u * 1024 * 1024);
  EXPECT_EQ(r->cfg.imap_max_items, 250000u);
  EXPECT_EQ(r->cfg.smtp_max_reply_bytes, 64u * 1024);
  EXPECT_EQ(r->cfg.smtp_max_operation_bytes, 1024u * 1024);
  r = parse({"--imap-max-items", "1000"},
            {{"IMAP_MAX_LITERAL_BYTES", "1048576"},
             {"IMAP_MAX_RESPONSE_BYTES", "2097152"},
             {"IMAP_MAX_OPERATION_BYTES", "0"},
             {"IMAP_MAX_ITEMS", "5"},
             {"SMTP_MAX_REPLY_BYTES", "4096"},
             {"SMTP_MAX_OPERATION_BYTES", "8192"}});
  ASSERT_TRUE(r) << describe(r.error());
  EXPECT_EQ(r->cfg.imap_max_literal_bytes, 1048576u);
  EXPECT_EQ(r->cfg.imap_max_response_bytes, 2097152u);
  EXPECT_EQ(r->cfg.imap_max_operation_bytes, 0u);
  EXPECT_EQ(r->cfg.imap_max_items, 1000u); // the flag wins
  EXPECT_EQ(r->cfg.smtp_max_reply_bytes, 4096u);
  EXPECT_EQ(r->cfg.smtp_max_operation_bytes, 8192u);
  auto bad = parse({}, {{"IMAP_MAX_LITERAL_BYTES", "lots"}});
  ASSERT_FALSE(bad);
  EXPECT_NE(describe(bad.error()).find("IMAP_MAX_LITERAL_BYTES"),
            std::string::npos);
}

TEST(config, account_setup_lookups_are_checked_at_startup) {
  auto ok = parse({}, {{"MAIL_SETUP_DNS", "127.0.0.1:5353"},
                       {"TEST_AUTOCONFIG_PORT", "8443"}});
  ASSERT_TRUE(ok) << describe(ok.error());
  EXPECT_EQ(ok->cfg.mail_setup_dns, "127.0.0.1:5353");
  EXPECT_EQ(ok->cfg.test_autoconfig_port, 8443);
  EXPECT_TRUE(parse({}, {{"MAIL_SETUP_DNS", "off"}}));
  for (auto bad : {"localhost", "127.0.0.1:", "127.0.0.1:99999", "::1"}) {
    auto r = parse({}, {{"MAIL_SETUP_DNS", bad}});
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(describe(r.error()).find("MAIL_SETUP_DNS"), std::string::npos);
  }
  for (auto bad : {"0", "65536", "http", ""}) {
    auto r = parse({}, {{"TEST_AUTOCONFIG_PORT", bad}});
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(describe(r.error()).find("TEST_AUTOCONFIG_PORT"),
              std::string::npos);
  }
}
