// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/actors/connection_probe_actor.hpp"
#include "postern/host_policy.hpp"
#include "postern/oauth/mail_provider.hpp"

#include <memory>

#include <chrono>

namespace postern {

/// The CONNECTION PROBE behavior (spawn it `caf::detached`: it blocks on
/// the network, each step bounded by `timeout`): tests account settings
/// once, then quits. For an OAuth account the credentials hold the
/// ACCOUNT's access token as imap_password, and `providers` say which
/// SASL mechanism signs in with it.
probe_actor::behavior_type
connection_probe(probe_actor::pointer self, std::chrono::seconds timeout,
                 host_policy hosts,
                 std::shared_ptr<const oauth::mail_providers> providers);

} // namespace postern
