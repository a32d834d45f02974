// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/account.hpp"
#include "postern/actors/imap_connection_actor.hpp"
#include "postern/host_policy.hpp"
#include "postern/imap/session.hpp"
#include "postern/smtp/client.hpp"

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
imap_connection_actor::behavior_type
imap_connection(imap_connection_actor::stateful_pointer<imap_connection_state> self,
                std::shared_ptr<imap::session> session, server_settings server,
                secret password);

/// The SMTP SENDER behavior (spawn it `caf::detached`); it quits after one
/// message.
smtp_sender_actor::behavior_type
smtp_sender(smtp_sender_actor::pointer self,
            std::shared_ptr<smtp::client> client, server_settings server,
            secret password);

/// The CONNECTION PROBE behavior (spawn it `caf::detached`): tests account
/// settings once, then quits.
probe_actor::behavior_type
connection_probe(probe_actor::pointer self, std::chrono::seconds timeout,
                 host_policy hosts);

} // namespace postern
