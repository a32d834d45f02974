// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/actors/account.hpp"

#include <caf/actor_addr.hpp>

#include <map>
#include <string>

namespace postern {

/// State of the MAIL ROUTER; lives exactly as long as the actor.
struct mail_router_state {
  static inline const char* name = "mail-router";

  directory_actor directory;
  vault_actor vault;
  mail_options opts;

  /// The ACCOUNT of each (user id + '/' + account id).
  std::map<std::string, account_actor> accounts;
  /// Which key an ACCOUNT serves, to forget it when it ends.
  std::map<caf::actor_addr, std::string> keys;
  /// Connection permits: by user, in total, and held by each ACCOUNT (so an
  /// ACCOUNT that dies gives its permits back).
  std::map<std::string, size_t> per_user;
  size_t total = 0;
  std::map<caf::actor_addr, std::pair<std::string, size_t>> held;

  /// Gives back every permit an ACCOUNT holds.
  void release_all(const caf::actor_addr& who);
};

/// The MAIL ROUTER behavior.
mail_router_actor::behavior_type
mail_router(mail_router_actor::stateful_pointer<mail_router_state> self,
            directory_actor directory, vault_actor vault, mail_options opts);

} // namespace postern
