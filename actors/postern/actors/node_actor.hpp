// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/fwd.hpp"
#include "postern/node_status.hpp"

#include <caf/typed_event_based_actor.hpp> // not just typed_actor.hpp

namespace postern {

/// The NODE actor interface: the root that starts, supervises and stops
/// every long-lived component.
using node_actor = caf::typed_actor<
  // Reports version, uptime and the number of live components.
  caf::replies_to<atom::status>::with<node_status>>;

} // namespace postern
