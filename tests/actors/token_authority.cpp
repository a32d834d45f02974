// SPDX-License-Identifier: Apache-2.0
#define CAF_SUITE actors.token_authority

#include "postern/actors/token_authority.hpp"

#include "caf_test.hpp"
#include "postern/clock.hpp"
#include "postern/storage/crypto.hpp"
#include "postern/storage/directory_store.hpp"
#include "postern/storage/grant_store.hpp"
#include "postern/storage/oauth_store.hpp"
#include "support/lmdb_env.hpp"

#include <cstdlib>
#include <memory>

using namespace postern;

namespace {

struct fixture : test::lmdb_env,
                 test_coordinator_fixture<postern::test::configuration> {
  fixture() : lmdb_env("postern-ta") {
    // A user with two accounts, written the way the DIRECTORY writes them.
    alice.value = "11111111-1111-4111-8111-111111111111";
    work.value = "22222222-2222-4222-8222-222222222222";
    home.value = "33333333-3333-4333-8333-333333333333";
    CAF_REQUIRE(!env->write([&](storage::txn& t) -> caf::error {
      storage::user_record u;
      u.info.id = alice;
      u.info.username = "alice";
      t.put(storage::table::users, alice.value, storage::encode(u));
      t.put(storage::table::users_by_name, "alice", alice.value);
      for (auto* id : {&work, &home}) {
        account_settings acc;
        acc.id = *id;
        acc.owner = alice;
        acc.label = id == &work ? "Work" : "Home";
        acc.imap.username = id == &work ? "alice@work.example"
                                        : "alice@home.example";
        t.put(storage::table::accounts, storage::account_key(alice, *id),
              storage::encode(acc));
      }
      return caf::none;
    }));
    token_authority_options opts;
    opts.sweep_interval = std::chrono::seconds(0);
    opts.recheck_interval = std::chrono::seconds(2);
    opts.clock = [now = now_ms] { return *now; };
    aut = sys.spawn(token_authority, env, std::move(opts));
    run();
  }

  ~fixture() override {
    anon_send_exit(aut, caf::exit_reason::user_shutdown);
    run();
  }

  token_authority_state& state() {
    return deref<token_authority_actor::stateful_base<token_authority_state>>(
             aut)
      .state;
  }

  /// The error a request fails with (none if it succeeded).
  template <class T, class... Ts>
  caf::error error_of(Ts... xs) {
    caf::error result;
    auto res = self->request(aut, caf::infinite, xs...);
    run();
    res.receive([](T&) {}, [&](caf::error& e) { result = std::move(e); });
    return result;
  }

  grant_request admin_request(scope_set scopes, int64_t ttl = 3600) {
    grant_request req;
    req.user = alice;
    req.accounts.ids = {work};
    req.origin = grant_origin::admin;
    req.scopes = scopes;
    req.token_ttl = ttl;
    return req;
  }

  issued_token issue(scope_set scopes, int64_t ttl = 3600) {
    return request<issued_token>(aut, atom::issue_v,
                                 admin_request(scopes, ttl));
  }

  caf::error check(const issued_token& t, std::string resource = "") {
    return error_of<access_grant>(atom::validate_v,
                                  storage::sha256(t.token.reveal()), resource);
  }

  access_grant validated(const issued_token& t) {
    return request<access_grant>(
      aut, atom::validate_v, storage::sha256(t.token.reveal()), std::string{});
  }

  size_t count(storage::table tbl) {
    size_t n = 0;
    CAF_REQUIRE(!env->read([&](const storage::txn& t) -> caf::error {
      n = t.count(tbl);
      return caf::none;
    }));
    return n;
  }

  // -- OAuth ------------------------------------------------------------------

  const std::string verifier = std::string(43, 'v');

  code_request consent(scope_set scopes = bit(scope::read)) {
    code_request req;
    req.user = alice;
    req.accounts.ids = {work};
    req.client_id = "pc_client";
    req.client_name = "Mail helper";
    req.redirect_uri = "https://app.example/cb";
    req.challenge = storage::base64url(storage::sha256(verifier));
    req.resource = "https://mail.example.com/mcp";
    req.scopes = scopes;
    return req;
  }

  secret code(scope_set scopes = bit(scope::read)) {
    return request<secret>(aut, atom::issue_v, consent(scopes));
  }

  code_exchange exchange(const secret& c) {
    code_exchange x;
    x.code = c;
    x.client_id = "pc_client";
    x.verifier = secret{verifier};
    return x;
  }

  refresh_request refresh_of(const token_pair& tok) {
    refresh_request x;
    x.refresh_token = tok.refresh_token;
    x.client_id = "pc_client";
    return x;
  }

  caf::error check(const token_pair& t) {
    return error_of<access_grant>(atom::validate_v,
                                  storage::sha256(t.access_token.reveal()),
                                  std::string{"https://mail.example.com/mcp"});
  }

  grant_info stored_grant(const grant_id& id) {
    grant_info g;
    CAF_REQUIRE(!env->read([&](const storage::txn& t) -> caf::error {
      auto found = storage::find_grant(t, alice, id);
      CAF_REQUIRE(found);
      g = *found;
      return caf::none;
    }));
    return g;
  }

  std::shared_ptr<int64_t> now_ms
    = std::make_shared<int64_t>(int64_t{1'900'000'000'000});
  user_id alice;
  account_id work;
  account_id home;
  token_authority_actor aut;
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(token_authority_tests, fixture)

CAF_TEST(issued tokens are stored only as hashes and validate from memory) {
  auto t = issue(bit(scope::read) | bit(scope::folders));
  CAF_CHECK_EQUAL(t.token.size(), 43u); // 256 bits, base64url
  CAF_CHECK_EQUAL(t.grant.user, alice);
  CAF_CHECK(t.grant.accounts.ids == std::vector<account_id>{work});
  CAF_CHECK_EQUAL(t.expires_at, *now_ms / 1000 + 3600);
  CAF_CHECK_EQUAL(t.grant.actor(), "admin-token");
  // Nothing in LMDB contains the token itself.
  CAF_REQUIRE(!env->read([&](const storage::txn& tx) -> caf::error {
    for (auto tbl : {storage::table::access_tokens, storage::table::grants}) {
      tx.scan(tbl, "", [&](std::string_view k, std::string_view v) {
        CAF_CHECK(k.find(t.token.reveal()) == std::string_view::npos);
        CAF_CHECK(v.find(t.token.reveal()) == std::string_view::npos);
        return true;
      });
    }
    CAF_CHECK(
      tx.get(storage::table::access_tokens, storage::sha256(t.token.reveal())));
    return caf::none;
  }));
  auto g = validated(t);
  CAF_CHECK_EQUAL(g.grant.id, t.grant.id);
  CAF_CHECK_EQUAL(g.scopes, bit(scope::read) | bit(scope::folders));
  auto reads = state().lmdb_reads;
  for (int i = 0; i < 100; ++i)
    validated(t);
  CAF_CHECK_EQUAL(state().lmdb_reads, reads); // all from memory
  CAF_CHECK_EQUAL(state().cache.size(), 1u);
  // After the re-check interval, one LMDB read confirms it again.
  *now_ms += 2500;
  validated(t);
  CAF_CHECK_EQUAL(state().lmdb_reads, reads + 1);
}

CAF_TEST(unknown and malformed tokens are refused) {
  CAF_CHECK_EQUAL(error_of<access_grant>(
                    atom::validate_v, storage::sha256("nope"), std::string{}),
                  ec::invalid_token);
  CAF_CHECK_EQUAL(error_of<access_grant>(atom::validate_v, std::string{"x"},
                                         std::string{}),
                  ec::invalid_token);
  CAF_CHECK(state().cache.empty());
}

CAF_TEST(tokens written by another process are found on a cache miss) {
  // What `postern admin issue-token` does in its own process: write LMDB.
  auto token = storage::random_token(32);
  grant_info g;
  g.id = storage::new_grant_id();
  g.user = alice;
  g.accounts.ids = {home};
  g.scopes = bit(scope::send);
  g.created_at = *now_ms / 1000;
  CAF_REQUIRE(!env->write([&](storage::txn& t) -> caf::error {
    storage::put_grant(t, g);
    storage::access_token_record rec;
    rec.user = alice;
    rec.grant = g.id;
    rec.issued_at = g.created_at;
    rec.expires_at = g.created_at + 60;
    storage::put_access_token(t, storage::sha256(token), rec);
    return caf::none;
  }));
  auto v = request<access_grant>(aut, atom::validate_v, storage::sha256(token),
                                 std::string{});
  CAF_CHECK(v.grant.accounts.ids == std::vector<account_id>{home});
  CAF_CHECK_EQUAL(v.scopes, bit(scope::send));
}

CAF_TEST(expired tokens are refused even from the cache) {
  auto t = issue(bit(scope::read), 10);
  validated(t);
  *now_ms += 9000;
  CAF_CHECK_EQUAL(check(t), caf::none);
  *now_ms += 1000;
  auto err = check(t);
  CAF_CHECK_EQUAL(err, ec::invalid_token);
  CAF_CHECK_EQUAL(describe(err), "The access token expired.");
  CAF_CHECK(state().cache.empty());
}

CAF_TEST(revoking a grant kills its tokens at once) {
  auto t = issue(bit(scope::read));
  validated(t);
  self->send(aut, atom::revoke_v, alice, t.grant.id);
  run();
  CAF_CHECK_EQUAL(check(t), ec::invalid_token);
  CAF_CHECK_EQUAL(count(storage::table::access_tokens), 0u);
  CAF_CHECK_EQUAL(count(storage::table::grants), 0u);
  CAF_CHECK_EQUAL(error_of<atom::ok>(atom::revoke_v, alice, t.grant.id),
                  ec::invalid_token);
}

CAF_TEST(deleting the account in this process is seen on the next request) {
  auto t = issue(bit(scope::read));
  auto other = request<issued_token>(aut, atom::issue_v, [&] {
    auto req = admin_request(bit(scope::read));
    req.accounts.ids = {home};
    return req;
  }());
  validated(t);
  validated(other);
  // What the DIRECTORY does: erase in one transaction, then notify.
  CAF_REQUIRE(!env->write([&](storage::txn& tx) -> caf::error {
    CAF_CHECK(storage::erase_account(tx, alice, work));
    return caf::none;
  }));
  storage::note_grants_changed();
  CAF_CHECK_EQUAL(check(t), ec::invalid_token);
  CAF_CHECK_EQUAL(check(other), caf::none); // the other account's grant lives
  // The grant, its token and its index entry went with the account.
  CAF_CHECK_EQUAL(count(storage::table::access_tokens), 1u);
  CAF_CHECK_EQUAL(count(storage::table::grants), 2u); // other: grant + index
}

CAF_TEST(deletions by another process are seen within the recheck interval) {
  auto t = issue(bit(scope::read));
  validated(t);
  // Another process deletes the user: no epoch change here.
  CAF_REQUIRE(!env->write([&](storage::txn& tx) -> caf::error {
    CAF_CHECK(storage::erase_user(tx, alice));
    return caf::none;
  }));
  *now_ms += 1000;
  CAF_CHECK_EQUAL(check(t), caf::none); // still cached
  *now_ms += 1500;
  CAF_CHECK_EQUAL(check(t), ec::invalid_token);
  CAF_CHECK_EQUAL(count(storage::table::access_tokens), 0u);
  CAF_CHECK_EQUAL(count(storage::table::grants), 0u);
}

CAF_TEST(an account deleted behind a surviving grant is refused) {
  auto t = issue(bit(scope::read));
  // Only the account record disappears (an older Postern, a manual edit).
  CAF_REQUIRE(!env->write([&](storage::txn& tx) -> caf::error {
    tx.erase(storage::table::accounts, storage::account_key(alice, work));
    return caf::none;
  }));
  auto err = check(t);
  CAF_CHECK_EQUAL(err, ec::invalid_token);
  CAF_CHECK_EQUAL(describe(err),
                  "The email account of this access token was deleted.");
}

CAF_TEST(grants bound to a resource refuse other resources) {
  auto req = admin_request(bit(scope::read));
  req.origin = grant_origin::oauth;
  req.client_id = "client-1";
  req.resource = "https://mail.example.com/mcp";
  auto t = request<issued_token>(aut, atom::issue_v, req);
  CAF_CHECK_EQUAL(t.grant.actor(), "client-1");
  CAF_CHECK_EQUAL(t.grant.expires_at, 0); // OAuth grants live by refresh
  CAF_CHECK_EQUAL(check(t, "https://mail.example.com/mcp"), caf::none);
  CAF_CHECK_EQUAL(check(t, "https://evil.example.com/mcp"), ec::invalid_token);
}

CAF_TEST(issue checks its input) {
  CAF_CHECK_EQUAL(error_of<issued_token>(atom::issue_v, admin_request(0)),
                  ec::invalid_argument);
  CAF_CHECK_EQUAL(error_of<issued_token>(atom::issue_v,
                                         admin_request(bit(scope::read), 0)),
                  ec::invalid_argument);
  auto req = admin_request(bit(scope::read));
  req.accounts.ids = {account_id{"nope"}};
  CAF_CHECK_EQUAL(error_of<issued_token>(atom::issue_v, req),
                  ec::no_such_account);
  req.user.value = "nobody";
  CAF_CHECK_EQUAL(error_of<issued_token>(atom::issue_v, req), ec::no_such_user);
  CAF_CHECK_EQUAL(count(storage::table::grants), 0u);
}

CAF_TEST(the sweep removes expired tokens and grants) {
  auto short_lived = issue(bit(scope::read), 10);
  auto long_lived = issue(bit(scope::read), 1000);
  // An orphaned token (its grant vanished without it).
  CAF_REQUIRE(!env->write([&](storage::txn& tx) -> caf::error {
    storage::access_token_record rec;
    rec.user = alice;
    rec.grant = grant_id{"gone"};
    rec.expires_at = *now_ms / 1000 + 1000;
    storage::put_access_token(tx, storage::sha256("orphan"), rec);
    return caf::none;
  }));
  CAF_CHECK_EQUAL(count(storage::table::access_tokens), 3u);
  *now_ms += 11'000;
  self->send(aut, atom::tick_v);
  run();
  CAF_CHECK_EQUAL(count(storage::table::access_tokens), 1u);
  // The long-lived grant and its index entry remain.
  CAF_CHECK_EQUAL(count(storage::table::grants), 2u);
  CAF_CHECK_EQUAL(check(short_lived), ec::invalid_token);
  CAF_CHECK_EQUAL(check(long_lived), caf::none);
  auto grants = request<std::vector<grant_info>>(aut, atom::list_v, alice);
  CAF_REQUIRE_EQUAL(grants.size(), 1u);
  CAF_CHECK_EQUAL(grants[0].id, long_lived.grant.id);
}

CAF_TEST(the cache stays bounded) {
  state().opts.max_cached = 4;
  std::vector<issued_token> tokens;
  for (int i = 0; i < 10; ++i)
    tokens.push_back(issue(bit(scope::read)));
  for (auto& t : tokens)
    validated(t);
  CAF_CHECK_LESS_OR_EQUAL(state().cache.size(), 4u);
  for (auto& t : tokens)
    CAF_CHECK_EQUAL(check(t), caf::none);
}

CAF_TEST(grant records round - trip and keep unknown scopes out) {
  grant_info g;
  g.id = grant_id{"gid"};
  g.user = alice;
  g.accounts.ids = {work};
  g.client_id = "c";
  g.origin = grant_origin::oauth;
  g.scopes = bit(scope::modify) | bit(scope::send);
  g.resource = "https://x/mcp";
  g.created_at = 1;
  g.expires_at = 2;
  g.refresh_generation = 7;
  auto back = storage::decode_grant(storage::encode(g));
  CAF_CHECK_EQUAL(back.id, g.id);
  CAF_CHECK_EQUAL(back.scopes, g.scopes);
  CAF_CHECK_EQUAL(back.resource, g.resource);
  CAF_CHECK_EQUAL(back.refresh_generation, 7u);
  CAF_CHECK(back.origin == grant_origin::oauth);
  std::string unknown;
  CAF_CHECK(!parse_scopes("mail:read mail:write", &unknown));
  CAF_CHECK_EQUAL(unknown, "mail:write");
  CAF_CHECK_EQUAL(parse_scopes("mail:send,mail:read  mail:read"),
                  bit(scope::read) | bit(scope::send));
  CAF_CHECK_EQUAL(format_scopes(every_scope),
                  "mail:folders mail:read mail:search mail:modify mail:send "
                  "mail:draft");
}

CAF_TEST(old grant records without name and last use still decode) {
  grant_info g;
  g.id = grant_id{"gid"};
  g.client_name = "Mail helper";
  g.last_used_at = 42;
  auto bytes = storage::encode(g);
  auto back = storage::decode_grant(bytes);
  CAF_CHECK_EQUAL(back.client_name, "Mail helper");
  CAF_CHECK_EQUAL(back.last_used_at, 42);
  // A record written before the two fields existed ends after the
  // generation (one byte each for an empty string and for 0 here).
  g.client_name.clear();
  g.last_used_at = 0;
  auto old = storage::encode(g);
  // (And before the accounts after them: two more empty fields.)
  old.resize(old.size() - 4);
  auto legacy = storage::decode_grant(old);
  CAF_CHECK_EQUAL(legacy.id, g.id);
  CAF_CHECK(legacy.client_name.empty());
  CAF_CHECK_EQUAL(legacy.last_used_at, 0);
}

CAF_TEST(the last use of a grant is written at most once a minute) {
  auto t = issue(bit(scope::read));
  CAF_CHECK_EQUAL(stored_grant(t.grant.id).last_used_at, 0);
  auto first = *now_ms / 1000;
  validated(t);
  CAF_CHECK_EQUAL(stored_grant(t.grant.id).last_used_at, first);
  // Within the minute: memory only, but `list` reports it.
  *now_ms += 30'000;
  validated(t);
  CAF_CHECK_EQUAL(stored_grant(t.grant.id).last_used_at, first);
  auto grants = request<std::vector<grant_info>>(aut, atom::list_v, alice);
  CAF_REQUIRE_EQUAL(grants.size(), 1u);
  CAF_CHECK_EQUAL(grants[0].last_used_at, first + 30);
  // A minute after the last write: written again.
  *now_ms += 31'000;
  validated(t);
  CAF_CHECK_EQUAL(stored_grant(t.grant.id).last_used_at, first + 61);
  // The sweep writes what only memory knows.
  *now_ms += 10'000;
  validated(t);
  self->send(aut, atom::tick_v);
  run();
  CAF_CHECK_EQUAL(stored_grant(t.grant.id).last_used_at, first + 71);
}

CAF_TEST(client names come from the clients table) {
  CAF_REQUIRE(!env->write([&](storage::txn& t) -> caf::error {
    oauth_client c;
    c.id = "pc_a";
    c.name = "Claude";
    c.redirect_uris = {"https://claude.ai/api/mcp/auth_callback"};
    storage::put_client(t, c);
    return caf::none;
  }));
  auto names = request<std::vector<std::string>>(
    aut, atom::list_v, std::vector<std::string>{"pc_b", "pc_a"});
  CAF_REQUIRE_EQUAL(names.size(), 2u);
  CAF_CHECK_EQUAL(names[0], "");
  CAF_CHECK_EQUAL(names[1], "Claude");
}

CAF_TEST(clients register with a fresh id and the table is capped) {
  state().opts.max_clients = 2;
  oauth_client c;
  c.name = "Claude";
  c.redirect_uris = {"https://claude.ai/api/mcp/auth_callback"};
  auto a = request<oauth_client>(aut, atom::put_v, c);
  CAF_CHECK(a.id.rfind("pc_", 0) == 0);
  CAF_CHECK_EQUAL(a.created_at, *now_ms / 1000);
  auto found = request<oauth_client>(aut, atom::get_v, a.id);
  CAF_CHECK_EQUAL(found.name, "Claude");
  CAF_CHECK_EQUAL(found.redirect_uris, c.redirect_uris);
  CAF_CHECK_EQUAL(error_of<oauth_client>(atom::get_v, std::string{"pc_nope"}),
                  ec::invalid_client);
  auto b = request<oauth_client>(aut, atom::put_v, c);
  CAF_CHECK_NOT_EQUAL(a.id, b.id);
  // Full: the sweep finds nothing to remove yet.
  CAF_CHECK_EQUAL(error_of<oauth_client>(atom::put_v, c), ec::too_busy);
  // Never-used clients live an hour: at 59 minutes they still count...
  *now_ms += 59 * 60 * 1000;
  CAF_CHECK_EQUAL(error_of<oauth_client>(atom::put_v, c), ec::too_busy);
  // ...after the hour they are swept to make room.
  *now_ms += 2 * 60 * 1000;
  CAF_CHECK_EQUAL(error_of<oauth_client>(atom::put_v, c), caf::none);
  CAF_CHECK_EQUAL(count(storage::table::clients), 1u);
  CAF_CHECK_EQUAL(error_of<oauth_client>(atom::get_v, a.id),
                  ec::invalid_client);
}

CAF_TEST(an authorization code is redeemed once and stored as a hash) {
  auto c = code();
  CAF_CHECK(c.reveal().rfind("pac_", 0) == 0);
  CAF_CHECK_EQUAL(count(storage::table::auth_codes), 1u);
  auto tok = request<token_pair>(aut, atom::redeem_v, exchange(c));
  CAF_CHECK(tok.access_token.reveal().rfind("pat_", 0) == 0);
  CAF_CHECK(tok.refresh_token.reveal().rfind("prt_", 0) == 0);
  CAF_CHECK_EQUAL(tok.expires_at, *now_ms / 1000 + 3600);
  CAF_CHECK_EQUAL(tok.scopes, bit(scope::read));
  CAF_CHECK_EQUAL(tok.grant.client_name, "Mail helper");
  CAF_CHECK_EQUAL(tok.grant.expires_at, *now_ms / 1000 + 90 * 86400);
  CAF_CHECK_EQUAL(check(tok), caf::none);
  CAF_REQUIRE(!env->read([&](const storage::txn& t) -> caf::error {
    CAF_CHECK(!t.get(storage::table::auth_codes, c.reveal()));
    CAF_CHECK(t.get(storage::table::auth_codes, storage::sha256(c.reveal())));
    return caf::none;
  }));
  // A replay with a wrong verifier is refused and revokes nothing...
  auto bad = exchange(c);
  bad.verifier = secret{std::string(43, 'w')};
  CAF_CHECK_EQUAL(error_of<token_pair>(atom::redeem_v, bad), ec::invalid_grant);
  CAF_CHECK_EQUAL(check(tok), caf::none);
  // ...a valid replay is refused and revokes what the code issued.
  CAF_CHECK_EQUAL(error_of<token_pair>(atom::redeem_v, exchange(c)),
                  ec::invalid_grant);
  CAF_CHECK_EQUAL(check(tok), ec::invalid_token);
}

CAF_TEST(redeeming checks client verifier redirect resource and expiry) {
  auto c = code();
  auto x = exchange(c);
  x.client_id = "pc_other";
  CAF_CHECK_EQUAL(error_of<token_pair>(atom::redeem_v, x), ec::invalid_grant);
  x = exchange(c);
  x.verifier = secret{"short"};
  CAF_CHECK_EQUAL(error_of<token_pair>(atom::redeem_v, x), ec::invalid_request);
  x = exchange(c);
  x.has_redirect_uri = true;
  x.redirect_uri = "https://app.example/cb/";
  CAF_CHECK_EQUAL(error_of<token_pair>(atom::redeem_v, x), ec::invalid_grant);
  x = exchange(c);
  x.resource = "https://other.example/mcp";
  CAF_CHECK_EQUAL(error_of<token_pair>(atom::redeem_v, x), ec::invalid_target);
  // None of that used the code up; time does.
  *now_ms += 61'000;
  CAF_CHECK_EQUAL(error_of<token_pair>(atom::redeem_v, exchange(c)),
                  ec::invalid_grant);
  auto fresh = code();
  x = exchange(fresh);
  x.has_redirect_uri = true;
  x.redirect_uri = "https://app.example/cb";
  x.resource = "https://mail.example.com/mcp";
  CAF_CHECK_EQUAL(error_of<token_pair>(atom::redeem_v, x), caf::none);
  // Codes for another user's account are not issued at all.
  auto req = consent();
  req.accounts.ids = {account_id{"nope"}};
  CAF_CHECK_EQUAL(error_of<secret>(atom::issue_v, req), ec::no_such_account);
  // Used and expired codes are swept after they cannot matter any more.
  *now_ms += 12 * 60'000;
  self->send(aut, atom::tick_v);
  run();
  CAF_CHECK_EQUAL(count(storage::table::auth_codes), 0u);
}

CAF_TEST(refresh rotates with a grace window for the previous token only) {
  auto t0 = request<token_pair>(aut, atom::redeem_v, exchange(code()));
  auto t1 = request<token_pair>(aut, atom::refresh_v, refresh_of(t0));
  CAF_CHECK_NOT_EQUAL(t1.refresh_token.reveal(), t0.refresh_token.reveal());
  CAF_CHECK_EQUAL(stored_grant(t1.grant.id).refresh_generation, 1u);
  // The previous token within the grace window: new tokens, no rotation.
  *now_ms += 10'000;
  auto t1b = request<token_pair>(aut, atom::refresh_v, refresh_of(t0));
  CAF_CHECK_EQUAL(check(t1b), caf::none);
  CAF_CHECK_EQUAL(stored_grant(t1.grant.id).refresh_generation, 1u);
  auto t2 = request<token_pair>(aut, atom::refresh_v, refresh_of(t1));
  CAF_CHECK_EQUAL(stored_grant(t1.grant.id).refresh_generation, 2u);
  // Generation 0 is two rotations old: reuse revokes the whole grant.
  CAF_CHECK_EQUAL(error_of<token_pair>(atom::refresh_v, refresh_of(t0)),
                  ec::invalid_grant);
  CAF_CHECK_EQUAL(check(t2), ec::invalid_token);
  CAF_CHECK_EQUAL(error_of<token_pair>(atom::refresh_v, refresh_of(t2)),
                  ec::invalid_grant);
}

CAF_TEST(grants per user are capped by refusing the newcomer) {
  state().opts.max_grants_per_user = 2;
  auto first = request<token_pair>(aut, atom::redeem_v, exchange(code()));
  request<token_pair>(aut, atom::redeem_v, exchange(code()));
  CAF_CHECK_EQUAL(error_of<secret>(atom::issue_v, consent(bit(scope::read))),
                  ec::too_busy);
  // Nothing of the user's was ended for it.
  CAF_CHECK_EQUAL(check(first), caf::none);
}

CAF_TEST(the sweep works in bounded transactions and misses nothing) {
  state().opts.sweep_batch = 2;
  auto t0 = request<token_pair>(aut, atom::redeem_v, exchange(code()));
  auto t1 = request<token_pair>(aut, atom::redeem_v, exchange(code()));
  *now_ms += 2 * 3600 * 1000; // the access tokens expire after an hour
  self->send(aut, atom::tick_v);
  run();
  CAF_CHECK_EQUAL(count(storage::table::access_tokens), 0u);
  CAF_CHECK_EQUAL(count(storage::table::refresh_tokens), 2u);
  CAF_CHECK_EQUAL(check(t0), ec::invalid_token);
  CAF_CHECK_EQUAL(check(t1), ec::invalid_token);
}

CAF_TEST(grace replays are counted and never extend the window) {
  auto t0 = request<token_pair>(aut, atom::redeem_v, exchange(code()));
  auto t1 = request<token_pair>(aut, atom::refresh_v, refresh_of(t0));
  // Three replays of the previous token, each one a little later: each
  // gets tokens of the newest generation...
  for (int i = 0; i < 3; ++i) {
    *now_ms += 9'000;
    auto again = request<token_pair>(aut, atom::refresh_v, refresh_of(t0));
    CAF_CHECK_EQUAL(check(again), caf::none);
  }
  // ...a fourth is refused, without ending the grant.
  CAF_CHECK_EQUAL(error_of<token_pair>(atom::refresh_v, refresh_of(t0)),
                  ec::invalid_grant);
  CAF_CHECK_EQUAL(check(t1), caf::none);
  CAF_CHECK_EQUAL(stored_grant(t1.grant.id).refresh_generation, 1u);
}

CAF_TEST(the grace window runs from the rotation and not from a replay) {
  auto t0 = request<token_pair>(aut, atom::redeem_v, exchange(code()));
  auto t1 = request<token_pair>(aut, atom::refresh_v, refresh_of(t0));
  *now_ms += 25'000;
  auto replay = request<token_pair>(aut, atom::refresh_v, refresh_of(t0));
  CAF_CHECK_EQUAL(check(replay), caf::none);
  // 31 s after the rotation (6 s after the replay) the window is over:
  // the previous token now counts as reuse and revokes the grant.
  *now_ms += 6'000;
  CAF_CHECK_EQUAL(error_of<token_pair>(atom::refresh_v, refresh_of(t0)),
                  ec::invalid_grant);
  CAF_CHECK_EQUAL(check(t1), ec::invalid_token);
}

CAF_TEST(refresh after the grace window revokes and scope cannot widen) {
  auto t0 = request<token_pair>(
    aut, atom::redeem_v,
    exchange(code(bit(scope::read) | bit(scope::folders))));
  auto wide = refresh_of(t0);
  wide.scopes = bit(scope::send);
  CAF_CHECK_EQUAL(error_of<token_pair>(atom::refresh_v, wide),
                  ec::invalid_scope);
  auto other = refresh_of(t0);
  other.resource = "https://other.example/mcp";
  CAF_CHECK_EQUAL(error_of<token_pair>(atom::refresh_v, other),
                  ec::invalid_target);
  auto narrow = refresh_of(t0);
  narrow.scopes = bit(scope::read);
  auto t1 = request<token_pair>(aut, atom::refresh_v, narrow);
  CAF_CHECK_EQUAL(t1.scopes, bit(scope::read));
  *now_ms += 31'000;
  CAF_CHECK_EQUAL(error_of<token_pair>(atom::refresh_v, refresh_of(t0)),
                  ec::invalid_grant);
  CAF_CHECK_EQUAL(check(t1), ec::invalid_token);
}

CAF_TEST(revocation by token) {
  auto t0 = request<token_pair>(aut, atom::redeem_v, exchange(code()));
  token_revocation r;
  r.token = t0.access_token;
  r.client_id = "pc_other"; // not its client: nothing happens
  CAF_CHECK_EQUAL(error_of<atom::ok>(atom::revoke_v, r), caf::none);
  CAF_CHECK_EQUAL(check(t0), caf::none);
  r.client_id = "pc_client";
  CAF_CHECK_EQUAL(error_of<atom::ok>(atom::revoke_v, r), caf::none);
  CAF_CHECK_EQUAL(check(t0), ec::invalid_token);
  // The refresh token ends the grant.
  r.token = t0.refresh_token;
  CAF_CHECK_EQUAL(error_of<atom::ok>(atom::revoke_v, r), caf::none);
  CAF_CHECK_EQUAL(error_of<token_pair>(atom::refresh_v, refresh_of(t0)),
                  ec::invalid_grant);
  r.token = secret{"unknown"};
  CAF_CHECK_EQUAL(error_of<atom::ok>(atom::revoke_v, r), caf::none);
}

CAF_TEST(a grant of several accounts names each and outlives one of them) {
  auto req = admin_request(bit(scope::read));
  req.accounts.ids = {work, home};
  req.accounts.preferred = home;
  auto t = request<issued_token>(aut, atom::issue_v, req);
  auto g = validated(t);
  CAF_REQUIRE_EQUAL(g.accounts.size(), 2u);
  CAF_CHECK_EQUAL(g.accounts[0].label, "Work");
  CAF_CHECK_EQUAL(g.accounts[0].address, "alice@work.example");
  CAF_CHECK_EQUAL(g.accounts[1].label, "Home");
  // A call names an account by label or address, letter case aside; one
  // that names none gets the default.
  CAF_CHECK(g.find_account("work") == &g.accounts[0]);
  CAF_CHECK(g.find_account("ALICE@home.example") == &g.accounts[1]);
  CAF_CHECK(g.find_account("") == &g.accounts[1]);
  CAF_CHECK(g.find_account("elsewhere") == nullptr);
  // Deleting one account leaves the grant with the other (and no default).
  CAF_REQUIRE(!env->write([&](storage::txn& tx) -> caf::error {
    CAF_CHECK(storage::erase_account(tx, alice, home));
    return caf::none;
  }));
  storage::note_grants_changed();
  g = validated(t);
  CAF_REQUIRE_EQUAL(g.accounts.size(), 1u);
  CAF_CHECK_EQUAL(g.accounts[0].label, "Work");
  CAF_CHECK(g.grant.accounts.preferred.value.empty());
  CAF_CHECK(g.find_account("") == &g.accounts[0]); // the only one
  CAF_CHECK(stored_grant(t.grant.id).accounts.ids
            == std::vector<account_id>{work});
  // Deleting the last one takes the grant.
  CAF_REQUIRE(!env->write([&](storage::txn& tx) -> caf::error {
    CAF_CHECK(storage::erase_account(tx, alice, work));
    return caf::none;
  }));
  storage::note_grants_changed();
  CAF_CHECK_EQUAL(check(t), ec::invalid_token);
  CAF_CHECK_EQUAL(count(storage::table::grants), 0u);
}

CAF_TEST(without a default a call of a grant of several must name one) {
  auto req = admin_request(bit(scope::read));
  req.accounts.ids = {work, home};
  auto g = validated(request<issued_token>(aut, atom::issue_v, req));
  CAF_CHECK(g.find_account("") == nullptr);
  CAF_CHECK(g.find_account("Home") == &g.accounts[1]);
}

CAF_TEST(one account is taken out of a grant and the others keep working) {
  auto req = admin_request(bit(scope::read));
  req.accounts.ids = {work, home};
  req.accounts.preferred = work;
  auto t = request<issued_token>(aut, atom::issue_v, req);
  CAF_CHECK_EQUAL(validated(t).accounts.size(), 2u);
  CAF_CHECK_EQUAL(error_of<atom::ok>(atom::revoke_v, alice, t.grant.id, work),
                  caf::none);
  auto g = validated(t);
  CAF_REQUIRE_EQUAL(g.accounts.size(), 1u);
  CAF_CHECK_EQUAL(g.accounts[0].id, home);
  CAF_CHECK(g.grant.accounts.preferred.value.empty());
  // Not reached any more, the only account, another's grant: refused.
  CAF_CHECK_EQUAL(error_of<atom::ok>(atom::revoke_v, alice, t.grant.id, work),
                  ec::no_such_account);
  CAF_CHECK_EQUAL(error_of<atom::ok>(atom::revoke_v, alice, t.grant.id, home),
                  ec::invalid_argument);
  user_id bob{"44444444-4444-4444-8444-444444444444"};
  CAF_CHECK_EQUAL(error_of<atom::ok>(atom::revoke_v, bob, t.grant.id, home),
                  ec::invalid_token);
  CAF_CHECK_EQUAL(check(t), caf::none);
}

CAF_TEST(account sets a grant may not have are refused) {
  auto req = admin_request(bit(scope::read));
  req.accounts.ids = {work, work};
  CAF_CHECK_EQUAL(error_of<issued_token>(atom::issue_v, req),
                  ec::invalid_argument);
  req.accounts.ids = {};
  CAF_CHECK_EQUAL(error_of<issued_token>(atom::issue_v, req),
                  ec::invalid_argument);
  req.accounts.ids = {work};
  req.accounts.preferred = home;
  CAF_CHECK_EQUAL(error_of<issued_token>(atom::issue_v, req),
                  ec::invalid_argument);
  req.accounts.ids = {work, account_id{"nope"}};
  req.accounts.preferred = {};
  CAF_CHECK_EQUAL(error_of<issued_token>(atom::issue_v, req),
                  ec::no_such_account);
  auto code = consent();
  code.accounts.ids = {home, home};
  CAF_CHECK_EQUAL(error_of<secret>(atom::issue_v, code), ec::invalid_argument);
  CAF_CHECK_EQUAL(count(storage::table::grants), 0u);
}

CAF_TEST(records of several accounts round - trip and old ones have one) {
  grant_info g;
  g.id = grant_id{"gid"};
  g.user = alice;
  g.accounts.ids = {work, home};
  g.accounts.preferred = home;
  auto back = storage::decode_grant(storage::encode(g));
  CAF_CHECK(back.accounts.ids == g.accounts.ids);
  CAF_CHECK_EQUAL(back.accounts.preferred, home);
  // A record of one account written before grants had several ends before
  // the accounts' fields.
  g.accounts.ids = {work};
  g.accounts.preferred = {};
  auto old = storage::encode(g);
  // Without the send rules (2 bytes when open) and the accounts (2 more).
  old.resize(old.size() - 4);
  back = storage::decode_grant(old);
  CAF_CHECK(back.accounts.ids == std::vector<account_id>{work});
  // Authorization codes carry the accounts the person ticked.
  storage::code_record rec;
  rec.approved = consent();
  rec.approved.accounts.ids = {home, work};
  rec.approved.accounts.preferred = work;
  auto code = storage::decode_code(storage::encode(rec));
  CAF_CHECK(code.approved.accounts.ids == rec.approved.accounts.ids);
  CAF_CHECK_EQUAL(code.approved.accounts.preferred, work);
}

CAF_TEST(send rules are stored with the grant and travel through a code) {
  auto req = admin_request(bit(scope::send));
  req.send.recipients = {"bob@example.org", "*@example.com"};
  auto t = request<issued_token>(aut, atom::issue_v, req);
  auto g = validated(t);
  CAF_CHECK(g.grant.send.recipients == req.send.recipients);
  CAF_CHECK(stored_grant(t.grant.id).send.recipients == req.send.recipients);
  // A consent's rules reach the grant its code makes.
  auto c = consent(bit(scope::send));
  c.send.recipients = {"*@partner.example"};
  c.send.ask_first = true;
  auto code_secret = request<secret>(aut, atom::issue_v, c);
  auto tok = request<token_pair>(aut, atom::redeem_v, exchange(code_secret));
  CAF_CHECK(tok.grant.send.recipients
            == std::vector<std::string>{"*@partner.example"});
  CAF_CHECK(tok.grant.send.ask_first);
  CAF_CHECK(stored_grant(tok.grant.id).send.ask_first);
  // Too many patterns are refused, by consent and by the operator alike.
  req.send.recipients.assign(max_recipient_patterns + 1, "a@b.example");
  CAF_CHECK_EQUAL(error_of<issued_token>(atom::issue_v, req),
                  ec::invalid_argument);
  c.send.recipients = req.send.recipients;
  CAF_CHECK_EQUAL(error_of<secret>(atom::issue_v, c), ec::invalid_argument);
}

CAF_TEST(changed send rules apply to the next call of the same token) {
  auto t = issue(bit(scope::send));
  CAF_CHECK(validated(t).grant.send.open());
  send_rules rules;
  rules.recipients = {"*@example.com"};
  CAF_CHECK_EQUAL(error_of<atom::ok>(atom::put_v, alice, t.grant.id, rules),
                  caf::none);
  // The memo held the old rules; the change is seen at once.
  auto g = validated(t);
  CAF_CHECK(g.grant.send.recipients == rules.recipients);
  CAF_CHECK(!g.grant.send.allows("bob@elsewhere.example"));
  CAF_CHECK(g.grant.send.allows("Bob@Example.COM"));
  // Only one's own grants; never more than the bound.
  user_id bob{"44444444-4444-4444-8444-444444444444"};
  CAF_CHECK_EQUAL(error_of<atom::ok>(atom::put_v, bob, t.grant.id, rules),
                  ec::invalid_token);
  rules.recipients.assign(max_recipient_patterns + 1, "a@b.example");
  CAF_CHECK_EQUAL(error_of<atom::ok>(atom::put_v, alice, t.grant.id, rules),
                  ec::invalid_argument);
  CAF_CHECK(validated(t).grant.send.recipients
            == std::vector<std::string>{"*@example.com"});
}

CAF_TEST(records with send rules round - trip and old ones send freely) {
  grant_info g;
  g.id = grant_id{"gid"};
  g.user = alice;
  g.accounts.ids = {work};
  g.send.ask_first = true;
  g.send.recipients = {"bob@example.org", "*@example.com"};
  auto back = storage::decode_grant(storage::encode(g));
  CAF_CHECK(back.send.ask_first);
  CAF_CHECK(back.send.recipients == g.send.recipients);
  // A record written before send rules ends after the accounts' fields.
  g.send = {};
  auto old = storage::encode(g);
  old.resize(old.size() - 2);
  back = storage::decode_grant(old);
  CAF_CHECK(back.send.open());
  CAF_CHECK(back.accounts.ids == std::vector<account_id>{work});
  storage::code_record rec;
  rec.approved = consent(bit(scope::send));
  rec.approved.send.recipients = {"*@example.com"};
  auto code = storage::decode_code(storage::encode(rec));
  CAF_CHECK(code.approved.send.recipients == rec.approved.send.recipients);
  CAF_CHECK(!code.approved.send.ask_first);
}

CAF_TEST_FIXTURE_SCOPE_END()
