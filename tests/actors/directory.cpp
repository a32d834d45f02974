// SPDX-License-Identifier: Apache-2.0
#define CAF_SUITE actors.directory

#include "postern/actors/directory.hpp"

#include "caf_test.hpp"
#include "postern/actors/hasher.hpp"
#include "postern/actors/vault.hpp"
#include "postern/clock.hpp"
#include "postern/actors/account_rules.hpp"
#include "postern/storage/credential_store.hpp"
#include "postern/storage/directory_store.hpp"
#include "support/lmdb_env.hpp"

#include <cstdlib>

using namespace postern;

namespace {

// Cheap Argon2 so the suite stays fast; production parameters are tested in
// the storage tests.
const storage::password_hash_params cheap{1, 8, 1};

struct fixture : test::lmdb_env,
                 test_coordinator_fixture<postern::test::configuration> {
  fixture() : lmdb_env("postern-dir") {
    auto keys = *storage::vault_keys::derive(secret{std::string(64, 'a')});
    CAF_REQUIRE(!storage::verify_key(*env, keys));
    vlt = sys.spawn(vault, env, keys, std::string{});
    run();
  }

  void start(directory_options opts = {}) {
    opts.sweep_interval = std::chrono::seconds(0);
    // The DIRECTORY links to its HASHERs: a new DIRECTORY needs a new one.
    hash = sys.spawn(hasher, cheap, false);
    auto dummy = *storage::hash_password(secret{"dummy-password"}, cheap);
    aut = sys.spawn(directory, env, vlt, std::vector<hasher_actor>{hash},
                    std::move(opts), dummy);
    run();
  }

  ~fixture() override {
    for (auto a :
         {caf::actor_cast<caf::actor>(aut), caf::actor_cast<caf::actor>(vlt),
          caf::actor_cast<caf::actor>(hash)})
      if (a)
        anon_send_exit(a, caf::exit_reason::user_shutdown);
    run();
  }

  /// The error a request fails with (none if it succeeded).
  template <class T, class Handle, class... Ts>
  caf::error error_of(const Handle& hdl, Ts... xs) {
    caf::error result;
    auto res = self->request(hdl, caf::infinite, xs...);
    run();
    res.receive([](T&) {}, [&](caf::error& e) { result = std::move(e); });
    return result;
  }

  /// A directory that allows any mail host, with the user alice.
  user_info start_with_alice() {
    directory_options opts;
    opts.hosts = *host_policy::parse("none");
    start(opts);
    return add_user("alice");
  }

  static account_credentials imap_password(const char* password) {
    account_credentials creds;
    creds.imap_password = secret{password};
    return creds;
  }

  user_info add_user(const std::string& name) {
    return request<user_info>(aut, atom::add_user_v, name,
                              secret{"a-good-password"});
  }

  account_settings sample_account(const user_id& owner) {
    account_settings s;
    s.owner = owner;
    s.label = "Work <script>\"'&";
    s.imap = server_settings{"imap.example.com", 993, transport_security::tls,
                             "alice@example.com"};
    s.has_smtp = true;
    s.smtp = server_settings{"smtp.example.com", 587,
                             transport_security::starttls, "alice@example.com"};
    return s;
  }

  vault_actor vlt;
  hasher_actor hash;
  directory_actor aut;
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(directory_tests, fixture)

CAF_TEST(users are created once and validated) {
  start();
  auto alice = add_user("Alice");
  CAF_CHECK_EQUAL(alice.username, "Alice");
  CAF_CHECK(!alice.id.empty());
  {
    auto reply = request<user_info>(aut, atom::find_user_v,
                                    std::string{"alice"});
    CAF_CHECK_EQUAL(reply.id, alice.id);
  }
  CAF_CHECK_EQUAL(error_of<user_info>(aut, atom::add_user_v,
                                      std::string{"ALICE"},
                                      secret{"another-password"}),
                  ec::already_exists);
  CAF_CHECK_EQUAL(error_of<user_info>(aut, atom::add_user_v, std::string{"x"},
                                      secret{"a-good-password"}),
                  ec::invalid_argument);
  CAF_CHECK_EQUAL(error_of<user_info>(aut, atom::add_user_v, std::string{"bob"},
                                      secret{"short"}),
                  ec::invalid_argument);
  CAF_CHECK_EQUAL(error_of<user_info>(aut, atom::add_user_v,
                                      std::string{"bob<script>"},
                                      secret{"a-good-password"}),
                  ec::invalid_argument);
  CAF_CHECK_EQUAL(error_of<user_info>(aut, atom::find_user_v,
                                      std::string{"nobody"}),
                  ec::no_such_user);
}

CAF_TEST(login opens a fresh session each time and logout ends it) {
  start();
  auto alice = add_user("alice");
  auto s1 = request<session_grant>(aut, atom::login_v, std::string{"alice"},
                                   secret{"a-good-password"},
                                   std::string{"127.0.0.1"});
  auto s2 = request<session_grant>(aut, atom::login_v, std::string{"ALICE"},
                                   secret{"a-good-password"},
                                   std::string{"127.0.0.1"});
  CAF_CHECK_NOT_EQUAL(s1.token, s2.token);
  CAF_CHECK_EQUAL(s1.token.size(), 43u);
  {
    auto reply = request<user_info>(aut, atom::session_v, s1.token);
    CAF_CHECK_EQUAL(reply.id, alice.id);
  }
  request<atom::ok>(aut, atom::logout_v, s1.token);
  CAF_CHECK_EQUAL(error_of<user_info>(aut, atom::session_v, s1.token),
                  ec::no_such_session);
  {
    auto reply = request<user_info>(aut, atom::session_v, s2.token);
    CAF_CHECK_EQUAL(reply.id, alice.id);
  }
  CAF_CHECK_EQUAL(error_of<user_info>(aut, atom::session_v,
                                      std::string{"forged"}),
                  ec::no_such_session);
}

CAF_TEST(unknown users cost a hash like wrong passwords) {
  start();
  add_user("alice");
  // Wrong password: the HASHER verifies.
  self->send(aut, atom::login_v, std::string{"alice"}, secret{"wrong-password"},
             std::string{"127.0.0.1"});
  expect((atom::login, std::string, secret, std::string), from(self).to(aut));
  expect((atom::verify, secret, std::string), from(aut).to(hash));
  expect((bool), from(hash).to(aut).with(false));
  run();
  // Unknown user: the HASHER verifies too (against the dummy hash).
  self->send(aut, atom::login_v, std::string{"mallory"},
             secret{"wrong-password"}, std::string{"127.0.0.1"});
  expect((atom::login, std::string, secret, std::string), from(self).to(aut));
  expect((atom::verify, secret, std::string), from(aut).to(hash));
  expect((bool), from(hash).to(aut).with(false));
  run();
  CAF_CHECK_EQUAL(
    error_of<session_grant>(aut, atom::login_v, std::string{"mallory"},
                            secret{"a-good-password"}, std::string{}),
    ec::invalid_credentials);
  CAF_CHECK_EQUAL(
    error_of<session_grant>(aut, atom::login_v, std::string{"alice"},
                            secret{"a-bad-password"}, std::string{}),
    ec::invalid_credentials);
}

CAF_TEST(signup follows the policy) {
  directory_options closed;
  closed.signup = signup_policy::closed;
  start(closed);
  CAF_CHECK_EQUAL(error_of<session_grant>(
                    aut, atom::signup_v, std::string{"carol"},
                    secret{"a-good-password"}, std::string{}, std::string{}),
                  ec::forbidden);
  anon_send_exit(aut, caf::exit_reason::user_shutdown);
  run();
  directory_options invite;
  invite.signup = signup_policy::invite;
  start(invite);
  CAF_CHECK_EQUAL(error_of<session_grant>(
                    aut, atom::signup_v, std::string{"carol"},
                    secret{"a-good-password"}, std::string{}, std::string{}),
                  ec::forbidden);
  CAF_CHECK_EQUAL(
    error_of<session_grant>(aut, atom::signup_v, std::string{"carol"},
                            secret{"a-good-password"}, std::string{"made-up"},
                            std::string{}),
    ec::forbidden);
  auto code = request<std::string>(aut, atom::invite_v, int64_t{3600});
  auto grant = request<session_grant>(aut, atom::signup_v, std::string{"carol"},
                                      secret{"a-good-password"}, code,
                                      std::string{});
  CAF_CHECK_EQUAL(grant.user.username, "carol");
  // One use only.
  CAF_CHECK_EQUAL(
    error_of<session_grant>(aut, atom::signup_v, std::string{"dave"},
                            secret{"a-good-password"}, code, std::string{}),
    ec::forbidden);
}

CAF_TEST(accounts are stored with sealed credentials and removed with them) {
  auto alice = start_with_alice();
  auto creds = imap_password("imap-pw");
  auto settings = sample_account(alice.id);
  auto stored = request<account_settings>(aut, atom::add_account_v, settings,
                                          creds);
  CAF_CHECK(!stored.id.empty());
  CAF_CHECK_EQUAL(stored.label, settings.label);
  CAF_CHECK_GREATER(stored.created_at, 0);
  auto listed = request<std::vector<account_settings>>(aut, atom::list_v,
                                                       alice.id);
  CAF_REQUIRE_EQUAL(listed.size(), 1u);
  CAF_CHECK_EQUAL(listed[0].imap.host, "imap.example.com");
  CAF_CHECK_EQUAL(listed[0].smtp.port, 587);
  auto plain = request<account_credentials>(vlt, atom::get_v, alice.id,
                                            stored.id);
  CAF_CHECK_EQUAL(plain.imap_password.reveal(), "imap-pw");
  // Update without passwords keeps the stored ones.
  stored.label = "Renamed";
  request<account_settings>(aut, atom::update_account_v, stored,
                            account_credentials{});
  {
    auto reply = request<account_settings>(aut, atom::get_v, alice.id,
                                           stored.id);
    CAF_CHECK_EQUAL(reply.label, "Renamed");
  }
  auto got1 = request<account_credentials>(vlt, atom::get_v, alice.id,
                                           stored.id);
  // Keep the reply alive: reveal() returns a reference into it.
  CAF_CHECK_EQUAL(got1.imap_password.reveal(), "imap-pw");
  // Update with a new password re-seals it.
  account_credentials changed;
  changed.imap_password = secret{"new-imap-pw"};
  request<account_settings>(aut, atom::update_account_v, stored, changed);
  auto got2 = request<account_credentials>(vlt, atom::get_v, alice.id,
                                           stored.id);
  // Keep the reply alive: reveal() returns a reference into it.
  CAF_CHECK_EQUAL(got2.imap_password.reveal(), "new-imap-pw");
  // Another user cannot see or delete it.
  auto bob = add_user("bob");
  CAF_CHECK_EQUAL(error_of<account_settings>(aut, atom::get_v, bob.id,
                                             stored.id),
                  ec::no_such_account);
  CAF_CHECK_EQUAL(error_of<atom::ok>(aut, atom::delete_account_v, bob.id,
                                     stored.id),
                  ec::no_such_account);
  request<atom::ok>(aut, atom::delete_account_v, alice.id, stored.id);
  CAF_CHECK_EQUAL(error_of<account_credentials>(vlt, atom::get_v, alice.id,
                                                stored.id),
                  ec::no_such_account);
  {
    auto reply = request<std::vector<account_settings>>(aut, atom::list_v,
                                                        alice.id);
    CAF_CHECK(reply.empty());
  }
}

CAF_TEST(account settings are validated) {
  start(); // default policy: private addresses denied
  auto alice = add_user("alice");
  account_credentials creds;
  creds.imap_password = secret{"pw"};
  auto s = sample_account(alice.id);
  s.imap.host = "127.0.0.1";
  CAF_CHECK_EQUAL(error_of<account_settings>(aut, atom::add_account_v, s,
                                             creds),
                  ec::forbidden);
  s = sample_account(alice.id);
  s.imap.security = transport_security::plain;
  CAF_CHECK_EQUAL(error_of<account_settings>(aut, atom::add_account_v, s,
                                             creds),
                  ec::invalid_argument);
  // Each refusal names the form field it is about.
  auto field_of = [&](const account_settings& x, const account_credentials& c) {
    auto err = error_of<account_settings>(aut, atom::add_account_v, x, c);
    CAF_CHECK_EQUAL(err, ec::invalid_argument);
    return error_field(err);
  };
  s = sample_account(alice.id);
  s.imap.port = 0;
  CAF_CHECK_EQUAL(field_of(s, creds), "imap_port");
  s = sample_account(alice.id);
  s.smtp.username = "";
  CAF_CHECK_EQUAL(field_of(s, creds), "smtp_username");
  s = sample_account(alice.id);
  s.label = "";
  CAF_CHECK_EQUAL(field_of(s, creds), "label");
  s = sample_account(alice.id);
  CAF_CHECK_EQUAL(field_of(s, account_credentials{}), "imap_password");
  s.owner = user_id{"no-such-user"};
  CAF_CHECK_EQUAL(error_of<account_settings>(aut, atom::add_account_v, s,
                                             creds),
                  ec::no_such_user);
}

CAF_TEST(aliases are stored with the account and checked) {
  auto alice = start_with_alice();
  auto creds = imap_password("pw");
  auto s = sample_account(alice.id);
  s.aliases = {"sales@example.com", "Alice.B@example.org"};
  auto stored = request<account_settings>(aut, atom::add_account_v, s, creds);
  auto got = request<account_settings>(aut, atom::get_v, alice.id, stored.id);
  CAF_CHECK_EQUAL(got.aliases, s.aliases);
  CAF_CHECK_EQUAL(sender_addresses(got),
                  (std::vector<std::string>{"alice@example.com",
                                            "sales@example.com",
                                            "Alice.B@example.org"}));
  // An edit replaces them; none left is none.
  got.aliases = {};
  request<account_settings>(aut, atom::update_account_v, got,
                            account_credentials{});
  auto cleared = request<account_settings>(aut, atom::get_v, alice.id,
                                           stored.id);
  CAF_CHECK(cleared.aliases.empty());
  // Refusals name the form's field.
  auto refused = [&](std::vector<std::string> aliases) {
    auto x = sample_account(alice.id);
    x.aliases = std::move(aliases);
    auto err = error_of<account_settings>(aut, atom::add_account_v, x, creds);
    CAF_CHECK_EQUAL(err, ec::invalid_argument);
    CAF_CHECK_EQUAL(error_field(err), "aliases");
    return describe(err);
  };
  CAF_CHECK(refused({"not an address"}).find("not an email address")
            != std::string::npos);
  CAF_CHECK(refused({"ALICE@example.com"}).find("own address")
            != std::string::npos);
  CAF_CHECK(refused({"a@example.com", "A@example.com"}).find("twice")
            != std::string::npos);
  std::vector<std::string> many;
  for (size_t i = 0; i <= max_account_aliases; ++i)
    many.push_back("a" + std::to_string(i) + "@example.com");
  CAF_CHECK(refused(many).find("at most 20") != std::string::npos);
  refused({"<x@example.com>"});
  // Split as a person types them.
  CAF_CHECK_EQUAL(split_aliases(" a@x.org,b@y.org;\n c@z.org  "),
                  (std::vector<std::string>{"a@x.org", "b@y.org", "c@z.org"}));
  CAF_CHECK(split_aliases(" , ").empty());
}

CAF_TEST(account records written before aliases read as having none) {
  auto s = sample_account(user_id{"u1"});
  s.id = account_id{"a1"};
  // The old layout is the new one without the trailers: with no aliases
  // and no OAuth provider, they are three zero bytes (an empty alias list,
  // an empty provider name, needs_signin false).
  auto without = storage::encode(s);
  CAF_REQUIRE(without.size() > 3);
  CAF_REQUIRE_EQUAL(without.substr(without.size() - 3), std::string(3, '\0'));
  auto back = storage::decode_account(without.substr(0, without.size() - 3));
  CAF_CHECK(back.aliases.empty());
  CAF_CHECK_EQUAL(back.label, s.label);
  CAF_CHECK_EQUAL(back.updated_at, s.updated_at);
  s.aliases = {"x@example.com", "y@example.com"};
  CAF_CHECK_EQUAL(storage::decode_account(storage::encode(s)).aliases,
                  s.aliases);
}

CAF_TEST(a saved password only goes to the server it was typed for) {
  auto alice = start_with_alice();
  auto creds = imap_password("imap-pw");
  auto stored = request<account_settings>(aut, atom::add_account_v,
                                          sample_account(alice.id), creds);
  // Same servers: the probe gets the stored password, a typed one wins.
  {
    auto merged = request<account_credentials>(aut, atom::edit_credentials_v,
                                               stored, account_credentials{});
    CAF_CHECK_EQUAL(merged.imap_password.reveal(), "imap-pw");
    CAF_CHECK(merged.smtp_password.empty());
  }
  // Another IMAP host, or another login name, without the password: the
  // DIRECTORY refuses to test or to save, and says which field.
  auto moved = stored;
  moved.imap.host = "imap.attacker.example";
  for (auto err : {error_of<account_credentials>(aut, atom::edit_credentials_v,
                                                 moved, account_credentials{}),
                   error_of<account_settings>(aut, atom::update_account_v,
                                              moved, account_credentials{})}) {
    CAF_CHECK_EQUAL(err, ec::forbidden);
    CAF_CHECK_EQUAL(error_field(err), "imap_password");
  }
  auto renamed = stored;
  renamed.imap.username = "mallory@example.com";
  CAF_CHECK_EQUAL(error_of<account_settings>(aut, atom::update_account_v,
                                             renamed, account_credentials{}),
                  ec::forbidden);
  // SMTP moved while it shares the IMAP password: that password again.
  auto smtp_moved = stored;
  smtp_moved.smtp.host = "smtp.attacker.example";
  CAF_CHECK_EQUAL(
    error_field(error_of<account_settings>(aut, atom::update_account_v,
                                           smtp_moved, account_credentials{})),
    "imap_password");
  // SMTP with its own password moved: the SMTP password again.
  smtp_moved.smtp_own_password = true;
  account_credentials imap_only;
  imap_only.imap_password = secret{"imap-pw"};
  CAF_CHECK_EQUAL(error_field(error_of<account_settings>(
                    aut, atom::update_account_v, smtp_moved, imap_only)),
                  "smtp_password");
  // Nothing of that was stored.
  {
    auto reply = request<account_settings>(aut, atom::get_v, alice.id,
                                           stored.id);
    CAF_CHECK_EQUAL(reply.imap.host, "imap.example.com");
    CAF_CHECK_EQUAL(reply.imap.username, "alice@example.com");
    CAF_CHECK_EQUAL(reply.smtp.host, "smtp.example.com");
  }
  // With the password typed again, the move is saved and sealed.
  account_credentials again;
  again.imap_password = secret{"other-pw"};
  auto saved = request<account_settings>(aut, atom::update_account_v, moved,
                                         again);
  CAF_CHECK_EQUAL(saved.imap.host, "imap.attacker.example");
  auto plain = request<account_credentials>(vlt, atom::get_v, alice.id,
                                            stored.id);
  CAF_CHECK_EQUAL(plain.imap_password.reveal(), "other-pw");
}

CAF_TEST(deleting a user removes everything it owned) {
  auto alice = start_with_alice();
  auto creds = imap_password("imap-pw");
  auto acct = request<account_settings>(aut, atom::add_account_v,
                                        sample_account(alice.id), creds);
  auto grant = request<session_grant>(aut, atom::login_v, std::string{"alice"},
                                      secret{"a-good-password"}, std::string{});
  request<atom::ok>(aut, atom::delete_user_v, alice.id);
  CAF_CHECK_EQUAL(error_of<user_info>(aut, atom::session_v, grant.token),
                  ec::no_such_session);
  CAF_CHECK_EQUAL(error_of<account_credentials>(vlt, atom::get_v, alice.id,
                                                acct.id),
                  ec::no_such_account);
  CAF_CHECK_EQUAL(error_of<user_info>(aut, atom::get_v, alice.id),
                  ec::no_such_user);
  // The name is free again, and nothing of the old user leaks into it.
  auto again = add_user("alice");
  CAF_CHECK_NOT_EQUAL(again.id, alice.id);
  {
    auto reply = request<std::vector<account_settings>>(aut, atom::list_v,
                                                        again.id);
    CAF_CHECK(reply.empty());
  }
  CAF_CHECK_EQUAL(error_of<atom::ok>(aut, atom::delete_user_v, alice.id),
                  ec::no_such_user);
}

CAF_TEST(password change checks the old one and ends other sessions) {
  start();
  auto alice = add_user("alice");
  auto old_session
    = request<session_grant>(aut, atom::login_v, std::string{"alice"},
                             secret{"a-good-password"}, std::string{});
  CAF_CHECK_EQUAL(error_of<session_grant>(aut, atom::change_password_v,
                                          alice.id, secret{"not-the-password"},
                                          secret{"brand-new-password"}),
                  ec::invalid_credentials);
  auto fresh = request<session_grant>(aut, atom::change_password_v, alice.id,
                                      secret{"a-good-password"},
                                      secret{"brand-new-password"});
  CAF_CHECK_EQUAL(error_of<user_info>(aut, atom::session_v, old_session.token),
                  ec::no_such_session);
  {
    auto reply = request<user_info>(aut, atom::session_v, fresh.token);
    CAF_CHECK_EQUAL(reply.id, alice.id);
  }
  CAF_CHECK_EQUAL(
    error_of<session_grant>(aut, atom::login_v, std::string{"alice"},
                            secret{"a-good-password"}, std::string{}),
    ec::invalid_credentials);
  request<session_grant>(aut, atom::login_v, std::string{"alice"},
                         secret{"brand-new-password"}, std::string{});
}

CAF_TEST(expired sessions are refused and swept) {
  directory_options opts;
  opts.session_ttl = std::chrono::seconds(0);
  start(opts);
  add_user("alice");
  auto grant = request<session_grant>(aut, atom::login_v, std::string{"alice"},
                                      secret{"a-good-password"}, std::string{});
  CAF_CHECK_EQUAL(error_of<user_info>(aut, atom::session_v, grant.token),
                  ec::no_such_session);
  self->send(aut, atom::tick_v);
  run();
  env->read([](const storage::txn& t) -> caf::error {
    CAF_CHECK_EQUAL(t.count(storage::table::web_sessions), 0u);
    return caf::none;
  });
}

CAF_TEST(the audit log lists events newest first) {
  start();
  auto alice = add_user("alice");
  error_of<session_grant>(aut, atom::login_v, std::string{"alice"},
                          secret{"wrong-password!"}, std::string{"10.0.0.9"});
  request<session_grant>(aut, atom::login_v, std::string{"alice"},
                         secret{"a-good-password"}, std::string{"10.0.0.9"});
  auto events = request<std::vector<audit_event>>(aut, atom::audit_log_v,
                                                  alice.id, uint64_t{10});
  CAF_REQUIRE_EQUAL(events.size(), 3u);
  CAF_CHECK_EQUAL(events[0].action, "login");
  CAF_CHECK_EQUAL(events[0].outcome, "ok");
  CAF_CHECK_EQUAL(events[0].address, "10.0.0.9");
  CAF_CHECK_EQUAL(events[1].outcome, "invalid credentials");
  CAF_CHECK_EQUAL(events[2].action, "user.create");
  {
    auto reply = request<std::vector<audit_event>>(aut, atom::audit_log_v,
                                                   alice.id, uint64_t{1});
    CAF_CHECK_EQUAL(reply.size(), 1u);
  }
}

CAF_TEST(audit events arrive in batches as one transaction) {
  start();
  auto bob = add_user("bob");
  std::vector<audit_event> batch;
  for (int i = 0; i < 3; ++i)
    batch.push_back(audit_event{0, bob.id, "admin-token", "tool.list_folders",
                                "account x",
                                "ok (" + std::to_string(i) + " ms)", ""});
  self->send(aut, atom::audit_v, batch);
  run();
  auto events = request<std::vector<audit_event>>(aut, atom::audit_log_v,
                                                  bob.id, uint64_t{10});
  CAF_REQUIRE_EQUAL(events.size(), 4u); // + user.create
  CAF_CHECK_EQUAL(events[0].action, "tool.list_folders");
  CAF_CHECK_GREATER(events[0].time_ms, 0);
}

CAF_TEST(a user keeps at most 20 web sessions and only their own end) {
  start();
  add_user("erin");
  add_user("fred");
  auto login = [&](const char* name) {
    return request<session_grant>(aut, atom::login_v, std::string{name},
                                  secret{"a-good-password"}, std::string{});
  };
  auto freds = login("fred");
  std::vector<session_grant> erins;
  for (int i = 0; i < 21; ++i)
    erins.push_back(login("erin"));
  size_t live = 0;
  for (auto& g : erins)
    if (!error_of<user_info>(aut, atom::session_v, g.token))
      ++live;
  CAF_CHECK_EQUAL(live, 20u);
  // The newest is among them; fred's session was never touched.
  CAF_CHECK_EQUAL(error_of<user_info>(aut, atom::session_v, erins.back().token),
                  caf::none);
  CAF_CHECK_EQUAL(error_of<user_info>(aut, atom::session_v, freds.token),
                  caf::none);
}

CAF_TEST(old audit events are pruned in batches and go with their user) {
  directory_options opts;
  opts.audit_retention = std::chrono::hours(24);
  opts.audit_batch = 2; // several transactions per user
  start(opts);
  auto carol = add_user("carol");
  auto dave = add_user("dave");
  auto now = unix_millis();
  std::vector<audit_event> batch;
  auto event = [&](const user_id& u, int64_t age_ms, std::string action) {
    batch.push_back(
      audit_event{now - age_ms, u, "web", std::move(action), "", "ok", ""});
  };
  for (int i = 0; i < 5; ++i)
    event(carol.id, 25 * 3600 * 1000 + i, "old");
  event(carol.id, 3600 * 1000, "recent");
  event(user_id{""}, 30 * 3600 * 1000, "login.failed"); // an unknown name
  event(dave.id, 48 * 3600 * 1000, "old");
  self->send(aut, atom::audit_v, batch);
  run();
  self->send(aut, atom::tick_v);
  run();
  auto events = request<std::vector<audit_event>>(aut, atom::audit_log_v,
                                                  carol.id, uint64_t{100});
  CAF_REQUIRE_EQUAL(events.size(), 2u); // recent + user.create
  CAF_CHECK_EQUAL(events[1].action, "recent");
  auto nobody = request<std::vector<audit_event>>(aut, atom::audit_log_v,
                                                  user_id{""}, uint64_t{100});
  CAF_CHECK_EQUAL(nobody.size(), 0u);
  // Deleting a user deletes their audit entries; others keep theirs.
  request<atom::ok>(aut, atom::delete_user_v, carol.id);
  env->read([&](const storage::txn& t) -> caf::error {
    size_t left = 0;
    t.scan(storage::table::audit, carol.id.value + "/",
           [&](std::string_view, std::string_view) {
             ++left;
             return true;
           });
    CAF_CHECK_EQUAL(left, 0u);
    return caf::none;
  });
  auto daves = request<std::vector<audit_event>>(aut, atom::audit_log_v,
                                                 dave.id, uint64_t{100});
  CAF_CHECK_EQUAL(daves.size(), 1u); // user.create; the old one was pruned
}

CAF_TEST_FIXTURE_SCOPE_END()
