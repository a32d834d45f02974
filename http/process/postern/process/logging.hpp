// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <caf/error.hpp>

#include <string>

namespace postern {

/// Sets up the process logger: level (trace..error) and format ("text" or
/// "json", one object per line). Logs go to stderr. Until it is called,
/// spdlog's default logger prints (tests that never call it still log).
caf::error init_logging(const std::string& level, const std::string& format);

} // namespace postern
