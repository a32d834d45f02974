// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/secret.hpp" // so every log call sees the redacting formatter

#include <caf/expected.hpp>

#include <spdlog/spdlog.h>

#include <string>

namespace postern {

/// Appends `text` to `out` as the contents of a JSON string (no quotes),
/// escaping control characters and replacing invalid UTF-8 with U+FFFD.
void append_json_escaped(std::string& out, std::string_view text);

} // namespace postern

// Log with fmt syntax. Never pass credentials, tokens or message bodies; a
// `postern::secret` prints as [redacted].
#define POSTERN_TRACE(...) SPDLOG_TRACE(__VA_ARGS__)
#define POSTERN_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define POSTERN_INFO(...) SPDLOG_INFO(__VA_ARGS__)
#define POSTERN_WARN(...) SPDLOG_WARN(__VA_ARGS__)
#define POSTERN_ERROR(...) SPDLOG_ERROR(__VA_ARGS__)
