// SPDX-License-Identifier: Apache-2.0
#pragma once

// CAF 0.17.6's dsl.hpp uses an unqualified FAIL inside
// test_coordinator_fixture::request<T>(): define it before including dsl.hpp.
#define FAIL CAF_FAIL

#include "postern/actors/actor_config.hpp"
#include "postern/error.hpp"

#include <caf/test/dsl.hpp>

namespace postern::test {

/// Deterministic actor tests use the production type and error registry.
struct configuration : actor_config {
  configuration() {
    // nop
  }
};

} // namespace postern::test
