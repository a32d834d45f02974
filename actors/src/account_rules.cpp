// SPDX-License-Identifier: Apache-2.0
#include "postern/actors/account_rules.hpp"

#include "postern/error.hpp"
#include "postern/mime/address.hpp"
#include "postern/mime/charset.hpp"
#include "postern/text.hpp"
#include "postern/storage/directory_store.hpp"
#include "postern/utf8.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace postern {

namespace {

caf::error invalid(std::string field, std::string sentence) {
  return make_field_error(ec::invalid_argument, std::move(field),
                          std::move(sentence));
}

/// Printable text: well-formed UTF-8 without control characters.
bool valid_utf8_text(std::string_view s) {
  for (auto c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
      return false;
  return is_valid_utf8(s);
}

/// One server's settings; `prefix` is "imap" or "smtp" (the form's field
/// names), `which` its name in sentences.
caf::error validate_server(const server_settings& s, const std::string& prefix,
                           const std::string& which, const host_policy& hosts) {
  if (s.host.empty())
    return invalid(prefix + "_host", which + " server: enter a host name");
  if (auto err = hosts.check_host(s.host))
    return make_field_error(
      err == ec::forbidden ? ec::forbidden : ec::invalid_argument,
      prefix + "_host", which + " server: " + describe(err));
  if (s.port == 0)
    return invalid(prefix + "_port",
                   which + " server: the port must be between 1 and 65535");
  if (s.security != transport_security::tls
      && s.security != transport_security::starttls
      && s.security != transport_security::plain)
    return invalid(prefix + "_security",
                   which + " server: security must be tls, starttls or plain");
  if (s.security == transport_security::plain && !is_loopback_host(s.host))
    return invalid(prefix + "_security",
                   which
                     + " server: unencrypted connections are only "
                       "allowed to this machine (localhost); use tls or "
                       "starttls");
  if (s.username.empty() || s.username.size() > 320
      || !valid_utf8_text(s.username))
    return invalid(prefix + "_username",
                   which
                     + " server: enter the login name (at most 320 "
                       "characters)");
  return caf::none;
}

caf::error validate_aliases(const account_settings& settings) {
  if (settings.aliases.size() > max_account_aliases)
    return invalid("aliases", "an account may have at most "
                                + std::to_string(max_account_aliases)
                                + " other From addresses");
  auto own = ascii_lower(email_address(settings));
  std::vector<std::string> seen;
  for (auto& a : settings.aliases) {
    if (!mime::is_sendable_address(a))
      return invalid("aliases", "“" + mime::to_valid_utf8(std::string_view{a}.substr(0, 200))
                                  + "” is not an email address like "
                                    "name@example.com");
    auto key = ascii_lower(a);
    if (key == own)
      return invalid("aliases", a + " is the account's own address; list "
                                    "only the others");
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      return invalid("aliases", a + " is listed twice");
    seen.push_back(std::move(key));
  }
  return caf::none;
}

bool same_login(const server_settings& a, const server_settings& b) {
  return a.host == b.host && a.username == b.username;
}

} // namespace

caf::error validate_username(const std::string& username) {
  if (username.size() < 3 || username.size() > 64)
    return invalid("username", "the username must be 3 to 64 characters long");
  if (!std::isalnum(static_cast<unsigned char>(username.front())))
    return invalid("username",
                   "the username must start with a letter or digit");
  for (auto c : username)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_'
        && c != '-' && c != '@' && c != '+')
      return invalid("username", "the username may contain letters, digits "
                                 "and . _ - @ + only");
  return caf::none;
}

caf::error validate_password(const std::string& username,
                             const secret& password) {
  const auto& p = password.reveal();
  if (p.size() < 10)
    return invalid("password",
                   "the password must be at least 10 characters long");
  if (p.size() > 1024)
    return invalid("password",
                   "the password must be at most 1024 characters long");
  if (p.find('\0') != std::string::npos)
    return invalid("password", "the password must not contain NUL characters");
  if (storage::username_key(p) == storage::username_key(username))
    return invalid("password", "the password must differ from the username");
  return caf::none;
}

caf::error validate_account(const account_settings& settings,
                            const account_credentials& creds, bool is_new,
                            const host_policy& hosts) {
  if (settings.owner.empty())
    return caf::make_error(ec::invalid_argument, "the account has no owner");
  if (settings.label.empty() || settings.label.size() > 100
      || !valid_utf8_text(settings.label))
    return invalid("label", "the label must be 1 to 100 printable characters");
  if (auto err = validate_server(settings.imap, "imap", "IMAP", hosts))
    return err;
  if (settings.has_smtp)
    if (auto err = validate_server(settings.smtp, "smtp", "SMTP", hosts))
      return err;
  if (uses_oauth(settings)) {
    // Signed in at a mail provider: a refresh token, never passwords.
    if (!is_provider_name(settings.oauth_provider))
      return invalid("provider", "the provider name must be 1 to 32 "
                                 "lower-case letters, digits, - or _");
    if (!creds.imap_password.empty() || !creds.smtp_password.empty()
        || settings.smtp_own_password)
      return invalid("imap_password", "an account that signs in with "
                                      "its provider has no passwords");
    if (is_new && creds.oauth_refresh_token.empty())
      return invalid("provider", "sign in with the provider first");
    if (creds.oauth_refresh_token.size() > 8192)
      return invalid("provider", "the provider's refresh token is longer "
                                 "than 8192 characters");
    return validate_aliases(settings);
  }
  if (!creds.oauth_refresh_token.empty())
    return invalid("provider", "an account with passwords has no provider "
                               "sign-in");
  if (is_new && creds.imap_password.empty())
    return invalid("imap_password", "enter the IMAP password");
  if (creds.imap_password.size() > 1024)
    return invalid("imap_password",
                   "passwords must be at most 1024 characters long");
  if (creds.smtp_password.size() > 1024)
    return invalid("smtp_password",
                   "passwords must be at most 1024 characters long");
  if (is_new && settings.smtp_own_password && creds.smtp_password.empty())
    return invalid("smtp_password", "enter the SMTP password, or use the IMAP "
                                    "password for SMTP");
  return validate_aliases(settings);
}

std::vector<std::string> split_aliases(std::string_view text) {
  std::vector<std::string> result;
  for (auto word : split_words(text, ", \t\r\n;"))
    result.emplace_back(word);
  return result;
}

caf::error check_passwords_follow_servers(const account_settings& stored,
                                          const account_settings& updated,
                                          const account_credentials& typed) {
  auto again = [](const char* field, const char* sentence) {
    return make_field_error(ec::forbidden, field, sentence);
  };
  if (uses_oauth(updated) || uses_oauth(stored)) {
    // The provider's sign-in follows the provider, not a server or login.
    if (updated.oauth_provider != stored.oauth_provider)
      return again("provider", "an account cannot change how it signs in; "
                               "add it again instead");
    return caf::none;
  }
  if (typed.imap_password.empty() && !same_login(stored.imap, updated.imap))
    return again("imap_password", "enter the password again: the server or "
                                  "login name changed");
  auto smtp_moved = updated.has_smtp
                    && (!stored.has_smtp
                        || !same_login(stored.smtp, updated.smtp));
  if (!smtp_moved)
    return caf::none;
  if (updated.smtp_own_password && typed.smtp_password.empty())
    return again("smtp_password", "enter the SMTP password again: the server "
                                  "or login name changed");
  if (!updated.smtp_own_password && typed.imap_password.empty())
    return again("imap_password", "enter the password again: the SMTP server "
                                  "or login name changed");
  return caf::none;
}

caf::expected<account_credentials>
merge_credentials(const account_settings& updated,
                  const account_credentials& typed,
                  const account_credentials& current) {
  account_credentials merged;
  if (uses_oauth(updated)) {
    merged.oauth_refresh_token = typed.oauth_refresh_token.empty()
                                   ? current.oauth_refresh_token
                                   : typed.oauth_refresh_token;
    return merged;
  }
  merged.imap_password = typed.imap_password.empty() ? current.imap_password
                                                     : typed.imap_password;
  if (updated.smtp_own_password) {
    merged.smtp_password = typed.smtp_password.empty() ? current.smtp_password
                                                       : typed.smtp_password;
    if (merged.smtp_password.empty())
      return invalid("smtp_password", "enter the SMTP password");
  }
  return merged;
}

} // namespace postern
