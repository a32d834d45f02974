// SPDX-License-Identifier: Apache-2.0
// The TOKEN AUTHORITY's grant lifecycle: issuing grants and codes,
// redeeming a code once, rotating refresh tokens within the grace rule,
// and revoking. Each operation is one LMDB write transaction, run
// synchronously from a handler in token_authority.cpp.
#include "postern/actors/token_authority.hpp"
#include "postern/clock.hpp"
#include "postern/error.hpp"
#include "postern/log.hpp"
#include "postern/storage/crypto.hpp"
#include "postern/storage/directory_store.hpp"
#include "postern/storage/grant_store.hpp"
#include "postern/storage/oauth_store.hpp"

#include <algorithm>
#include <cctype>

namespace postern {

namespace {

caf::error invalid_grant(const char* sentence) {
  return caf::make_error(ec::invalid_grant, sentence);
}

/// Times the previous refresh token may be presented again within the
/// grace window after a rotation.
constexpr size_t max_grace_replays = 3;

int64_t seconds(std::chrono::seconds x) {
  return static_cast<int64_t>(x.count());
}

/// RFC 7636 §4.1: 43 to 128 unreserved characters.
bool verifier_ok(std::string_view v) {
  return v.size() >= 43 && v.size() <= 128
         && std::all_of(v.begin(), v.end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) || c == '-'
                     || c == '.' || c == '_' || c == '~';
            });
}

bool pkce_matches(const secret& verifier, const std::string& challenge) {
  return constant_time_equal(
    storage::base64url(storage::sha256(verifier.reveal())), challenge);
}

/// Stores a new access token of `g` (narrowed to `scopes`); returns it and
/// sets `expires_at`.
secret put_access_token(storage::txn& t, const grant_info& g, scope_set scopes,
                        int64_t now, int64_t ttl, int64_t& expires_at) {
  secret token{"pat_" + storage::random_token(32)};
  storage::access_token_record rec;
  rec.user = g.user;
  rec.grant = g.id;
  rec.scopes = scopes == g.scopes ? 0 : scopes;
  rec.issued_at = now;
  rec.expires_at = now + ttl;
  if (g.expires_at != 0)
    rec.expires_at = std::min(rec.expires_at, g.expires_at);
  expires_at = rec.expires_at;
  storage::put_access_token(t, storage::sha256(token.reveal()), rec);
  return token;
}

/// Stores refresh token number `generation` of `g`, issued at `issued_at`
/// (the rotation that made the generation, for tokens handed out again in
/// its grace window) and idle-expiring from `now`; returns it.
secret put_refresh_token(storage::txn& t, const grant_info& g,
                         uint64_t generation, int64_t now, int64_t idle,
                         int64_t issued_at) {
  secret token{"prt_" + storage::random_token(32)};
  storage::refresh_token_record rec;
  rec.user = g.user;
  rec.grant = g.id;
  rec.generation = generation;
  rec.issued_at = issued_at;
  rec.expires_at = now + idle;
  if (g.expires_at != 0)
    rec.expires_at = std::min(rec.expires_at, g.expires_at);
  storage::put_refresh_token(t, storage::sha256(token.reveal()), rec);
  return token;
}

/// Why the (unused) code `c` cannot be redeemed with `x`, if it cannot:
/// expired, another client or redirect URI, a malformed verifier, failed
/// PKCE, another resource, or its account deleted since.
caf::error refuse_code(const storage::txn& t, const storage::code_record& c,
                       const code_exchange& x, int64_t now,
                       bool valid_request) {
  auto& approved = c.approved;
  if (c.expires_at < now)
    return invalid_grant("The authorization code has expired.");
  if (approved.client_id != x.client_id)
    return invalid_grant("The code was issued to another client.");
  if (x.has_redirect_uri && x.redirect_uri != approved.redirect_uri)
    return invalid_grant("redirect_uri does not match.");
  if (!verifier_ok(x.verifier.reveal()))
    return caf::make_error(ec::invalid_request,
                           "code_verifier must have 43 to 128 unreserved "
                           "characters.");
  if (!valid_request)
    return invalid_grant("PKCE verification failed.");
  if (!x.resource.empty() && x.resource != approved.resource)
    return caf::make_error(ec::invalid_target,
                           "The resource does not match the authorization.");
  if (!storage::find_user(t, approved.user))
    return invalid_grant("The account of this authorization is gone.");
  for (auto& account : approved.accounts.ids)
    if (!storage::find_account(t, approved.user, account))
      return invalid_grant("An email account of this authorization is gone.");
  return caf::none;
}

caf::error too_many_recipients() {
  return caf::make_error(ec::invalid_argument,
                         "a connection names at most "
                           + std::to_string(max_recipient_patterns)
                           + " recipients or domains");
}

/// Fails with no_such_account unless every account is the user's.
caf::error all_accounts_exist(const storage::txn& t, const user_id& user,
                              const grant_accounts& accounts) {
  for (auto& account : accounts.ids)
    if (!storage::find_account(t, user, account))
      return caf::make_error(ec::no_such_account,
                             "no such email account for this user");
  return caf::none;
}

/// A new grant (fresh id, created now, no expiry yet) for what an operator
/// asked (grant_request) or a person approved (the code_request behind an
/// authorization code): both carry the same fields.
template <class Request>
grant_info new_grant(const Request& r, grant_origin origin, int64_t now) {
  grant_info g;
  g.id = storage::new_grant_id();
  g.user = r.user;
  g.accounts = r.accounts;
  g.client_id = r.client_id;
  g.client_name = r.client_name;
  g.origin = origin;
  g.scopes = r.scopes;
  g.resource = r.resource;
  g.send = r.send;
  g.created_at = now;
  return g;
}

/// The grant a redeemed code makes, with its first access and refresh
/// tokens, stored in `t`.
token_pair issue_for_code(storage::txn& t, const code_request& approved,
                          int64_t now, const oauth_lifetimes& life) {
  token_pair out;
  auto& g = out.grant;
  g = new_grant(approved, grant_origin::oauth, now);
  g.expires_at = now + seconds(life.grant_cap);
  storage::put_grant(t, g);
  out.scopes = g.scopes;
  out.access_token = put_access_token(
    t, g, g.scopes, now, seconds(life.access_token), out.expires_at);
  out.refresh_token = put_refresh_token(t, g, 0, now,
                                        seconds(life.refresh_idle), now);
  return out;
}

/// The refresh tokens of the newest generation of `g`: how many exist (the
/// rotation's own plus those handed out again in its grace window) and
/// when the rotation happened.
struct newest_generation {
  size_t tokens = 0;
  int64_t rotated_at = 0;
};

newest_generation newest_tokens(const storage::txn& t, const grant_info& g) {
  newest_generation out;
  auto prefix = storage::grant_key(g.user, g.id) + "/r/";
  t.scan(storage::table::grants, prefix,
         [&](std::string_view key, std::string_view) {
           auto cur = storage::find_refresh_token(t, key.substr(prefix.size()));
           if (cur && cur->generation == g.refresh_generation) {
             out.rotated_at = out.tokens == 0
                                ? cur->issued_at
                                : std::min(out.rotated_at, cur->issued_at);
             ++out.tokens;
           }
           return true;
         });
  return out;
}

/// Runs `body(txn, result, revoked)` in one write transaction. `result`
/// starts as `unknown`; `body` sets `revoked` when it removed a grant, so
/// that the caches hear of it after the commit.
template <class Body>
caf::expected<token_pair>
token_write(storage::environment& env, caf::error unknown, Body body) {
  caf::expected<token_pair> result{std::move(unknown)};
  bool revoked = false;
  auto err = env.write([&](storage::txn& t) -> caf::error {
    body(t, result, revoked);
    return caf::none;
  });
  if (revoked)
    storage::note_grants_changed();
  if (err)
    return err;
  return result;
}

} // namespace

caf::expected<issued_token>
token_authority_state::issue(const grant_request& req) {
  if (req.scopes == 0 || (req.scopes & ~every_scope) != 0)
    return caf::make_error(ec::invalid_argument,
                           "a grant needs at least one known scope");
  if (req.token_ttl <= 0 || req.token_ttl > opts.max_token_ttl)
    return caf::make_error(ec::invalid_argument,
                           "the token lifetime must be between 1 second and "
                             + std::to_string(opts.max_token_ttl) + " seconds");
  if (req.grant_ttl < 0)
    return caf::make_error(ec::invalid_argument,
                           "the grant lifetime must not be negative");
  if (auto why = req.accounts.problem(); !why.empty())
    return caf::make_error(ec::invalid_argument, why);
  if (req.send.recipients.size() > max_recipient_patterns)
    return too_many_recipients();
  auto now = now_ms() / 1000;
  issued_token result;
  result.token = secret{storage::random_token(32)};
  auto digest = storage::sha256(result.token.reveal());
  auto& g = result.grant;
  g = new_grant(req, req.origin, now);
  result.expires_at = now + req.token_ttl;
  if (req.grant_ttl > 0)
    g.expires_at = now + req.grant_ttl;
  else if (req.origin == grant_origin::admin)
    g.expires_at = result.expires_at; // ends with its only token
  auto err = env->write([&](storage::txn& t) -> caf::error {
    if (!storage::find_user(t, req.user))
      return caf::make_error(ec::no_such_user, "no such user");
    if (auto missing = all_accounts_exist(t, req.user, req.accounts))
      return missing;
    storage::put_grant(t, g);
    storage::access_token_record rec;
    rec.user = g.user;
    rec.grant = g.id;
    rec.issued_at = now;
    rec.expires_at = result.expires_at;
    storage::put_access_token(t, digest, rec);
    return caf::none;
  });
  if (err)
    return err;
  return result;
}

caf::expected<secret>
token_authority_state::issue_code(const code_request& req) {
  if (req.scopes == 0 || (req.scopes & ~every_scope) != 0)
    return caf::make_error(ec::invalid_argument,
                           "an authorization needs at least one known scope");
  if (auto why = req.accounts.problem(); !why.empty())
    return caf::make_error(ec::invalid_argument, why);
  if (req.send.recipients.size() > max_recipient_patterns)
    return too_many_recipients();
  secret code{"pac_" + storage::random_token(32)};
  storage::code_record rec;
  rec.approved = req;
  rec.expires_at = now_ms() / 1000 + seconds(opts.oauth.code);
  auto err = env->write([&](storage::txn& t) -> caf::error {
    if (auto missing = all_accounts_exist(t, req.user, req.accounts))
      return missing;
    // One user's connections are bounded: a refusal, never a revocation.
    if (storage::list_grants(t, req.user).size() >= opts.max_grants_per_user)
      return caf::make_error(
        ec::too_busy, "You have " + std::to_string(opts.max_grants_per_user)
                        + " connected agents already; revoke one on "
                          "the dashboard, then connect again.");
    storage::put_code(t, storage::sha256(code.reveal()), rec);
    return caf::none;
  });
  if (err)
    return err;
  return code;
}

caf::expected<token_pair>
token_authority_state::redeem(const code_exchange& x) {
  auto now = now_ms() / 1000;
  auto digest = storage::sha256(x.code.reveal());
  auto& life = opts.oauth;
  auto body = [&](storage::txn& t, caf::expected<token_pair>& result,
                  bool& revoked) {
    auto c = storage::find_code(t, digest);
    if (!c)
      return;
    auto& approved = c->approved;
    bool valid_request = approved.client_id == x.client_id
                         && verifier_ok(x.verifier.reveal())
                         && pkce_matches(x.verifier, approved.challenge);
    if (c->used) {
      // A replay with otherwise valid parameters revokes what the code
      // issued (OAuth 2.1 §4.1.3); an invalid one does not (§7.5.2), or
      // anyone holding a leaked code could end the grant.
      if (valid_request && !c->grant.value.empty()) {
        revoked = storage::erase_grant(t, approved.user, c->grant);
        c->grant = grant_id{};
        storage::put_code(t, digest, *c);
      }
      result = invalid_grant("The authorization code was already used.");
      return;
    }
    if (auto refusal = refuse_code(t, *c, x, now, valid_request)) {
      result = std::move(refusal);
      return;
    }
    auto out = issue_for_code(t, approved, now, life);
    auto& g = out.grant;
    // Consumed in the same transaction that issued the tokens: of two
    // concurrent redemptions exactly one sees `used == false`.
    c->used = true;
    c->grant = g.id;
    storage::put_code(t, digest, *c);
    storage::touch_client(t, g.client_id, now);
    result = std::move(out);
  };
  return token_write(
    *env, invalid_grant("Unknown or expired authorization code."), body);
}

caf::expected<token_pair>
token_authority_state::refresh(const refresh_request& x) {
  auto now = now_ms() / 1000;
  auto digest = storage::sha256(x.refresh_token.reveal());
  auto& life = opts.oauth;
  auto body = [&](storage::txn& t, caf::expected<token_pair>& result,
                  bool& revoked) {
    auto rec = storage::find_refresh_token(t, digest);
    if (!rec || rec->expires_at <= now)
      return;
    auto g = storage::find_grant(t, rec->user, rec->grant);
    if (!g || (g->expires_at != 0 && g->expires_at <= now)
        || std::none_of(g->accounts.ids.begin(), g->accounts.ids.end(),
                        [&](const account_id& a) {
                          return storage::find_account(t, g->user, a)
                                 .has_value();
                        }))
      return;
    if (g->client_id != x.client_id) {
      result = invalid_grant("The refresh token was issued to another "
                             "client.");
      return;
    }
    if ((x.scopes & ~g->scopes) != 0) {
      result = caf::make_error(ec::invalid_scope,
                               "The requested scope exceeds the grant.");
      return;
    }
    if (!x.resource.empty() && x.resource != g->resource) {
      result = caf::make_error(ec::invalid_target,
                               "The resource does not match the grant.");
      return;
    }
    uint64_t generation = g->refresh_generation;
    int64_t issued_at = now;
    bool reuse = false;
    if (rec->generation + 1 == g->refresh_generation) {
      // The immediately previous token: fine within the grace window
      // after the rotation (parallel refreshes, lost responses), measured
      // from the rotation itself, never from a replay, and only a few
      // times. Older ones never are (django-oauth-toolkit #1617).
      auto newest = newest_tokens(t, *g);
      reuse = newest.tokens == 0
              || newest.rotated_at + seconds(life.refresh_grace) < now;
      if (!reuse && newest.tokens > max_grace_replays) {
        result = invalid_grant("The refresh token was already used; use "
                               "the newest one.");
        return;
      }
      issued_at = newest.rotated_at;
    } else if (rec->generation != g->refresh_generation) {
      reuse = true;
    }
    if (reuse) {
      revoked = storage::erase_grant(t, g->user, g->id);
      result = invalid_grant("The refresh token was already used; the grant "
                             "is revoked.");
      return;
    }
    if (generation == rec->generation) {
      // The current token: rotate.
      generation = g->refresh_generation + 1;
      g->refresh_generation = generation;
      storage::put_grant(t, *g);
    }
    // Within the grace window the client gets a token of the newest
    // generation too, never the old one back (django-oauth-toolkit #702).
    token_pair out;
    out.refresh_token = put_refresh_token(
      t, *g, generation, now, seconds(life.refresh_idle), issued_at);
    out.scopes = x.scopes == 0 ? g->scopes : x.scopes;
    out.access_token = put_access_token(
      t, *g, out.scopes, now, seconds(life.access_token), out.expires_at);
    storage::touch_client(t, g->client_id, now);
    out.grant = std::move(*g);
    result = std::move(out);
  };
  return token_write(*env,
                     invalid_grant("Unknown, expired or revoked refresh "
                                   "token."),
                     body);
}

caf::error token_authority_state::revoke_token(const token_revocation& x) {
  auto digest = storage::sha256(x.token.reveal());
  bool changed = false;
  auto err = env->write([&](storage::txn& t) -> caf::error {
    // A client may only revoke its own tokens (RFC 7009 §2.1); one that
    // does not say who it is is trusted with the token it holds.
    auto ours = [&](const std::optional<grant_info>& g) {
      return x.client_id.empty() || (g && g->client_id == x.client_id);
    };
    if (auto rt = storage::find_refresh_token(t, digest)) {
      auto g = storage::find_grant(t, rt->user, rt->grant);
      if (g && ours(g))
        changed = storage::erase_grant(t, g->user, g->id);
      return caf::none;
    }
    if (auto at = storage::find_access_token(t, digest)) {
      auto g = storage::find_grant(t, at->user, at->grant);
      if (!g || ours(g))
        changed = storage::erase_access_token(t, digest);
    }
    return caf::none;
  });
  if (changed)
    storage::note_grants_changed();
  return err;
}

caf::error token_authority_state::revoke(const user_id& user,
                                         const grant_id& grant) {
  bool existed = false;
  auto err = env->write([&](storage::txn& t) -> caf::error {
    existed = storage::erase_grant(t, user, grant);
    return caf::none;
  });
  if (err)
    return err;
  storage::note_grants_changed();
  if (!existed)
    return caf::make_error(ec::invalid_token, "no such grant");
  return caf::none;
}

caf::error token_authority_state::revoke_account(const user_id& user,
                                                 const grant_id& grant,
                                                 const account_id& account) {
  auto err = env->write([&](storage::txn& t) -> caf::error {
    auto g = storage::find_grant(t, user, grant);
    if (!g)
      return caf::make_error(ec::invalid_token, "no such grant");
    if (!g->accounts.reaches(account))
      return caf::make_error(ec::no_such_account,
                             "this connection does not reach that account");
    // Its last account goes with the whole connection (revoke), never
    // leaving a grant that reaches nothing.
    if (g->accounts.ids.size() == 1)
      return caf::make_error(ec::invalid_argument,
                             "this is the connection's only account: "
                             "disconnect it instead");
    g->accounts.remove(account);
    storage::put_grant(t, *g);
    return caf::none;
  });
  if (!err)
    storage::note_grants_changed();
  return err;
}

caf::error token_authority_state::set_send_rules(const user_id& user,
                                                 const grant_id& grant,
                                                 const send_rules& rules) {
  if (rules.recipients.size() > max_recipient_patterns)
    return too_many_recipients();
  auto err = env->write([&](storage::txn& t) -> caf::error {
    auto g = storage::find_grant(t, user, grant);
    if (!g)
      return caf::make_error(ec::invalid_token, "no such grant");
    g->send = rules;
    storage::put_grant(t, *g);
    return caf::none;
  });
  // The token memo holds the old rules: every entry is re-read.
  if (!err)
    storage::note_grants_changed();
  return err;
}

} // namespace postern
