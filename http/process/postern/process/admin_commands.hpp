// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/config.hpp"

#include <iosfwd>
#include <string>
#include <vector>

namespace postern {

/// Runs `postern admin ARGS...` against DATA_DIR, whether or not a server
/// is running on it (LMDB serves several processes; the server sees the
/// change on its next lookup). Results for scripts go to `out` (one id or
/// key per line), messages for people to `err`. Passwords and keys are read
/// from `in`, one per line, never from arguments.
/// @returns the process exit code: 0 ok, 1 failed, 2 usage error.
int run_admin(config cfg, const std::vector<std::string>& args,
              std::istream& in, std::ostream& out, std::ostream& err);

/// The text of `postern admin help`.
std::string admin_usage();

} // namespace postern
