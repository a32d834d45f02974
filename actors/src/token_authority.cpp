// SPDX-License-Identifier: Apache-2.0
// The TOKEN AUTHORITY: checking access tokens (with a short cache), OAuth
// clients, the sweep of expired rows and the behavior. The grant lifecycle
// (issue, redeem, refresh, revoke) is in token_grants.cpp.
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

int64_t seconds(std::chrono::seconds x) {
  return static_cast<int64_t>(x.count());
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
    access_grant g;
    for (auto& id : grant->accounts.ids)
      if (auto settings = storage::find_account(t, grant->user, id))
        g.accounts.push_back(grant_account_of(*settings));
    if (g.accounts.empty()) {
      result = invalid_token("The email account of this access token was "
                             "deleted.");
      return caf::none;
    }
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
                    && mark.seen - mark.stored
                         >= opts.last_use_interval.count();
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

void token_authority_state::forget_stale(int64_t now) {
  auto idle_ms
    = std::chrono::duration_cast<std::chrono::milliseconds>(opts.cache_idle)
        .count();
  for (auto i = cache.begin(); i != cache.end();) {
    if (i->second.grant.expires_at * 1000 <= now
        || now - i->second.used_ms > idle_ms)
      i = cache.erase(i);
    else
      ++i;
  }
}

void token_authority_state::trim(int64_t now) {
  if (cache.size() < opts.max_cached)
    return;
  // First the expired and the idle entries; if that is not enough, forget
  // everything (the next requests re-read LMDB, which is cheap).
  forget_stale(now);
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
      clients = storage::sweep_clients(
        t, now / 1000, seconds(opts.client_unused), seconds(opts.client_idle));
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
  forget_stale(now);
  // Write the uses still held only in memory, forget idle ones.
  std::vector<std::string> unstored;
  for (auto& [id, mark] : uses)
    if (mark.seen > mark.stored)
      unstored.push_back(id);
  store_uses(unstored);
  due_uses.clear();
  auto idle_s = opts.cache_idle.count();
  for (auto i = uses.begin(); i != uses.end();) {
    if (now / 1000 - i->second.seen > idle_s)
      i = uses.erase(i);
    else
      ++i;
  }
}

token_authority_actor::behavior_type token_authority(
  token_authority_actor::stateful_pointer<token_authority_state> self,
  std::shared_ptr<storage::environment> env, token_authority_options opts) {
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
    [=](atom::revoke, const user_id& user, const grant_id& grant,
        const account_id& account) -> caf::result<atom::ok> {
      if (auto err = self->state.revoke_account(user, grant, account))
        return err;
      return atom::ok_v;
    },
    [=](atom::put, const user_id& user, const grant_id& grant,
        const send_rules& rules) -> caf::result<atom::ok> {
      if (auto err = self->state.set_send_rules(user, grant, rules))
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
        self->delayed_send(self, self->state.opts.sweep_interval, atom::tick_v);
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
