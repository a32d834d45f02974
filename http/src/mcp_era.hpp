// SPDX-License-Identifier: Apache-2.0
#pragma once

// Which protocol era one /mcp request belongs to, decided in one place
// (mcp_era.cpp) for POST, GET and DELETE alike. Not part of the http
// library's interface.

#include "postern/mcp/jsonrpc.hpp"

#include <string>
#include <string_view>

namespace postern::http {

/// Legacy: 2025-03-26 .. 2025-11-25 (initialize, Mcp-Session-Id). Modern:
/// 2026-07-28 and later (per-request `_meta`, no sessions).
enum class mcp_era { legacy, modern };

/// Modern protocol versions /mcp serves, newest first.
inline constexpr std::string_view modern_mcp_versions[] = {"2026-07-28"};

/// The `_meta` key that names a request's protocol version.
inline constexpr const char* meta_protocol_version
  = "io.modelcontextprotocol/protocolVersion";

/// True for a version in modern_mcp_versions.
bool supported_modern_version(std::string_view v);

/// The value of a version-like header read tolerantly: surrounding blanks
/// dropped, and a list of equal values ("2025-11-25, 2025-11-25", as some
/// clients send after merging headers) read as that one value. Different
/// values stay as they are (and are then unsupported).
std::string collapse_header_value(std::string_view raw);

/// The era of a POST: modern when the body's `params._meta` carries a
/// protocol version (whatever its value: an unsupported one is then
/// answered with the modern error) or the MCP-Protocol-Version header names
/// a modern version we serve; legacy otherwise.
mcp_era era_of(const mcp::message& msg, bool has_header,
               std::string_view header_version);

/// The era of a GET or DELETE (no body): the header alone decides.
mcp_era era_of_header(bool has_header, std::string_view header_version);

} // namespace postern::http
