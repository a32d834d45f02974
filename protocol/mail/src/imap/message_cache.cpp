// SPDX-License-Identifier: Apache-2.0
#include "postern/imap/message_cache.hpp"

namespace postern::imap {

namespace {

/// Rough heap bytes of what a value holds: strings by size, plus a fixed
/// charge per object for headers and allocator overhead.
size_t approximate(const std::string& s) {
  return s.size() + 32;
}

size_t approximate(const std::vector<address>& xs) {
  size_t n = 0;
  for (auto& a : xs)
    n += approximate(a.name) + approximate(a.address);
  return n;
}

size_t approximate(const mime::part& p) {
  size_t n = 256 + p.section.size() + p.type.size() + p.subtype.size()
             + p.encoding.size() + p.disposition.size() + p.content_id.size();
  for (auto& param : p.params)
    n += 64 + param.first.size() + param.second.size();
  for (auto& param : p.disposition_params)
    n += 64 + param.first.size() + param.second.size();
  for (auto& child : p.children)
    n += approximate(child);
  return n;
}

size_t approximate(const message_facts& f) {
  auto& s = f.summary;
  size_t n = 256 + approximate(s.subject) + approximate(s.from)
             + approximate(s.to) + approximate(s.cc) + approximate(s.date)
             + approximate(s.received) + approximate(s.message_id)
             + approximate(s.in_reply_to) + approximate(f.reply_to)
             + approximate(f.bcc) + approximate(f.structure);
  for (auto& r : f.references)
    n += approximate(r);
  return n;
}

} // namespace

std::string message_cache::key_prefix(const std::string& account,
                                      const std::string& mailbox,
                                      uint32_t uid_validity) {
  // NUL cannot occur in ids or mailbox names: the parts cannot run together.
  std::string result;
  result.reserve(account.size() + mailbox.size() + 24);
  result += account;
  result += '\0';
  result += mailbox;
  result += '\0';
  result += std::to_string(uid_validity);
  result += '\0';
  return result;
}

std::string message_cache::key(const std::string& account,
                               const std::string& mailbox,
                               uint32_t uid_validity, uint32_t uid) {
  return key_prefix(account, mailbox, uid_validity) + std::to_string(uid);
}

message_cache::entry* message_cache::find_locked(const std::string& key) {
  auto i = index_.find(key);
  if (i == index_.end())
    return nullptr;
  order_.splice(order_.begin(), order_, i->second);
  return &*i->second;
}

message_cache::entry& message_cache::slot_locked(const std::string& key) {
  if (auto* e = find_locked(key))
    return *e;
  order_.emplace_front();
  order_.front().key = key;
  index_[key] = order_.begin();
  recost_locked(order_.front());
  return order_.front();
}

void message_cache::recost_locked(entry& e) {
  bytes_ -= e.cost;
  e.cost = 64 + 2 * e.key.size();
  if (e.facts)
    e.cost += approximate(*e.facts);
  if (e.text)
    e.cost += e.text->text.size();
  bytes_ += e.cost;
}

std::optional<decoded_text> message_cache::text(const std::string& key) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto* e = find_locked(key);
  if (e == nullptr || !e->text) {
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  return e->text;
}

std::shared_ptr<const message_facts>
message_cache::facts(const std::string& key) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto* e = find_locked(key);
  if (e == nullptr || !e->facts) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  return e->facts;
}

void message_cache::put_text(const std::string& key, decoded_text value) {
  if (max_bytes_ == 0 || value.text.size() > max_bytes_ / 4)
    return; // huge texts would push out everything else
  std::lock_guard<std::mutex> guard{mtx_};
  auto& e = slot_locked(key);
  e.text = std::move(value);
  recost_locked(e);
  evict_locked();
}

void message_cache::put_facts(const std::string& key, message_facts value) {
  if (max_bytes_ == 0)
    return;
  value.summary.flags.clear(); // they change: never served from here
  if (approximate(value) > max_bytes_ / 4)
    return;
  auto shared = std::make_shared<const message_facts>(std::move(value));
  std::lock_guard<std::mutex> guard{mtx_};
  auto& e = slot_locked(key);
  e.facts = std::move(shared);
  recost_locked(e);
  evict_locked();
}

void message_cache::evict_locked() {
  while (bytes_ > max_bytes_ && !order_.empty()) {
    auto& last = order_.back();
    bytes_ -= last.cost;
    index_.erase(last.key);
    order_.pop_back();
  }
}

size_t message_cache::bytes() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return bytes_;
}

} // namespace postern::imap
