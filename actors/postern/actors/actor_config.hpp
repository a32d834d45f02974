// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <caf/actor_system_config.hpp>

namespace postern {

/// The actor system configuration used in production and in tests: it
/// registers Postern's message types and error category once, so errors
/// render as "postern" errors everywhere.
class actor_config : public caf::actor_system_config {
public:
  actor_config();

  /// Sets the number of scheduler threads (0 keeps CAF's default of one
  /// per core).
  actor_config& worker_threads(size_t n);
};

} // namespace postern
