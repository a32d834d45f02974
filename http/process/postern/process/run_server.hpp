// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/config.hpp"

#include <functional>

namespace postern {

/// Runs the whole server: keys, actor system, NODE, HTTP. Returns the
/// process exit code once `wait_for_stop` returns and everything has shut
/// down (connections drained, actors stopped).
/// @param cfg The validated configuration; keys are filled in here.
/// @param wait_for_stop Blocks until the server should stop (main() waits
///        for SIGINT/SIGTERM; tests pass their own).
int run_server(config cfg, const std::function<void()>& wait_for_stop);

} // namespace postern
