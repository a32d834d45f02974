// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/fwd.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>

namespace postern {

/// What the NODE reports about the running server (GET /healthz).
struct node_status {
  /// The release, e.g. "0.1.0".
  std::string version;
  /// Seconds since the NODE started.
  int64_t uptime_seconds = 0;
  /// Number of child components the NODE supervises and that are alive.
  int64_t components = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_status& x) {
  return f(caf::meta::type_name("node_status"), x.version, x.uptime_seconds,
           x.components);
}

} // namespace postern
