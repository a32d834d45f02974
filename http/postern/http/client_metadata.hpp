// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/http/guarded_fetch.hpp"
#include "postern/oauth/client_metadata.hpp"

#include <caf/expected.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::http {

/// Client metadata documents (URL client ids), fetched through the
/// guarded_fetcher (verified HTTPS, limits, no internal addresses, no
/// redirects) and cached per their Cache-Control in a bounded cache, with
/// quotas so that no party holds every fetch.
class client_metadata_fetcher {
public:
  struct options {
    /// Largest document accepted.
    size_t max_bytes = 64 * 1024;
    /// Whole fetch: resolve, connect, TLS, request, response.
    std::chrono::milliseconds timeout = std::chrono::seconds(5);
    /// Cache lifetime without Cache-Control, and the longest one.
    std::chrono::seconds default_cache = std::chrono::minutes(5);
    std::chrono::seconds longest_cache = std::chrono::hours(24);
    /// Documents kept at most.
    size_t max_cached = 1000;
    /// Fetches at the same time at most (one per URL; askers for a URL
    /// being fetched wait for that fetch); more fail at once.
    size_t max_in_flight = 32;
    /// Fetches one requester (client address bucket) may start at once,
    /// and fetches from one host at once: one party cannot hold every
    /// slot, nor can one slow host.
    size_t max_per_requester = 4;
    size_t max_per_host = 8;
  };

  using callback = std::function<void(caf::expected<oauth::client_metadata>)>;

  client_metadata_fetcher(options opts, std::shared_ptr<guarded_fetcher> net);
  ~client_metadata_fetcher();

  client_metadata_fetcher(const client_metadata_fetcher&) = delete;
  client_metadata_fetcher& operator=(const client_metadata_fetcher&) = delete;

  /// Calls `done` with the document of `url` (from the cache or fetched),
  /// or with an error whose context is a sentence for the person or the
  /// client. `done` runs on the fetcher's thread or the caller's. A new
  /// fetch counts against `requester` (who asked; waiting for a fetch in
  /// flight is free) and the URL's host; over either quota, or with every
  /// slot taken, it fails at once with ec::too_busy.
  void get(const std::string& url, const std::string& requester, callback done);

  /// The document of `url` if it is cached and fresh.
  std::optional<oauth::client_metadata> cached(const std::string& url);

  /// Fetches done so far (tests check the cache with it).
  size_t fetches() const;

  /// Internal state, shared with fetches in flight.
  struct impl;

private:
  std::shared_ptr<impl> impl_;
  std::shared_ptr<guarded_fetcher> net_;
};

} // namespace postern::http
