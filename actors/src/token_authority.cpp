// SPDX-License-Identifier: Apache-2.0
#include "postern/actors/token_authority.hpp"

#include "postern/clock.hpp"
#include "postern/error.hpp"
#include "postern/log.hpp"
#include "postern/storage/crypto.hpp"
#include "postern/storage/directory_store.hpp"
#include "postern/storage/grant_store.hpp"
#include "postern/storage/grant_sweep.hpp"
#include "postern/storage/oauth_store.hpp"

#include <caf/result.hpp>

#include <algorithm>
#include <cctype>

namespace postern {

namespace {

caf::error invalid_token(const char* sentence) {
  return caf::make_error(ec::invalid_token, sentence);
}

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
secret put_access_token(storage::txn& t, const grant_info& g,
                        scope_set scopes, int64_t now, int64_t ttl,
                        int64_t& expires_at) {
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
caf::expected<token_pair> token_write(storage::environment& env,
                                      caf::error unknown, Body body) {
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

int64_t token_authority_state::now_ms() const {
  return opts.clock ? opts.clock() : unix_millis();
}

caf::expected<access_grant>
token_authority_state::load(const std::string& digest, int64_t now_s) {
  ++lmdb_reads;
  caf::expected<access_grant> result{
    invalid_token("The access token is unknown or was revoked.")};
  auto err = env->read([&](const storage::txn& t) -> caf::error {
    auto token = storage::find_access_token(t, digest);
    if (!token)
      return caf::none;
    auto grant = storage::find_grant(t, token->user, token->grant);
    if (!grant)
      return caf::none;
    if (!storage::find_account(t, grant->user, grant->account)) {
      result = invalid_token("The email account of this access token was "
                             "deleted.");
      return caf::none;
    }
    access_grant g;
    g.grant = std::move(*grant);
    g.scopes = token->scopes == 0 ? g.grant.scopes
                                  : (token->scopes & g.grant.scopes);
    g.expires_at = token->expires_at;
    if (g.grant.expires_at != 0)
      g.expires_at = std::min(g.expires_at, g.grant.expires_at);
    if (g.expires_at <= now_s) {
      result = invalid_token("The access token expired.");
      return caf::none;
    }
    result = std::move(g);
    return caf::none;
  });
  if (err)
    return err;
  return result;
}

caf::expected<access_grant>
token_authority_state::validate(const std::string& digest,
                                const std::string& resource) {
  if (digest.size() != 32)
    return invalid_token("The access token is unknown or was revoked.");
  auto now = now_ms();
  // Read the epoch before LMDB: a removal committed after this read bumps
  // it again, so the entry is re-checked on the next request.
  auto epoch = storage::grants_epoch();
  const access_grant* found = nullptr;
  auto i = cache.find(digest);
  if (i != cache.end() && i->second.epoch == epoch
      && now - i->second.checked_ms < opts.recheck_interval.count()) {
    i->second.used_ms = now;
    found = &i->second.grant;
  } else {
    auto loaded = load(digest, now / 1000);
    if (!loaded) {
      if (i != cache.end())
        cache.erase(i);
      return loaded.error();
    }
    if (i == cache.end()) {
      trim(now);
      i = cache.emplace(digest, entry{}).first;
    }
    i->second = entry{std::move(*loaded), now, epoch, now};
    found = &i->second.grant;
  }
  if (found->expires_at * 1000 <= now) {
    cache.erase(i);
    return invalid_token("The access token expired.");
  }
  if (!found->grant.resource.empty() && found->grant.resource != resource)
    return invalid_token("The access token was issued for another resource.");
  note_use(found->grant, now / 1000);
  return *found;
}

void token_authority_state::note_use(const grant_info& g, int64_t now_s) {
  auto& mark = uses[g.id.value];
  bool due_before = mark.seen > mark.stored
                    && mark.seen - mark.stored >= opts.last_use_interval.count();
  mark.user = g.user;
  mark.seen = now_s;
  if (!due_before && now_s - mark.stored >= opts.last_use_interval.count())
    due_uses.push_back(g.id.value);
}

void token_authority_state::flush_uses() {
  store_uses(due_uses);
  due_uses.clear();
}

void token_authority_state::store_uses(const std::vector<std::string>& ids) {
  if (ids.empty())
    return;
  auto err = env->write([&](storage::txn& t) -> caf::error {
    for (auto& id : ids) {
      auto i = uses.find(id);
      if (i == uses.end())
        continue;
      auto g = storage::find_grant(t, i->second.user, grant_id{id});
      if (g && g->last_used_at < i->second.seen) {
        g->last_used_at = i->second.seen;
        storage::put_grant(t, *g);
      }
    }
    return caf::none;
  });
  if (err)
    POSTERN_WARN("token-authority: cannot record the last use of grants: {}",
                 render(err));
  // Also after a failure: the next try is a minute away, not a request.
  for (auto& id : ids)
    if (auto i = uses.find(id); i != uses.end())
      i->second.stored = i->second.seen;
}

caf::expected<oauth_client>
token_authority_state::register_client(oauth_client c) {
  auto now = now_ms() / 1000;
  c.id = "pc_" + storage::random_token(18);
  c.created_at = now;
  c.used_at = 0;
  // A full table is swept first, but at most once a minute: a flood of
  // registrations must not turn into a flood of table scans.
  bool may_sweep = last_client_sweep + 60 <= now;
  bool full = false;
  auto err = env->write([&](storage::txn& t) -> caf::error {
    auto count = t.count(storage::table::clients);
    if (count >= opts.max_clients && may_sweep) {
      last_client_sweep = now;
      count = storage::sweep_clients(t, now, seconds(opts.client_unused),
                                     seconds(opts.client_idle));
    }
    full = count >= opts.max_clients;
    if (!full)
      storage::put_client(t, c);
    return caf::none;
  });
  if (err)
    return err;
  if (full)
    return caf::make_error(ec::too_busy,
                           "Too many registered clients; try later.");
  return c;
}

caf::expected<oauth_client>
token_authority_state::find_client(const std::string& id) {
  std::optional<oauth_client> found;
  auto err = env->read([&](const storage::txn& t) -> caf::error {
    found = storage::find_client(t, id);
    return caf::none;
  });
  if (err)
    return err;
  if (!found)
    return caf::make_error(ec::invalid_client, "Unknown client.");
  return std::move(*found);
}

caf::expected<issued_token>
token_authority_state::issue(const grant_request& req) {
  if (req.scopes == 0 || (req.scopes & ~every_scope) != 0)
    return caf::make_error(ec::invalid_argument,
                           "a grant needs at least one known scope");
  if (req.token_ttl <= 0 || req.token_ttl > opts.max_token_ttl)
    return caf::make_error(ec::invalid_argument,
                           "the token lifetime must be between 1 second and "
                             + std::to_string(opts.max_token_ttl)
                             + " seconds");
  if (req.grant_ttl < 0)
    return caf::make_error(ec::invalid_argument,
                           "the grant lifetime must not be negative");
  auto now = now_ms() / 1000;
  issued_token result;
  result.token = secret{storage::random_token(32)};
  auto digest = storage::sha256(result.token.reveal());
  auto& g = result.grant;
  g.id = storage::new_grant_id();
  g.user = req.user;
  g.account = req.account;
  g.client_id = req.client_id;
  g.client_name = req.client_name;
  g.origin = req.origin;
  g.scopes = req.scopes;
  g.resource = req.resource;
  g.created_at = now;
  result.expires_at = now + req.token_ttl;
  if (req.grant_ttl > 0)
    g.expires_at = now + req.grant_ttl;
  else if (req.origin == grant_origin::admin)
    g.expires_at = result.expires_at; // ends with its only token
  auto err = env->write([&](storage::txn& t) -> caf::error {
    if (!storage::find_user(t, req.user))
      return caf::make_error(ec::no_such_user, "no such user");
    if (!storage::find_account(t, req.user, req.account))
      return caf::make_error(ec::no_such_account,
                             "no such email account for this user");
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
  secret code{"pac_" + storage::random_token(32)};
  storage::code_record rec;
  rec.approved = req;
  rec.expires_at = now_ms() / 1000 + seconds(opts.oauth.code);
  auto err = env->write([&](storage::txn& t) -> caf::error {
    if (!storage::find_account(t, req.user, req.account))
      return caf::make_error(ec::no_such_account,
                             "no such email account for this user");
    // One user's connections are bounded: a refusal, never a revocation.
    if (storage::list_grants(t, req.user).size() >= opts.max_grants_per_user)
      return caf::make_error(ec::too_busy,
                             "You have "
                               + std::to_string(opts.max_grants_per_user)
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
    if (c->expires_at < now) {
      result = invalid_grant("The authorization code has expired.");
      return;
    }
    if (approved.client_id != x.client_id) {
      result = invalid_grant("The code was issued to another client.");
      return;
    }
    if (x.has_redirect_uri && x.redirect_uri != approved.redirect_uri) {
      result = invalid_grant("redirect_uri does not match.");
      return;
    }
    if (!verifier_ok(x.verifier.reveal())) {
      result = caf::make_error(ec::invalid_request,
                               "code_verifier must have 43 to 128 unreserved "
                               "characters.");
      return;
    }
    if (!valid_request) {
      result = invalid_grant("PKCE verification failed.");
      return;
    }
    if (!x.resource.empty() && x.resource != approved.resource) {
      result = caf::make_error(ec::invalid_target,
                               "The resource does not match the "
                               "authorization.");
      return;
    }
    if (!storage::find_user(t, approved.user)
        || !storage::find_account(t, approved.user, approved.account)) {
      result = invalid_grant("The account of this authorization is gone.");
      return;
    }
    token_pair out;
    auto& g = out.grant;
    g.id = storage::new_grant_id();
    g.user = approved.user;
    g.account = approved.account;
    g.client_id = approved.client_id;
    g.client_name = approved.client_name;
    g.origin = grant_origin::oauth;
    g.scopes = approved.scopes;
    g.resource = approved.resource;
    g.created_at = now;
    g.expires_at = now + seconds(life.grant_cap);
    storage::put_grant(t, g);
    out.scopes = g.scopes;
    out.access_token = put_access_token(t, g, g.scopes, now,
                                        seconds(life.access_token),
                                        out.expires_at);
    out.refresh_token = put_refresh_token(t, g, 0, now,
                                          seconds(life.refresh_idle), now);
    // Consumed in the same transaction that issued the tokens: of two
    // concurrent redemptions exactly one sees `used == false`.
    c->used = true;
    c->grant = g.id;
    storage::put_code(t, digest, *c);
    storage::touch_client(t, g.client_id, now);
    result = std::move(out);
  };
  return token_write(*env,
                     invalid_grant("Unknown or expired authorization code."),
                     body);
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
        || !storage::find_account(t, g->user, g->account))
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
    out.refresh_token = put_refresh_token(t, *g, generation, now,
                                          seconds(life.refresh_idle), issued_at);
    out.scopes = x.scopes == 0 ? g->scopes : x.scopes;
    out.access_token = put_access_token(t, *g, out.scopes, now,
                                        seconds(life.access_token),
                                        out.expires_at);
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

caf::expected<std::vector<grant_info>>
token_authority_state::grants_of(const user_id& user) {
  std::vector<grant_info> result;
  auto err = env->read([&](const storage::txn& t) -> caf::error {
    result = storage::list_grants(t, user);
    return caf::none;
  });
  if (err)
    return err;
  // Uses newer than what LMDB holds (written at most once a minute).
  for (auto& g : result)
    if (auto i = uses.find(g.id.value); i != uses.end())
      g.last_used_at = std::max(g.last_used_at, i->second.seen);
  return result;
}

std::vector<std::string>
token_authority_state::client_names(const std::vector<std::string>& ids) {
  std::vector<std::string> result(ids.size());
  auto err = env->read([&](const storage::txn& t) -> caf::error {
    for (size_t i = 0; i < ids.size(); ++i)
      if (auto c = storage::find_client(t, ids[i]))
        result[i] = c->name;
    return caf::none;
  });
  if (err)
    POSTERN_WARN("token-authority: cannot read clients: {}", render(err));
  return result;
}

void token_authority_state::trim(int64_t now) {
  if (cache.size() < opts.max_cached)
    return;
  // First the expired and the idle entries; if that is not enough, forget
  // everything (the next requests re-read LMDB, which is cheap).
  auto idle_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   opts.cache_idle)
                   .count();
  for (auto i = cache.begin(); i != cache.end();) {
    if (i->second.grant.expires_at * 1000 <= now
        || now - i->second.used_ms > idle_ms)
      i = cache.erase(i);
    else
      ++i;
  }
  if (cache.size() >= opts.max_cached)
    cache.clear();
}

void token_authority_state::sweep() {
  auto now = now_ms();
  storage::sweep_counts counts;
  size_t codes = 0;
  size_t clients = 0;
  // Grants and tokens in bounded steps, one short write transaction each,
  // so that a large table never holds up every writer at once.
  storage::sweep_cursor cursor;
  caf::error err;
  while (!err && !cursor.done()) {
    // The body may run again (a full map grows and retries): work on
    // copies and keep them only once committed.
    storage::sweep_cursor next;
    storage::sweep_counts step;
    err = env->write([&](storage::txn& t) -> caf::error {
      next = cursor;
      step = {};
      storage::sweep_grants_step(t, now / 1000, next, opts.sweep_batch, step);
      return caf::none;
    });
    if (!err) {
      cursor = next;
      counts.access_tokens += step.access_tokens;
      counts.refresh_tokens += step.refresh_tokens;
      counts.grants += step.grants;
    }
  }
  if (!err)
    err = env->write([&](storage::txn& t) -> caf::error {
    codes = storage::sweep_codes(t, now / 1000,
                                 seconds(opts.oauth.used_code_memory));
    clients = storage::sweep_clients(t, now / 1000, seconds(opts.client_unused),
                                     seconds(opts.client_idle));
    return caf::none;
  });
  if (counts.access_tokens + counts.refresh_tokens + counts.grants > 0)
    storage::note_grants_changed();
  if (err) {
    POSTERN_WARN("token-authority: sweep failed: {}", render(err));
  } else if (counts.access_tokens + counts.refresh_tokens + counts.grants > 0) {
    POSTERN_DEBUG("token-authority: swept {} access token(s), {} refresh "
                  "token(s), {} grant(s)",
                  counts.access_tokens, counts.refresh_tokens, counts.grants);
  }
  if (codes > 0)
    POSTERN_DEBUG("token-authority: swept {} authorization code(s); {} "
                  "client(s) left",
                  codes, clients);
  auto idle_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   opts.cache_idle)
                   .count();
  for (auto i = cache.begin(); i != cache.end();) {
    if (i->second.grant.expires_at * 1000 <= now
        || now - i->second.used_ms > idle_ms)
      i = cache.erase(i);
    else
      ++i;
  }
  // Write the uses still held only in memory, forget idle ones.
  std::vector<std::string> unstored;
  for (auto& [id, mark] : uses)
    if (mark.seen > mark.stored)
      unstored.push_back(id);
  store_uses(unstored);
  due_uses.clear();
  for (auto i = uses.begin(); i != uses.end();) {
    if (now / 1000 - i->second.seen > idle_ms / 1000)
      i = uses.erase(i);
    else
      ++i;
  }
}

token_authority_actor::behavior_type
token_authority(token_authority_actor::stateful_pointer<token_authority_state> self,
                std::shared_ptr<storage::environment> env,
                token_authority_options opts) {
  self->state.env = std::move(env);
  self->state.opts = std::move(opts);
  if (self->state.opts.sweep_interval.count() > 0)
    self->delayed_send(self, self->state.opts.sweep_interval, atom::tick_v);
  return {
    [=](atom::validate, const std::string& digest,
        const std::string& resource) -> caf::result<access_grant> {
      auto result = self->state.validate(digest, resource);
      // Last uses are written after the requests already queued.
      if (!self->state.due_uses.empty() && !self->state.flush_sent) {
        self->state.flush_sent = true;
        self->send(self, atom::flush_v);
      }
      return result;
    },
    [=](atom::flush) {
      self->state.flush_sent = false;
      self->state.flush_uses();
    },
    [=](atom::put, oauth_client& c) -> caf::result<oauth_client> {
      return self->state.register_client(std::move(c));
    },
    [=](atom::get, const std::string& id) -> caf::result<oauth_client> {
      return self->state.find_client(id);
    },
    [=](atom::issue, const grant_request& req) -> caf::result<issued_token> {
      return self->state.issue(req);
    },
    [=](atom::issue, const code_request& req) -> caf::result<secret> {
      return self->state.issue_code(req);
    },
    [=](atom::redeem, const code_exchange& x) -> caf::result<token_pair> {
      return self->state.redeem(x);
    },
    [=](atom::refresh, const refresh_request& x) -> caf::result<token_pair> {
      return self->state.refresh(x);
    },
    [=](atom::revoke, const token_revocation& x) -> caf::result<atom::ok> {
      if (auto err = self->state.revoke_token(x))
        return err;
      return atom::ok_v;
    },
    [=](atom::revoke, const user_id& user,
        const grant_id& grant) -> caf::result<atom::ok> {
      if (auto err = self->state.revoke(user, grant))
        return err;
      return atom::ok_v;
    },
    [=](atom::list,
        const user_id& user) -> caf::result<std::vector<grant_info>> {
      return self->state.grants_of(user);
    },
    [=](atom::list, const std::vector<std::string>& client_ids)
      -> std::vector<std::string> {
      return self->state.client_names(client_ids);
    },
    [=](atom::tick) {
      self->state.sweep();
      if (self->state.opts.sweep_interval.count() > 0)
        self->delayed_send(self, self->state.opts.sweep_interval,
                           atom::tick_v);
    },
  };
}

token_authority_actor
spawn_token_authority(caf::actor_system& sys,
                      std::shared_ptr<storage::environment> env,
                      token_authority_options opts) {
  return sys.spawn(token_authority, std::move(env), std::move(opts));
}

} // namespace postern
