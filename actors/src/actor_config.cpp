// SPDX-License-Identifier: Apache-2.0
#include "postern/actors/actor_config.hpp"

#include "postern/account.hpp"
#include "postern/actors/mail_actor.hpp"
#include "postern/directory_types.hpp"
#include "postern/error.hpp"
#include "postern/grant.hpp"
#include "postern/imap/types.hpp"
#include "postern/mime/attachment.hpp"
#include "postern/mime/compose.hpp"
#include "postern/mime/message_builder.hpp"
#include "postern/node_status.hpp"
#include "postern/outbox.hpp"

#include <caf/atom.hpp>
#include <caf/message.hpp>

namespace postern {

actor_config::actor_config() {
  add_message_types<caf::id_block::postern>();
  // The two-argument overload: the templated one does not compile in 0.17.6.
  add_error_category(caf::atom("postern"), [](uint8_t code, caf::atom_value,
                                              const caf::message& ctx) {
    return render(caf::error{code, caf::atom("postern"), ctx});
  });
  // Postern never talks to other CAF nodes: keep the middleman off.
  set("middleman.enable-automatic-connections", false);
  // Work sharing (one queue, idle workers sleep on a condition variable)
  // instead of CAF's default work stealing, whose idle workers poll with
  // 50 us sleeps: on a 2-core host that polling took a fifth of the CPU of
  // a busy server and lost ~10 % of listing throughput (postern-bench,
  // bench/README.md). Postern's actors are short and I/O-bound; nothing
  // here needs stealing's cache locality.
  set("scheduler.policy", caf::atom("sharing"));
}

actor_config& actor_config::worker_threads(size_t n) {
  if (n > 0)
    set("scheduler.max-threads", n);
  return *this;
}

} // namespace postern
