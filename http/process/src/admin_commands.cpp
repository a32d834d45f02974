// SPDX-License-Identifier: Apache-2.0
#include "postern/process/admin_commands.hpp"

#include "admin_support.hpp"

#include "postern/actors/account_rules.hpp"
#include "postern/actors/actor_config.hpp"
#include "postern/error.hpp"
#include "postern/grant.hpp"
#include "postern/process/local_node.hpp"
#include "postern/storage/crypto.hpp"
#include "postern/storage/key_files.hpp"
#include "postern/text.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>

namespace postern {

namespace {

using namespace std::chrono_literals;
using namespace admin;

// -- the commands
// --------------------------------------------------------------

int create_user(config& cfg, const arguments& a, std::istream& in,
                std::ostream& out, std::ostream& err) {
  if (a.positional.size() != 1)
    return fail(err,
                caf::make_error(ec::invalid_argument,
                                "usage: postern admin create-user USERNAME "
                                "(password on stdin)"));
  auto password = read_secret_line(in, err, "Password: ");
  if (!password || password->empty())
    return fail(err, caf::make_error(ec::invalid_argument,
                                     "no password on standard input"));
  local_node s;
  if (auto e = s.start(cfg))
    return fail(err, e);
  auto user = s.ask<user_info>(s.actors().directory, atom::add_user_v,
                               a.positional[0], secret{std::move(*password)});
  if (!user)
    return fail(err, user.error());
  out << user->id.value << "\n";
  return 0;
}

int delete_user(config& cfg, const arguments& a, std::ostream& err) {
  if (a.positional.size() != 1)
    return fail(err,
                caf::make_error(ec::invalid_argument,
                                "usage: postern admin delete-user USERNAME"));
  local_node s;
  auto user = start_and_find_user(s, cfg, a.positional[0]);
  if (!user)
    return fail(err, user.error());
  auto done = s.ask<atom::ok>(s.actors().directory, atom::delete_user_v,
                              user->id);
  if (!done)
    return fail(err, done.error());
  err << "deleted user " << user->username << " and everything it owned\n";
  return 0;
}

int invite(config& cfg, const arguments& a, std::ostream& out,
           std::ostream& err) {
  auto hours = parse_positive(a.flag("ttl-hours").value_or("72"), 5);
  if (!hours)
    return fail(err, caf::make_error(ec::invalid_argument,
                                     "--ttl-hours must be a positive number"));
  local_node s;
  if (auto e = s.start(cfg))
    return fail(err, e);
  auto code = s.ask<std::string>(s.actors().directory, atom::invite_v,
                                 *hours * 3600);
  if (!code)
    return fail(err, code.error());
  out << *code << "\n";
  return 0;
}

/// The --scopes of issue-token: one scope at least, every one known.
caf::expected<scope_set> scopes_from_flag(const arguments& a) {
  auto text = a.flag("scopes");
  if (!text)
    return caf::make_error(ec::invalid_argument,
                           "give --scopes, e.g. --scopes \""
                             + format_scopes(every_scope) + "\"");
  std::string unknown;
  auto scopes = parse_scopes(*text, &unknown);
  if (!scopes)
    return caf::make_error(ec::invalid_argument,
                           "unknown scope \"" + unknown + "\"; the scopes are "
                             + format_scopes(every_scope));
  if (*scopes == 0)
    return caf::make_error(ec::invalid_argument,
                           "give at least one scope: "
                             + format_scopes(every_scope));
  return *scopes;
}

/// The --ttl of issue-token in seconds (30 days when not given).
caf::expected<int64_t> ttl_from_flag(const arguments& a) {
  auto text = a.flag("ttl");
  if (!text)
    return int64_t{30 * 86400};
  auto ttl = parse_positive(*text, 10);
  if (!ttl)
    return caf::make_error(ec::invalid_argument,
                           "--ttl must be a positive number of seconds");
  return *ttl;
}

/// The accounts named by --account (ids separated by commas; the first is
/// the default) among the user's; a missing or unknown one is an error
/// listing the user's accounts.
caf::expected<std::vector<account_settings>>
accounts_from_flag(local_node& s, const arguments& a, const user_info& user) {
  auto accounts = s.ask<std::vector<account_settings>>(s.actors().directory,
                                                       atom::list_v, user.id);
  if (!accounts)
    return std::move(accounts.error());
  std::string known;
  for (auto& acc : *accounts)
    known += "\n  " + acc.id.value + "  " + acc.label + " (" + acc.imap.username
             + ")";
  if (known.empty())
    known = " none; add one with add-account";
  auto flag = a.flag("account");
  if (!flag || flag->empty())
    return caf::make_error(ec::invalid_argument,
                           "give --account; the accounts of " + user.username
                             + " are:" + known);
  std::vector<account_settings> chosen;
  std::string_view rest{*flag};
  while (!rest.empty()) {
    auto comma = rest.find(',');
    auto id = trim_blanks(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{}
                                           : rest.substr(comma + 1);
    auto i = std::find_if(accounts->begin(), accounts->end(),
                          [&](const account_settings& acc) {
                            return acc.id.value == id;
                          });
    if (i == accounts->end())
      return caf::make_error(ec::no_such_account,
                             user.username + " has no account "
                               + std::string{id} + "; the accounts are:"
                               + known);
    chosen.push_back(*i);
  }
  return chosen;
}

int issue_token(config& cfg, const arguments& a, std::ostream& out,
                std::ostream& err) {
  if (a.positional.size() != 1)
    return fail(err, caf::make_error(ec::invalid_argument,
                                     "usage: postern admin issue-token "
                                     "USERNAME --account ACCOUNT_ID[,ID...] "
                                     "--scopes "
                                     "\"mail:folders mail:read ...\" "
                                     "[--ttl SECONDS] [--ask-before-send] "
                                     "[--allow-recipients "
                                     "\"bob@example.org,*@example.com\"]"));
  auto scopes = scopes_from_flag(a);
  if (!scopes)
    return fail(err, scopes.error());
  auto ttl = ttl_from_flag(a);
  if (!ttl)
    return fail(err, ttl.error());
  send_rules send;
  send.ask_first = a.flag("ask-before-send").has_value();
  if (send.ask_first && !has_scope(*scopes, scope::send))
    return fail(err, caf::make_error(ec::invalid_argument,
                                     "--ask-before-send needs the mail:send "
                                     "scope (only sending waits for a yes)"));
  if (auto text = a.flag("allow-recipients")) {
    std::string problem;
    auto patterns = parse_recipient_patterns(*text, &problem);
    if (!patterns)
      return fail(err, caf::make_error(ec::invalid_argument,
                                       "--allow-recipients: " + problem));
    if (patterns->empty())
      return fail(err, caf::make_error(ec::invalid_argument,
                                       "--allow-recipients names nobody; "
                                       "leave it out to allow anyone"));
    send.recipients = std::move(*patterns);
  }
  local_node s;
  auto user = start_and_find_user(s, cfg, a.positional[0]);
  if (!user)
    return fail(err, user.error());
  auto accounts = accounts_from_flag(s, a, *user);
  if (!accounts)
    return fail(err, accounts.error());
  grant_request req;
  req.user = user->id;
  std::string names;
  for (auto& acc : *accounts) {
    req.accounts.ids.push_back(acc.id);
    names += (names.empty() ? "" : ", ") + acc.label + " (" + acc.id.value
             + ")";
  }
  req.accounts.preferred = req.accounts.ids.front();
  req.origin = grant_origin::admin;
  req.scopes = *scopes;
  req.token_ttl = *ttl;
  req.send = send;
  auto issued = s.ask<issued_token>(s.actors().tokens, atom::issue_v, req);
  if (!issued)
    return fail(err, issued.error());
  out << issued->token.reveal() << "\n";
  err << "issued an access token for " << user->username
      << (accounts->size() == 1 ? ", account " : ", accounts ") << names
      << ", scopes \""
      << format_scopes(*scopes) << "\", valid for " << *ttl << " s (grant "
      << issued->grant.id.value << ")";
  if (!send.recipients.empty())
    err << ", may write only to " << send.describe_recipients();
  if (send.ask_first)
    err << ", holds every message for the person's yes";
  err << "\n";
  return 0;
}

int backup(config& cfg, const arguments& a, std::ostream& err) {
  if (a.positional.size() != 1)
    return fail(err, caf::make_error(ec::invalid_argument,
                                     "usage: postern admin backup FILE"));
  auto env = open_storage(cfg);
  if (!env)
    return fail(err, env.error());
  if (auto e = (*env)->backup(a.positional[0]))
    return fail(err, e);
  err << "wrote a compacted copy of the database to " << a.positional[0]
      << " (keys are not in it: back up ENCRYPTION_KEY separately)\n";
  return 0;
}

int rotate_key(config& cfg, std::istream& in, std::ostream& out,
               std::ostream& err) {
  // The new key: one line on stdin, or generated when stdin is a terminal
  // or empty.
  secret next;
  bool generated = false;
  if (&in != &std::cin || !isatty(STDIN_FILENO)) {
    std::string line;
    if (std::getline(in, line)) {
      while (!line.empty() && (line.back() == '\r' || line.back() == '\n'))
        line.pop_back();
      next = secret{std::move(line)};
    }
  }
  if (next.empty()) {
    auto key = storage::generate_hex_key();
    if (!key)
      return fail(err, key.error());
    next = std::move(*key);
    generated = true;
  }
  if (!is_hex_key(next.reveal()))
    return fail(err, caf::make_error(ec::invalid_argument,
                                     "the new key must be exactly 64 "
                                     "hexadecimal characters"));
  local_node s;
  if (auto e = s.start(cfg))
    return fail(err, e);
  auto from_file = s.keys().encryption_key != storage::key_origin::configured;
  auto next_path = s.keys().encryption_key_file + ".next";
  if (from_file) {
    // Write the new key before the database changes: a crash after the
    // commit leaves it in KEY.next, and the next start finishes the swap.
    std::remove(next_path.c_str());
    if (auto e = storage::write_key_file(next_path, next))
      return fail(err, e);
  }
  auto count = s.ask<uint64_t>(s.actors().vault, atom::rotate_v, next);
  if (!count) {
    if (from_file)
      std::remove(next_path.c_str());
    return fail(err, count.error());
  }
  if (from_file) {
    if (std::rename(next_path.c_str(), s.keys().encryption_key_file.c_str())
        != 0)
      return fail(err, caf::make_error(ec::filesystem_failure,
                                       "re-encrypted, but could not replace "
                                         + s.keys().encryption_key_file
                                         + "; the new key is in " + next_path));
  }
  err << "re-encrypted " << *count
      << " account credential(s) under the new key; the old key is no "
         "longer needed\n";
  if (from_file)
    err << "the new key is in " << s.keys().encryption_key_file
        << "; a running server picks it up by itself\n";
  else
    err << "set ENCRYPTION_KEY to the new key and restart Postern\n";
  if (generated || !from_file)
    out << next.reveal() << "\n"; // printed once, for the operator to store
  return 0;
}

} // namespace

std::string admin_usage() {
  return R"(Usage: postern admin COMMAND [ARGS]   (DATA_DIR etc. from the environment
       or --data-dir DIR; works while the server runs)

  create-user USERNAME              password on stdin; prints the user id
  add-account USERNAME --label L --imap-host H --imap-port P
        --imap-security tls|starttls|plain [--imap-user U] [--ca-file PEM]
        [--smtp-host H --smtp-port P --smtp-security tls|starttls|plain
         [--smtp-user U]] [--aliases "sales@example.com,..."]
                                    IMAP password on the first stdin line, SMTP
                                    password (if different) on the second;
                                    prints the account id; --aliases are
                                    the other From addresses it may send as
  add-account USERNAME --label L --auth oauth2 --provider NAME
        --imap-user ADDRESS [--imap-host ... --smtp-host ...]
                                    an account that signs in at its mail
                                    provider (MICROSOFT_CLIENT_ID,
                                    GOOGLE_CLIENT_ID, MAIL_OAUTH_PROVIDERS):
                                    the provider's refresh token on stdin;
                                    servers from the provider unless given
  delete-user USERNAME              deletes the user and all it owns
  invite [--ttl-hours N]            prints a one-time sign-up code (SIGNUP=invite)
  issue-token USERNAME --account ACCOUNT_ID[,ID...] --scopes "mail:read ..."
        [--ttl SECONDS] [--ask-before-send]
        [--allow-recipients "bob@example.org,*@example.com"]
                                    prints an MCP access token (Bearer) for
                                    those accounts (the first is the
                                    default); scopes: mail:folders mail:read
                                    mail:search mail:modify mail:send
                                    mail:draft; the lifetime defaults to 30
                                    days; --ask-before-send holds every
                                    message for the person's yes on the
                                    dashboard; --allow-recipients limits
                                    whom its sending tools may write to
  backup FILE                       consistent, compacted copy of the database
  rotate-key                        re-encrypts all credentials under a new key
                                    (64 hex chars on stdin, or generated and
                                    printed once)
)";
}

int run_admin(config cfg, const std::vector<std::string>& args,
              std::istream& in, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "help" || args[0] == "--help") {
    (args.empty() ? err : out) << admin_usage();
    return args.empty() ? 2 : 0;
  }
  const auto& cmd = args[0];
  std::vector<std::string> known{"data-dir"};
  if (cmd == "add-account")
    known.insert(known.end(),
                 {"label", "imap-host", "imap-port", "imap-security",
                  "imap-user", "ca-file", "smtp-host", "smtp-port",
                  "smtp-security", "smtp-user", "aliases", "auth",
                  "provider"});
  if (cmd == "invite")
    known.push_back("ttl-hours");
  std::vector<std::string> switches;
  if (cmd == "issue-token") {
    known.insert(known.end(),
                 {"account", "scopes", "ttl", "allow-recipients"});
    switches.push_back("ask-before-send");
  }
  auto a = parse_arguments(args, 1, known, switches);
  if (!a)
    return fail(err, a.error());
  if (auto dir = a->flag("data-dir"))
    cfg.data_dir = *dir;
  if (cmd == "create-user")
    return create_user(cfg, *a, in, out, err);
  if (cmd == "add-account")
    return add_account(cfg, *a, in, out, err);
  if (cmd == "delete-user")
    return delete_user(cfg, *a, err);
  if (cmd == "invite")
    return invite(cfg, *a, out, err);
  if (cmd == "issue-token")
    return issue_token(cfg, *a, out, err);
  if (cmd == "backup")
    return backup(cfg, *a, err);
  if (cmd == "rotate-key")
    return rotate_key(cfg, in, out, err);
  err << "postern admin: unknown command \"" << cmd << "\"\n" << admin_usage();
  return 2;
}

} // namespace postern
