// SPDX-License-Identifier: Apache-2.0
#include "postern/http/client_metadata.hpp"

#include "postern/clock.hpp"
#include "postern/error.hpp"
#include "postern/log.hpp"
#include "postern/oauth/uri.hpp"

#include <algorithm>
#include <map>
#include <mutex>

namespace postern::http {

namespace {

using clock_type = std::chrono::steady_clock;

caf::error refused(std::string sentence) {
  return caf::make_error(ec::invalid_argument, std::move(sentence));
}

} // namespace

struct client_metadata_fetcher::impl {
  struct entry {
    oauth::client_metadata doc;
    clock_type::time_point expires;
  };

  options opts;

  mutable std::mutex mtx;
  std::map<std::string, entry> cache;
  /// URL -> who waits for its fetch in flight.
  std::map<std::string, std::vector<callback>> waiting;
  /// Fetches in flight per requester and per host.
  std::map<std::string, size_t> by_requester;
  std::map<std::string, size_t> by_host;
  size_t fetched = 0;

  static void release(std::map<std::string, size_t>& counts,
                      const std::string& key) {
    auto i = counts.find(key);
    if (i != counts.end() && --i->second == 0)
      counts.erase(i);
  }

  void remember(const oauth::client_metadata& doc, std::chrono::seconds ttl) {
    if (ttl.count() <= 0)
      return;
    std::lock_guard guard{mtx};
    auto now = steady_now();
    if (cache.size() >= opts.max_cached && cache.count(doc.client_id) == 0) {
      // Expired entries first, then the one closest to expiry.
      for (auto i = cache.begin(); i != cache.end();)
        i = i->second.expires <= now ? cache.erase(i) : std::next(i);
      if (cache.size() >= opts.max_cached)
        cache.erase(
          std::min_element(cache.begin(), cache.end(), [](auto& a, auto& b) {
            return a.second.expires < b.second.expires;
          }));
    }
    cache[doc.client_id] = entry{doc, now + ttl};
  }

  /// The document from what arrived: checked, and cached when it may be.
  caf::expected<oauth::client_metadata>
  read(const std::string& url, caf::expected<fetched_document> got) {
    {
      std::lock_guard guard{mtx};
      ++fetched;
    }
    auto doc = got ? oauth::parse_client_metadata(url, got->body)
                   : caf::expected<oauth::client_metadata>{got.error()};
    if (!doc) {
      POSTERN_INFO("oauth: client metadata document {} refused: {}", url,
                   describe(doc.error()));
      return doc;
    }
    remember(*doc, oauth::cache_lifetime(got->cache_control,
                                         opts.default_cache,
                                         opts.longest_cache));
    return doc;
  }
};

client_metadata_fetcher::client_metadata_fetcher(
  options opts, std::shared_ptr<guarded_fetcher> net)
  : impl_(std::make_shared<impl>()) {
  impl_->opts = std::move(opts);
  // Held here, not in the impl that fetches in flight share: the last
  // owner of the guarded fetcher must not be its own thread.
  net_ = std::move(net);
}

client_metadata_fetcher::~client_metadata_fetcher() = default;

std::optional<oauth::client_metadata>
client_metadata_fetcher::cached(const std::string& url) {
  std::lock_guard guard{impl_->mtx};
  auto i = impl_->cache.find(url);
  if (i == impl_->cache.end())
    return std::nullopt;
  if (i->second.expires <= steady_now()) {
    impl_->cache.erase(i);
    return std::nullopt;
  }
  return i->second.doc;
}

void client_metadata_fetcher::get(const std::string& url,
                                  const std::string& requester, callback done) {
  if (auto doc = cached(url)) {
    done(std::move(*doc));
    return;
  }
  if (auto why = oauth::check_metadata_url(url); !why.empty()) {
    done(refused(std::move(why)));
    return;
  }
  auto host = oauth::split_uri(url)->host;
  {
    std::unique_lock guard{impl_->mtx};
    // One fetch per URL at a time: later askers wait for the same answer.
    if (auto i = impl_->waiting.find(url); i != impl_->waiting.end()) {
      i->second.push_back(std::move(done));
      return;
    }
    auto busy = [&](std::string sentence) {
      guard.unlock();
      done(caf::make_error(ec::too_busy, std::move(sentence)));
    };
    if (impl_->waiting.size() >= impl_->opts.max_in_flight) {
      busy("Too many client metadata documents are being fetched; try "
           "again.");
      return;
    }
    if (impl_->by_requester[requester] >= impl_->opts.max_per_requester) {
      busy("Too many client metadata documents are being fetched for you "
           "at once (at most "
           + std::to_string(impl_->opts.max_per_requester)
           + "); try again when they have arrived.");
      return;
    }
    if (impl_->by_host[host] >= impl_->opts.max_per_host) {
      busy("Too many client metadata documents are being fetched from " + host
           + " at once; try again.");
      return;
    }
    ++impl_->by_requester[requester];
    ++impl_->by_host[host];
    impl_->waiting[url].push_back(std::move(done));
  }
  auto answer = [owner = impl_, url, requester,
                 host](caf::expected<oauth::client_metadata> r) {
    std::vector<callback> waiters;
    {
      std::lock_guard guard{owner->mtx};
      waiters = std::move(owner->waiting[url]);
      owner->waiting.erase(url);
      impl::release(owner->by_requester, requester);
      impl::release(owner->by_host, host);
    }
    for (auto& w : waiters)
      w(r);
  };
  fetch_request req;
  req.url = url;
  req.url_noun = "the client_id URL";
  req.document_noun = "the client metadata document";
  req.accept = "application/json";
  req.max_bytes = impl_->opts.max_bytes;
  req.timeout = impl_->opts.timeout;
  net_->get(std::move(req),
                  [owner = impl_, url, answer](caf::expected<fetched_document> got) {
                    answer(owner->read(url, std::move(got)));
                  });
}

size_t client_metadata_fetcher::fetches() const {
  std::lock_guard guard{impl_->mtx};
  return impl_->fetched;
}

} // namespace postern::http
