// SPDX-License-Identifier: Apache-2.0
// A helper for the state integration tests (tests/integration/state_test.py).
// It drives the same NODE, DIRECTORY, VAULT and LMDB code as the server:
//
//   state_tool crash-write    writes accounts forever, printing "ack LABEL ID"
//                             after each acknowledged write (to be SIGKILLed)
//   state_tool crash-verify ACKS
//                             checks that every acknowledged account exists,
//                             that no half record exists, and that every
//                             credential decrypts to what was written
//   state_tool imap-login USERNAME
//                             logs into the IMAP server of USERNAME's first
//                             account with the password the VAULT decrypts
//                             (STARTTLS or TLS, certificate verified)
//
// DATA_DIR, ENCRYPTION_KEY etc. come from the environment, as for postern.

#include "postern/error.hpp"
#include "postern/imap/tls_verify.hpp"
#include "postern/process/command_line.hpp"
#include "postern/process/local_node.hpp"
#include "postern/storage/directory_store.hpp"
#include "postern/storage/key_files.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <libetpan/libetpan.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>

using namespace postern;

namespace {

int die(const std::string& what) {
  std::cerr << "state_tool: " << what << "\n";
  return 1;
}

user_info find_or_create_user(local_node& r, const std::string& name) {
  auto found = r.ask<user_info>(r.actors().directory, atom::find_user_v, name);
  if (found)
    return *found;
  auto made = r.ask<user_info>(r.actors().directory, atom::add_user_v, name,
                               secret{"crash-test-password"});
  if (!made) {
    std::cerr << "state_tool: " << describe(made.error()) << "\n";
    std::exit(1);
  }
  return *made;
}

account_settings sample(const user_id& owner, const std::string& label) {
  account_settings s;
  s.owner = owner;
  s.label = label;
  s.imap = server_settings{"imap.example.com", 993, transport_security::tls,
                           "user-" + label};
  s.has_smtp = true;
  s.smtp = server_settings{"smtp.example.com", 465, transport_security::tls,
                           "user-" + label};
  return s;
}

int crash_write(config& cfg) {
  local_node r;
  if (auto err = r.start(cfg))
    return die(describe(err));
  // A fresh user per run, and per 10 accounts (users may have 20 at most).
  std::random_device rd;
  auto run_id = std::to_string(rd());
  user_info user;
  for (int i = 0; i < 100000; ++i) {
    if (i % 10 == 0)
      user = find_or_create_user(r, "crash-" + run_id + "-"
                                      + std::to_string(i / 10));
    auto label = "acct-" + run_id + "-" + std::to_string(i);
    account_credentials creds;
    creds.imap_password = secret{"imap-" + label};
    creds.smtp_password = secret{"smtp-" + label};
    auto settings = sample(user.id, label);
    settings.smtp_own_password = true;
    auto stored = r.ask<account_settings>(r.actors().directory,
                                          atom::add_account_v, settings, creds);
    if (!stored)
      return die(describe(stored.error()));
    // Only now is the write acknowledged.
    std::printf("ack %s %s %s\n", label.c_str(), stored->id.value.c_str(),
                user.username.c_str());
    std::fflush(stdout);
  }
  return 0;
}

int crash_verify(config& cfg, const std::string& ack_file) {
  local_node r;
  if (auto err = r.start(cfg))
    return die("the database does not open cleanly: " + describe(err));
  // The acknowledged accounts, by user.
  std::map<std::string, std::set<std::string>> acked;
  {
    std::ifstream acks{ack_file};
    std::string word, label, id, username;
    while (acks >> word >> label >> id >> username)
      acked[username].insert(label);
  }
  size_t acked_total = 0;
  size_t missing = 0;
  size_t bad = 0;
  size_t checked = 0;
  for (auto& [username, labels] : acked) {
    acked_total += labels.size();
    auto user = r.ask<user_info>(r.actors().directory, atom::find_user_v,
                                 username);
    if (!user) {
      std::cerr << "acknowledged user " << username << " is missing\n";
      missing += labels.size();
      continue;
    }
    auto accounts = r.ask<std::vector<account_settings>>(
      r.actors().directory, atom::list_v, user->id);
    if (!accounts)
      return die(describe(accounts.error()));
    std::set<std::string> present;
    for (auto& a : *accounts) {
      present.insert(a.label);
      ++checked;
      auto creds = r.ask<account_credentials>(r.actors().vault, atom::get_v,
                                              user->id, a.id);
      if (!creds) {
        std::cerr << "account " << a.label
                  << " has no usable credentials: " << describe(creds.error())
                  << "\n";
        ++bad;
        continue;
      }
      if (creds->imap_password.reveal() != "imap-" + a.label
          || creds->smtp_password.reveal() != "smtp-" + a.label
          || a.imap.username != "user-" + a.label || !a.has_smtp) {
        std::cerr << "account " << a.label << " is not what was written\n";
        ++bad;
      }
    }
    for (auto& label : labels)
      if (!present.count(label)) {
        std::cerr << "acknowledged account " << label << " is missing\n";
        ++missing;
      }
  }
  // A credential record without its account (or the reverse) would be half
  // of a write.
  size_t account_records = 0;
  size_t credential_records = 0;
  r.env().read([&](const storage::txn& t) -> caf::error {
    account_records = t.count(storage::table::accounts);
    credential_records = t.count(storage::table::credentials);
    return caf::none;
  });
  if (credential_records != account_records) {
    std::cerr << credential_records << " credential records for "
              << account_records << " accounts\n";
    ++bad;
  }
  std::cout << "stored " << account_records << " acknowledged " << acked_total
            << " checked " << checked << " missing " << missing << " bad "
            << bad << "\n";
  return missing == 0 && bad == 0 ? 0 : 1;
}

int imap_login(config& cfg, const std::string& username) {
  local_node r;
  if (auto err = r.start(cfg))
    return die(describe(err));
  auto user = r.ask<user_info>(r.actors().directory, atom::find_user_v,
                               username);
  if (!user)
    return die(describe(user.error()));
  auto accounts = r.ask<std::vector<account_settings>>(r.actors().directory,
                                                       atom::list_v, user->id);
  if (!accounts || accounts->empty())
    return die("no account");
  auto& a = accounts->front();
  auto creds = r.ask<account_credentials>(r.actors().vault, atom::get_v,
                                          user->id, a.id);
  if (!creds)
    return die(describe(creds.error()));
  std::unique_ptr<mailimap, void (*)(mailimap*)> imap{mailimap_new(0, nullptr),
                                                      mailimap_free};
  mailimap_set_timeout(imap.get(), 10);
  int rc;
  if (a.imap.security == transport_security::tls) {
    rc = mailimap_ssl_connect(imap.get(), a.imap.host.c_str(), a.imap.port);
  } else {
    rc = mailimap_socket_connect(imap.get(), a.imap.host.c_str(), a.imap.port);
    if (rc == MAILIMAP_NO_ERROR_NON_AUTHENTICATED)
      rc = mailimap_socket_starttls(imap.get());
  }
  if (rc != MAILIMAP_NO_ERROR && rc != MAILIMAP_NO_ERROR_NON_AUTHENTICATED)
    return die("connect failed: " + std::to_string(rc));
  if (auto err = imap::verify_peer_certificate(imap->imap_stream, a.imap.host,
                                               a.ca_file))
    return die(describe(err));
  rc = mailimap_login(imap.get(), a.imap.username.c_str(),
                      creds->imap_password.reveal().c_str());
  if (rc != MAILIMAP_NO_ERROR)
    return die("login rejected: " + std::to_string(rc));
  mailimap_logout(imap.get());
  std::cout << "login ok\n";
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty())
    return die(
      "usage: state_tool crash-write | crash-verify ACKS | imap-login USER");
  auto parsed = parse_command_line({}, process_environment());
  if (!parsed)
    return die(describe(parsed.error()));
  auto& cfg = parsed->cfg;
  if (args[0] == "crash-write")
    return crash_write(cfg);
  if (args[0] == "crash-verify" && args.size() == 2)
    return crash_verify(cfg, args[1]);
  if (args[0] == "imap-login" && args.size() == 2)
    return imap_login(cfg, args[1]);
  return die("unknown command");
}
