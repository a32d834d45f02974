// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/imap/types.hpp"
#include "postern/mime/structure.hpp"

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace postern::imap {

/// What never changes about a message for one UIDVALIDITY: its envelope,
/// size, dates and MIME structure. (Flags do change: `summary.flags` is
/// always empty here and fetched fresh.)
struct message_facts {
  message_summary summary;
  std::vector<address> reply_to;
  std::vector<address> bcc;
  std::vector<std::string> references;
  mime::part structure;
};

/// The readable text of a message, as decoded from its parts.
struct decoded_text {
  std::string text;
  bool html = false;
  bool incomplete = false;
};

/// A bounded, thread-safe LRU cache of what is immutable about messages,
/// shared by all IMAP connections of the process: the facts (envelope and
/// structure) and the decoded text. Both never change for a given account
/// + mailbox + UIDVALIDITY + UID (RFC 9051 §2.3.1.1), so a hit saves
/// fetching and parsing them; a listing then asks the server only for UIDs
/// and flags, which keeps flags and deletions always current.
class message_cache {
public:
  /// @param max_bytes Bound for what is held (0 disables the cache).
  explicit message_cache(size_t max_bytes) : max_bytes_(max_bytes) {
    // nop
  }

  /// The key of one message of one account.
  static std::string key(const std::string& account, const std::string& mailbox,
                         uint32_t uid_validity, uint32_t uid);
  /// What the keys of one mailbox start with: `key` is this plus the UID.
  static std::string key_prefix(const std::string& account,
                                const std::string& mailbox,
                                uint32_t uid_validity);

  std::optional<decoded_text> text(const std::string& key);
  /// The facts, shared with the cache (they never change once stored): a
  /// listing copies only the summary it needs, not the whole structure.
  std::shared_ptr<const message_facts> facts(const std::string& key);

  void put_text(const std::string& key, decoded_text value);
  void put_facts(const std::string& key, message_facts value);

  uint64_t hits() const noexcept {
    return hits_.load();
  }

  uint64_t misses() const noexcept {
    return misses_.load();
  }

  size_t bytes() const;

private:
  struct entry {
    std::string key;
    std::shared_ptr<const message_facts> facts;
    std::optional<decoded_text> text;
    /// Estimated bytes held (key, facts, text, bookkeeping).
    size_t cost = 0;
  };

  /// The entry of `key`, moved to the front; nullptr if absent.
  entry* find_locked(const std::string& key);
  /// The entry of `key`, created if absent, moved to the front.
  entry& slot_locked(const std::string& key);
  void recost_locked(entry& e);
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
