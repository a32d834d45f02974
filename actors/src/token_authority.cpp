// SPDX-License-Identifier: Apache-2.0
#include "postern/actors/token_authority.hpp"

#include "postern/clock.hpp"
#include "postern/error.hpp"
#include "postern/log.hpp"
#include "postern/storage/crypto.hpp"
#include "postern/storage/directory_store.hpp"
#include "postern/storage/grant_store.hpp"

#include <caf/result.hpp>

#include <algorithm>

namespace postern {

namespace {

caf::error invalid_token(const char* sentence) {
  return caf::make_error(ec::invalid_token, sentence);
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
  return *found;
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
  auto err = env->write([&](storage::txn& t) -> caf::error {
    counts = storage::sweep_grants(t, now / 1000);
    return caf::none;
  });
  if (err) {
    POSTERN_WARN("token-authority: sweep failed: {}", render(err));
  } else if (counts.access_tokens + counts.refresh_tokens + counts.grants > 0) {
    storage::note_grants_changed();
    POSTERN_DEBUG("token-authority: swept {} access token(s), {} refresh "
                  "token(s), {} grant(s)",
                  counts.access_tokens, counts.refresh_tokens, counts.grants);
  }
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
      return self->state.validate(digest, resource);
    },
    [=](atom::issue, const grant_request& req) -> caf::result<issued_token> {
      return self->state.issue(req);
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
