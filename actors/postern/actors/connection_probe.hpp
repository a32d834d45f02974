// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/actors/connection_probe_actor.hpp"
#include "postern/host_policy.hpp"

#include <chrono>

namespace postern {

/// The CONNECTION PROBE behavior (spawn it `caf::detached`: it blocks on
/// the network, each step bounded by `timeout`): tests account settings
/// once, then quits.
probe_actor::behavior_type connection_probe(probe_actor::pointer self,
                                            std::chrono::seconds timeout,
                                            host_policy hosts);

} // namespace postern
