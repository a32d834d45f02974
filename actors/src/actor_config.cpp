// SPDX-License-Identifier: Apache-2.0
#include "postern/actors/actor_config.hpp"

#include "postern/account.hpp"
#include "postern/directory_types.hpp"
#include "postern/error.hpp"
#include "postern/grant.hpp"
#include "postern/node_status.hpp"

#include <caf/atom.hpp>
#include <caf/message.hpp>

namespace postern {

actor_config::actor_config() {
  add_message_types<caf::id_block::postern>();
  // The two-argument overload: the templated one does not compile in 0.17.6.
  add_error_category(caf::atom("postern"),
                     [](uint8_t code, caf::atom_value, const caf::message& ctx) {
                       return render(caf::error{code, caf::atom("postern"), ctx});
                     });
  // Postern never talks to other CAF nodes: keep the middleman off.
  set("middleman.enable-automatic-connections", false);
}

actor_config& actor_config::worker_threads(size_t n) {
  if (n > 0)
    set("scheduler.max-threads", n);
  return *this;
}

} // namespace postern
