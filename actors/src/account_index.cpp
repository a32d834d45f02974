// SPDX-License-Identifier: Apache-2.0
#include "postern/actors/account_index.hpp"

namespace postern {

std::string account_index::key_of(const mailbox_ref& ref) {
  std::string key;
  key.reserve(ref.user.value.size() + 1 + ref.account.value.size());
  key += ref.user.value;
  key += '/';
  key += ref.account.value;
  return key;
}

std::optional<mailbox_operations_actor>
account_index::find(const mailbox_ref& ref) const {
  auto key = key_of(ref);
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = accounts_.find(key); i != accounts_.end())
    return i->second;
  return std::nullopt;
}

void account_index::put(const std::string& key,
                        mailbox_operations_actor account) {
  std::lock_guard<std::mutex> guard{mtx_};
  accounts_.insert_or_assign(key, std::move(account));
}

void account_index::erase(const std::string& key) {
  mailbox_operations_actor gone; // destroyed outside the lock, as in clear
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = accounts_.find(key); i != accounts_.end()) {
    gone = std::move(i->second);
    accounts_.erase(i);
  }
}

void account_index::clear() {
  // Destroyed outside the lock: dropping the last handle of an actor may
  // run its cleanup.
  std::unordered_map<std::string, mailbox_operations_actor> gone;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    gone.swap(accounts_);
  }
}

size_t account_index::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return accounts_.size();
}

} // namespace postern
