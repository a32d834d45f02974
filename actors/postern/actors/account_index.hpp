// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/actors/mail_actor.hpp"

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace postern {

/// Which ACCOUNT serves each mailbox right now, readable from any thread.
///
/// Why: every mail call used to pass through the MAIL ROUTER, one actor for
/// all tenants, only to be delegated to the mailbox's ACCOUNT: a second
/// actor hand-off (a wake-up of a CAF worker) per call, and one tenant's
/// burst queued in front of everyone's calls. With the index a caller asks
/// the ACCOUNT directly and asks the router only for a mailbox that has no
/// ACCOUNT yet (the router starts it and writes it here).
///
/// Only the MAIL ROUTER writes (on start, on forget, on the ACCOUNT's down
/// message, and clearing it when the router ends), so an entry is at worst
/// an ACCOUNT that has just ended: asking it fails with
/// `caf::sec::request_receiver_down`, and the caller then asks the router.
/// The key is the whole mailbox_ref, so a caller reaches only the mailbox
/// its grant already names.
class account_index {
public:
  /// The key of `ref`: user id '/' account id (ids never hold '/').
  static std::string key_of(const mailbox_ref& ref);

  /// The running ACCOUNT of `ref`, if any.
  std::optional<mailbox_operations_actor> find(const mailbox_ref& ref) const;

  void put(const std::string& key, mailbox_operations_actor account);
  void erase(const std::string& key);
  void clear();
  size_t size() const;

private:
  mutable std::mutex mtx_;
  std::unordered_map<std::string, mailbox_operations_actor> accounts_;
};

} // namespace postern
