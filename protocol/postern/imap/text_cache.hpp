// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace postern::imap {

/// The readable text of a message, as decoded from its parts.
struct decoded_text {
  std::string text;
  bool html = false;
  bool incomplete = false;
};

/// A bounded, thread-safe LRU cache of decoded message texts, shared by all
/// IMAP connections of the process. The content of a message never changes
/// for a given account + mailbox + UIDVALIDITY + UID, so a hit saves the
/// transfer and decoding of its text parts; flags and envelopes are always
/// fetched fresh.
class text_cache {
public:
  /// @param max_bytes Bound for the texts held (0 disables the cache).
  explicit text_cache(size_t max_bytes) : max_bytes_(max_bytes) {
    // nop
  }

  /// The key of one message of one account.
  static std::string key(const std::string& account, const std::string& mailbox,
                         uint32_t uid_validity, uint32_t uid);

  std::optional<decoded_text> get(const std::string& key);

  void put(const std::string& key, decoded_text value);

  uint64_t hits() const noexcept {
    return hits_.load();
  }

  uint64_t misses() const noexcept {
    return misses_.load();
  }

  size_t bytes() const;

private:
  using entry = std::pair<std::string, decoded_text>;

  void evict_locked();

  size_t max_bytes_;
  mutable std::mutex mtx_;
  std::list<entry> order_; // most recently used first
  std::unordered_map<std::string, std::list<entry>::iterator> index_;
  size_t bytes_ = 0;
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

} // namespace postern::imap
