// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/account.hpp"
#include "postern/actors/smtp_sender_actor.hpp"
#include "postern/secret.hpp"
#include "postern/smtp/client.hpp"

#include <memory>

namespace postern {

/// The SMTP SENDER behavior (spawn it `caf::detached`: it blocks on the
/// network, bounded by the client's timeouts); it quits after one message.
smtp_sender_actor::behavior_type
smtp_sender(smtp_sender_actor::pointer self,
            std::shared_ptr<smtp::client> client, server_settings server,
            secret password);

} // namespace postern
