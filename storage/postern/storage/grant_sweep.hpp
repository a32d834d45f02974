// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/storage/grant_store.hpp"

#include <cstddef>
#include <cstdint>

namespace postern::storage {

/// Where a sweep in steps stands: the table it is in and the next slice of
/// keys (by first byte) it has not examined yet.
struct sweep_cursor {
  int phase = 0; // 0 grants, 1 access tokens, 2 refresh tokens, 3 done
  unsigned slice = 0;

  bool done() const {
    return phase >= 3;
  }
};

/// One step of sweep_grants: examines whole slices of keys (those with one
/// first byte; token keys are uniformly random digests, so a slice is
/// about 1/256 of a table) from `cursor` on until about `budget` entries
/// were examined, removes what is dead, and advances the cursor. A caller
/// sweeps everything in short write transactions that never hold up the
/// other writers for long. Adds what it removed to `counts`.
void sweep_grants_step(txn& t, int64_t now, sweep_cursor& cursor, size_t budget,
                       sweep_counts& counts);

} // namespace postern::storage
