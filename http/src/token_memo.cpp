// SPDX-License-Identifier: Apache-2.0
#include "postern/http/token_memo.hpp"

#include "postern/clock.hpp"
#include "postern/storage/grant_store.hpp"

#include <algorithm>

namespace postern::http {

token_memo::token_memo(std::chrono::milliseconds recheck, size_t capacity)
  : recheck_(recheck), per_shard_(std::max<size_t>(1, capacity / shard_count)) {
  // nop
}

token_memo::shard& token_memo::shard_of(const std::string& digest) const {
  // Digests are uniformly random: their first byte picks the shard.
  auto first = digest.empty() ? 0u : static_cast<unsigned char>(digest[0]);
  return shards_[first % shard_count];
}

std::optional<access_grant> token_memo::find(const std::string& digest) const {
  if (recheck_.count() <= 0)
    return std::nullopt;
  auto epoch = storage::grants_epoch();
  auto now = steady_now();
  auto& s = shard_of(digest);
  std::lock_guard<std::mutex> guard{s.mtx};
  auto i = s.entries.find(digest);
  if (i == s.entries.end())
    return std::nullopt;
  const auto& e = i->second;
  if (e.epoch != epoch || now - e.checked >= recheck_
      || e.grant.expires_at <= unix_seconds()) {
    s.entries.erase(i);
    return std::nullopt;
  }
  return e.grant;
}

void token_memo::remember(const std::string& digest, const access_grant& grant,
                          uint64_t epoch) {
  if (recheck_.count() <= 0)
    return;
  auto& s = shard_of(digest);
  std::lock_guard<std::mutex> guard{s.mtx};
  if (s.entries.size() >= per_shard_ && s.entries.count(digest) == 0)
    s.entries.clear();
  s.entries.insert_or_assign(digest, entry{grant, epoch, steady_now()});
}

void token_memo::clear() {
  for (auto& s : shards_) {
    std::lock_guard<std::mutex> guard{s.mtx};
    s.entries.clear();
  }
}

} // namespace postern::http
