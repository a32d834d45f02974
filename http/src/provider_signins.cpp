// SPDX-License-Identifier: Apache-2.0
#include "postern/http/provider_signins.hpp"

#include "postern/clock.hpp"
#include "postern/error.hpp"
#include "postern/storage/crypto.hpp"

#include <algorithm>
#include <utility>

namespace postern::http {

provider_signins::provider_signins() : provider_signins(options{}) {
}

provider_signins::provider_signins(options opts, clock now)
  : opts_(opts), now_(now ? std::move(now) : clock{[] { return steady_millis(); }}) {
}

void provider_signins::sweep(int64_t now) {
  for (auto i = by_hash_.begin(); i != by_hash_.end();)
    i = i->second.expires_ms <= now ? by_hash_.erase(i) : std::next(i);
}

caf::expected<std::string> provider_signins::begin(provider_signin signin) {
  auto now = now_();
  std::lock_guard<std::mutex> guard{mtx_};
  sweep(now);
  // A person's own sign-ins: the newest per_user stay.
  std::vector<std::map<std::string, entry>::iterator> mine;
  for (auto i = by_hash_.begin(); i != by_hash_.end(); ++i)
    if (i->second.signin.user == signin.user)
      mine.push_back(i);
  if (mine.size() >= opts_.per_user) {
    auto oldest = std::min_element(mine.begin(), mine.end(),
                                   [](const auto& x, const auto& y) {
                                     return x->second.started_ms
                                            < y->second.started_ms;
                                   });
    by_hash_.erase(*oldest);
  } else if (by_hash_.size() >= opts_.max_total) {
    return caf::make_error(ec::too_busy,
                           "too many sign-ins at mail providers are in "
                           "progress on this server; try again in a few "
                           "minutes");
  }
  auto state = storage::random_token(32);
  auto lifetime_ms
    = std::chrono::duration_cast<std::chrono::milliseconds>(opts_.lifetime)
        .count();
  by_hash_[storage::sha256(state)]
    = entry{std::move(signin), now + lifetime_ms, now};
  return state;
}

std::optional<provider_signin>
provider_signins::finish(std::string_view state) {
  if (state.empty() || state.size() > 256)
    return std::nullopt;
  auto now = now_();
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = by_hash_.find(storage::sha256(state));
  if (i == by_hash_.end())
    return std::nullopt;
  auto e = std::move(i->second);
  by_hash_.erase(i);
  if (e.expires_ms <= now)
    return std::nullopt;
  return std::move(e.signin);
}

size_t provider_signins::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return by_hash_.size();
}

std::string pkce_challenge(const secret& verifier) {
  return storage::base64url(storage::sha256(verifier.reveal()));
}

} // namespace postern::http
