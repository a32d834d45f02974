// SPDX-License-Identifier: Apache-2.0
#include "postern/http/mcp_sessions.hpp"

#include "postern/storage/crypto.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace postern::http {

namespace {

/// How often a shard is swept for idle sessions while it is in use.
constexpr auto purge_every = std::chrono::seconds(30);

} // namespace

mcp_session_table::mcp_session_table(std::chrono::seconds idle,
                                     size_t per_grant, size_t max_total,
                                     size_t per_user)
  : idle_(idle),
    per_grant_(std::max<size_t>(per_grant, 1)),
    max_total_(std::max<size_t>(max_total, shard_count)),
    per_user_(std::max<size_t>(per_user, 1)) {
  // nop
}

std::string mcp_session_table::user_of(const std::string& grant) {
  return grant.substr(0, grant.find('/'));
}

mcp_session_table::shard&
mcp_session_table::shard_of(const std::string& grant) {
  return shards_[std::hash<std::string>{}(grant) % shard_count];
}

void mcp_session_table::erase_locked(
  shard& s, std::unordered_map<std::string, session>::iterator i) {
  auto g = s.per_grant.find(i->second.grant);
  if (g != s.per_grant.end() && --g->second == 0)
    s.per_grant.erase(g);
  {
    std::lock_guard<std::mutex> guard{users_mtx_};
    auto u = per_user_count_.find(user_of(i->second.grant));
    if (u != per_user_count_.end() && --u->second == 0)
      per_user_count_.erase(u);
  }
  s.sessions.erase(i);
}

void mcp_session_table::purge_locked(shard& s, clock::time_point now) {
  s.last_purge = now;
  for (auto i = s.sessions.begin(); i != s.sessions.end();) {
    auto next = std::next(i);
    if (now - i->second.last_used >= idle_)
      erase_locked(s, i);
    i = next;
  }
}

std::optional<std::string>
mcp_session_table::create(const std::string& grant,
                          std::string protocol_version, std::string client_name,
                          clock::time_point now, refusal* why,
                          bool url_elicitation) {
  auto refuse = [why](refusal r) -> std::optional<std::string> {
    if (why)
      *why = r;
    return std::nullopt;
  };
  if (why)
    *why = refusal::none;
  auto& s = shard_of(grant);
  std::lock_guard<std::mutex> guard{s.mtx};
  if (now - s.last_purge >= purge_every)
    purge_locked(s, now);
  // Each shard holds its part of the global bound.
  if (s.sessions.size() >= max_total_ / shard_count) {
    purge_locked(s, now);
    if (s.sessions.size() >= max_total_ / shard_count)
      return refuse(refusal::table_full);
  }
  if (auto g = s.per_grant.find(grant);
      g != s.per_grant.end() && g->second >= per_grant_) {
    // The grant's least recently used session makes room.
    auto oldest = s.sessions.end();
    for (auto i = s.sessions.begin(); i != s.sessions.end(); ++i)
      if (i->second.grant == grant
          && (oldest == s.sessions.end()
              || i->second.last_used < oldest->second.last_used))
        oldest = i;
    if (oldest != s.sessions.end())
      erase_locked(s, oldest);
  }
  auto user = user_of(grant);
  {
    // The user's quota: counted over all their grants (which live in
    // other shards); their sessions elsewhere are theirs to end, not ours.
    std::lock_guard<std::mutex> users{users_mtx_};
    auto& n = per_user_count_[user];
    if (n >= per_user_) {
      if (n == 0)
        per_user_count_.erase(user);
      return refuse(refusal::user_full);
    }
    ++n;
  }
  auto id = storage::random_token(32);
  session entry;
  entry.grant = grant;
  entry.protocol_version = std::move(protocol_version);
  entry.client_name = std::move(client_name);
  entry.url_elicitation = url_elicitation;
  entry.last_used = now;
  s.sessions.emplace(id, std::move(entry));
  ++s.per_grant[grant];
  return id;
}

std::optional<mcp_session_table::session>
mcp_session_table::touch(const std::string& id, const std::string& grant,
                         clock::time_point now) {
  auto& s = shard_of(grant);
  std::lock_guard<std::mutex> guard{s.mtx};
  auto i = s.sessions.find(id);
  if (i == s.sessions.end() || i->second.grant != grant)
    return std::nullopt;
  if (now - i->second.last_used >= idle_) {
    erase_locked(s, i);
    return std::nullopt;
  }
  i->second.last_used = now;
  return i->second;
}

void mcp_session_table::mark_initialized(const std::string& id,
                                         const std::string& grant) {
  auto& s = shard_of(grant);
  std::lock_guard<std::mutex> guard{s.mtx};
  if (auto i = s.sessions.find(id);
      i != s.sessions.end() && i->second.grant == grant)
    i->second.initialized = true;
}

bool mcp_session_table::remove(const std::string& id,
                               const std::string& grant) {
  auto& s = shard_of(grant);
  std::lock_guard<std::mutex> guard{s.mtx};
  auto i = s.sessions.find(id);
  if (i == s.sessions.end() || i->second.grant != grant)
    return false;
  erase_locked(s, i);
  return true;
}

size_t mcp_session_table::remove_grant(const std::string& grant) {
  auto& s = shard_of(grant);
  std::lock_guard<std::mutex> guard{s.mtx};
  size_t n = 0;
  for (auto i = s.sessions.begin(); i != s.sessions.end();) {
    auto next = std::next(i);
    if (i->second.grant == grant) {
      erase_locked(s, i);
      ++n;
    }
    i = next;
  }
  return n;
}

void mcp_session_table::purge(clock::time_point now) {
  for (auto& s : shards_) {
    std::lock_guard<std::mutex> guard{s.mtx};
    purge_locked(s, now);
  }
}

size_t mcp_session_table::size() const {
  size_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard<std::mutex> guard{s.mtx};
    n += s.sessions.size();
  }
  return n;
}

// -- rate_limiter
// --------------------------------------------------------------

rate_limiter::rate_limiter(unsigned per_minute) : per_minute_(per_minute) {
  // nop
}

rate_limiter::verdict rate_limiter::acquire(const std::string& key,
                                            clock::time_point now) {
  verdict result;
  if (per_minute_ == 0)
    return result;
  auto capacity = static_cast<double>(per_minute_);
  auto per_second = capacity / 60.0;
  std::lock_guard<std::mutex> guard{mtx_};
  // Full buckets carry no information: drop them now and then.
  if (now - last_purge_ >= std::chrono::minutes(1)) {
    last_purge_ = now;
    for (auto i = buckets_.begin(); i != buckets_.end();) {
      auto age = std::chrono::duration<double>(now - i->second.updated).count();
      if (i->second.tokens + age * per_second >= capacity)
        i = buckets_.erase(i);
      else
        ++i;
    }
  }
  auto [i, fresh] = buckets_.try_emplace(key);
  auto& b = i->second;
  if (fresh) {
    b.tokens = capacity;
  } else {
    auto elapsed = std::chrono::duration<double>(now - b.updated).count();
    b.tokens = std::min(capacity, b.tokens + elapsed * per_second);
  }
  b.updated = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    b.refused = false;
    return result;
  }
  result.allowed = false;
  result.retry_after = std::max<int64_t>(
    1, static_cast<int64_t>(std::ceil((1.0 - b.tokens) / per_second)));
  result.first_refusal = !b.refused;
  b.refused = true;
  return result;
}

} // namespace postern::http
