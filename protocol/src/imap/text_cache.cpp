// SPDX-License-Identifier: Apache-2.0
#include "postern/imap/text_cache.hpp"

namespace postern::imap {

namespace {

size_t cost(const std::string& key, const decoded_text& value) {
  // The text dominates; count the key and bookkeeping too.
  return key.size() + value.text.size() + 64;
}

} // namespace

std::string text_cache::key(const std::string& account,
                            const std::string& mailbox, uint32_t uid_validity,
                            uint32_t uid) {
  // NUL cannot occur in ids or mailbox names: the parts cannot run together.
  std::string result = account;
  result += '\0';
  result += mailbox;
  result += '\0';
  result += std::to_string(uid_validity);
  result += '\0';
  result += std::to_string(uid);
  return result;
}

std::optional<decoded_text> text_cache::get(const std::string& key) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = index_.find(key);
  if (i == index_.end()) {
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  order_.splice(order_.begin(), order_, i->second);
  return i->second->second;
}

void text_cache::put(const std::string& key, decoded_text value) {
  auto size = cost(key, value);
  if (max_bytes_ == 0 || size > max_bytes_ / 4)
    return; // huge texts would push out everything else
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = index_.find(key); i != index_.end()) {
    bytes_ -= cost(i->second->first, i->second->second);
    order_.erase(i->second);
    index_.erase(i);
  }
  order_.emplace_front(key, std::move(value));
  index_[key] = order_.begin();
  bytes_ += size;
  evict_locked();
}

void text_cache::evict_locked() {
  while (bytes_ > max_bytes_ && !order_.empty()) {
    auto& last = order_.back();
    bytes_ -= cost(last.first, last.second);
    index_.erase(last.first);
    order_.pop_back();
  }
}

size_t text_cache::bytes() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return bytes_;
}

} // namespace postern::imap
