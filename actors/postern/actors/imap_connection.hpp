// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/account.hpp"
#include "postern/actors/imap_connection_actor.hpp"
#include "postern/imap/session.hpp"

#include <caf/actor_system.hpp>

#include <memory>

namespace postern {

/// State of an IMAP CONNECTION; lives as long as the actor (and its thread).
struct imap_connection_state {
  static inline const char* name = "imap-connection";

  std::shared_ptr<imap::session> session;
  server_settings server;
  /// Wiped as soon as the login is done.
  secret password;

  /// Connects and logs in unless already done; fails with the session's
  /// error sentence (or `forbidden` for a denied address: the session's
  /// options carry the host policy).
  caf::error ensure_connected();
};

/// The IMAP CONNECTION behavior. Spawn it `caf::detached`: every handler
/// blocks on the network (bounded by the session's timeouts).
imap_connection_actor::behavior_type imap_connection(
  imap_connection_actor::stateful_pointer<imap_connection_state> self,
  std::shared_ptr<imap::session> session, server_settings server,
  secret password);

} // namespace postern
