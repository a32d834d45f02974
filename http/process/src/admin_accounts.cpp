// SPDX-License-Identifier: Apache-2.0
// postern admin add-account: an account with passwords, or one that signs
// in at its mail provider (--auth oauth2) with the provider's refresh token.
#include "admin_support.hpp"

#include "postern/actors/account_rules.hpp"
#include "postern/error.hpp"

#include <unistd.h>

#include <iostream>

namespace postern::admin {

namespace {

/// The server the flags --PREFIX-host, -port, -security and -user name;
/// with a `preset` (an OAuth provider's server), a flag left out takes
/// the preset's value.
caf::expected<server_settings>
server_from_flags(const arguments& a, const std::string& prefix,
                  const std::string& default_user,
                  const server_settings* preset = nullptr) {
  server_settings s;
  auto host = a.flag(prefix + "-host");
  auto port = a.flag(prefix + "-port");
  auto security = a.flag(prefix + "-security");
  if (preset) {
    if (!host)
      host = preset->host;
    if (!port)
      port = std::to_string(preset->port);
    if (!security)
      security = std::string{to_string(preset->security)};
  }
  auto upper = prefix == "imap" ? std::string{"IMAP"} : std::string{"SMTP"};
  if (!host || !port || !security)
    return caf::make_error(ec::invalid_argument,
                           upper + " needs --" + prefix + "-host, --" + prefix
                             + "-port and --" + prefix + "-security");
  s.host = *host;
  auto number = parse_positive(*port, 5);
  if (!number || *number > 65535)
    return caf::make_error(ec::invalid_argument,
                           "--" + prefix + "-port must be 1 to 65535");
  s.port = static_cast<uint16_t>(*number);
  auto sec = parse_transport_security(*security);
  if (!sec)
    return caf::make_error(ec::invalid_argument,
                           "--" + prefix
                             + "-security must be tls, starttls or plain");
  s.security = *sec;
  s.username = a.flag(prefix + "-user").value_or(default_user);
  return s;
}

/// Stores a new account through the DIRECTORY (which has the VAULT seal
/// its secrets) and prints its id.
int store_new_account(local_node& s, const account_settings& settings,
                      const account_credentials& creds, std::ostream& out,
                      std::ostream& err) {
  auto stored = s.ask<account_settings>(s.actors().directory,
                                        atom::add_account_v, settings, creds);
  if (!stored)
    return fail(err, stored.error());
  out << stored->id.value << "\n";
  return 0;
}

/// add-account --auth oauth2: the provider's servers (unless flags say
/// otherwise), the address as the login, the refresh token from stdin.
int add_oauth_account(config& cfg, const arguments& a, std::istream& in,
                      std::ostream& out, std::ostream& err) {
  const auto& username = a.positional[0];
  auto name = a.flag("provider");
  auto address = a.flag("imap-user");
  if (!name || !address)
    return fail(err, caf::make_error(ec::invalid_argument,
                                     "--auth oauth2 needs --provider NAME and "
                                     "--imap-user ADDRESS"));
  local_node s;
  auto user = start_and_find_user(s, cfg, username);
  if (!user)
    return fail(err, user.error());
  auto* provider = s.actors().providers->find(*name);
  if (provider == nullptr) {
    std::string known;
    for (auto& p : s.actors().providers->all())
      known += (known.empty() ? " " : ", ") + p.name;
    return fail(err, caf::make_error(
                       ec::invalid_argument,
                       "no mail provider \"" + *name + "\" is configured ("
                         + (known.empty() ? std::string{"none is; see "
                                                        "MAIL_OAUTH_PROVIDERS"}
                                          : "known:" + known)
                         + ")"));
  }
  account_settings settings;
  settings.owner = user->id;
  settings.label = a.flag("label").value_or("");
  settings.oauth_provider = provider->name;
  auto imap = server_from_flags(a, "imap", *address, &provider->imap);
  if (!imap)
    return fail(err, imap.error());
  settings.imap = *imap;
  auto smtp = server_from_flags(a, "smtp", *address, &provider->smtp);
  if (!smtp)
    return fail(err, smtp.error());
  settings.has_smtp = true;
  settings.smtp = *smtp;
  settings.ca_file = a.flag("ca-file").value_or("");
  settings.aliases = split_aliases(a.flag("aliases").value_or(""));
  auto refresh = read_secret_line(in, err, "Refresh token: ");
  if (!refresh || refresh->empty())
    return fail(err, caf::make_error(ec::invalid_argument,
                                     "no refresh token on standard input"));
  account_credentials creds;
  creds.oauth_refresh_token = secret{std::move(*refresh)};
  return store_new_account(s, settings, creds, out, err);
}

} // namespace

int add_account(config& cfg, const arguments& a, std::istream& in,
                std::ostream& out, std::ostream& err) {
  if (a.positional.size() == 1) {
    auto auth = a.flag("auth").value_or("password");
    if (auth == "oauth2")
      return add_oauth_account(cfg, a, in, out, err);
    if (auth != "password")
      return fail(err, caf::make_error(ec::invalid_argument,
                                       "--auth must be password or oauth2"));
  }
  if (a.positional.size() != 1)
    return fail(err,
                caf::make_error(ec::invalid_argument,
                                "usage: postern admin add-account USERNAME "
                                "--label L --imap-host H --imap-port P "
                                "--imap-security S ..."));
  const auto& username = a.positional[0];
  account_settings settings;
  settings.label = a.flag("label").value_or("");
  auto imap = server_from_flags(a, "imap", username);
  if (!imap)
    return fail(err, imap.error());
  settings.imap = *imap;
  settings.ca_file = a.flag("ca-file").value_or("");
  if (a.flag("smtp-host") || a.flag("smtp-port") || a.flag("smtp-security")) {
    auto smtp = server_from_flags(a, "smtp", settings.imap.username);
    if (!smtp)
      return fail(err, smtp.error());
    settings.has_smtp = true;
    settings.smtp = *smtp;
  }
  settings.aliases = split_aliases(a.flag("aliases").value_or(""));
  account_credentials creds;
  auto imap_password = read_secret_line(in, err, "IMAP password: ");
  if (!imap_password || imap_password->empty())
    return fail(err, caf::make_error(ec::invalid_argument,
                                     "no IMAP password on standard input"));
  creds.imap_password = secret{std::move(*imap_password)};
  if (settings.has_smtp && (&in != &std::cin || !isatty(STDIN_FILENO))) {
    // A second line, if present, is the SMTP password.
    if (auto smtp_password = read_secret_line(in, err, "");
        smtp_password && !smtp_password->empty()) {
      creds.smtp_password = secret{std::move(*smtp_password)};
      settings.smtp_own_password = true;
    }
  }
  local_node s;
  auto user = start_and_find_user(s, cfg, username);
  if (!user)
    return fail(err, user.error());
  settings.owner = user->id;
  return store_new_account(s, settings, creds, out, err);
}

} // namespace postern::admin
