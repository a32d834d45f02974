// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/grant.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace postern::http {

/// The TOKEN AUTHORITY's recent `validate` answers, remembered on the HTTP
/// side so that the common request -- a known, valid token -- is answered
/// on the connection's own thread without an actor round trip (two thread
/// wake-ups per request were most of the cost of a cheap MCP method).
///
/// An answer is trusted only while all of these hold, so a revocation is
/// still effective on the very next request:
/// - the grants epoch (bumped by every removal of a grant or token in this
///   process) is the one read *before* the TOKEN AUTHORITY was asked;
/// - it is younger than `recheck` (another process, e.g. `postern admin
///   delete-user`, cannot bump our epoch; the TOKEN AUTHORITY has the same
///   bound for its own cache);
/// - the token has not expired.
/// Keys are SHA-256 digests of tokens, never tokens. Thread-safe; sharded
/// so that connections on different threads rarely meet on a lock.
class token_memo {
public:
  /// @param capacity Bound for remembered tokens (a shard that fills up is
  ///        cleared: the next request of each token asks again).
  token_memo(std::chrono::milliseconds recheck, size_t capacity);

  /// The remembered grant of `digest`, if it may still be trusted.
  std::optional<access_grant> find(const std::string& digest) const;

  /// Remembers a successful validation; `epoch` is the grants epoch read
  /// before the question was sent.
  void remember(const std::string& digest, const access_grant& grant,
                uint64_t epoch);

  /// Forgets everything (e.g. in tests).
  void clear();

private:
  struct entry {
    access_grant grant;
    uint64_t epoch = 0;
    std::chrono::steady_clock::time_point checked;
  };

  struct shard {
    mutable std::mutex mtx;
    std::unordered_map<std::string, entry> entries;
  };

  static constexpr size_t shard_count = 16;

  shard& shard_of(const std::string& digest) const;

  std::chrono::milliseconds recheck_;
  size_t per_shard_;
  mutable std::array<shard, shard_count> shards_;
};

} // namespace postern::http
