// SPDX-License-Identifier: Apache-2.0
#include "postern/actors/node.hpp"

#include "postern/version.hpp"

namespace postern {

node_status node_state::status() const {
  auto uptime = std::chrono::steady_clock::now() - started;
  return node_status{
    version,
    std::chrono::duration_cast<std::chrono::seconds>(uptime).count(),
    components,
  };
}

node_actor::behavior_type
node(node_actor::stateful_pointer<node_state> self) {
  return {
    [=](atom::status) { return self->state.status(); },
  };
}

caf::expected<node_actor> spawn_node(caf::actor_system& sys) {
  return sys.spawn(node);
}

} // namespace postern
