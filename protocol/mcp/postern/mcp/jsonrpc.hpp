// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/mcp/bounded_parse.hpp"

#include <rapidjson/document.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace postern::mcp {

/// JSON-RPC 2.0 error codes used by MCP.
namespace rpc {
inline constexpr int parse_error = -32700;
inline constexpr int invalid_request = -32600;
inline constexpr int method_not_found = -32601;
inline constexpr int invalid_params = -32602;
inline constexpr int internal_error = -32603;
/// Implementation-defined range (-32000..-32019): what the official SDKs
/// answer for a transport-level problem (bad header, unknown session).
inline constexpr int server_error = -32000;
inline constexpr int session_not_found = -32001;
inline constexpr int forbidden = -32003;
} // namespace rpc

/// What one POSTed JSON-RPC message is.
enum class message_kind : uint8_t {
  /// Has a method and an id: needs a response.
  request,
  /// Has a method and no id: no response.
  notification,
  /// A result or error for a request we sent (we send none; accepted).
  response,
};

/// One decoded JSON-RPC message. The document owns every value; `params`
/// points into it.
struct message {
  message_kind kind = message_kind::request;
  /// The id as JSON text (a string literal or an integer), "null" if none.
  std::string id = "null";
  std::string method;
  std::shared_ptr<rapidjson::Document> doc;
  /// The params member, or nullptr when absent.
  const rapidjson::Value* params = nullptr;

  /// The `_meta` member of params (object), or nullptr.
  const rapidjson::Value* meta() const;
};

/// Why a body is not one acceptable JSON-RPC message.
struct decode_error {
  int code = rpc::parse_error;
  std::string message;
  /// The id if one could be read, else "null".
  std::string id = "null";
};

struct decode_result {
  std::optional<message> msg;
  decode_error error;
};

/// Decodes one JSON-RPC message: valid UTF-8 JSON, an object (arrays are
/// JSON-RPC batches, which MCP removed in 2025-06-18), "jsonrpc": "2.0", an
/// id that is a string or an integer, a string method. Never throws.
decode_result decode(std::string_view body);

/// {"jsonrpc":"2.0","id":ID,"result":RESULT}. With `leading_fields`
/// (`"k":v,...`) and an object RESULT, those members come first in it,
/// written in the same pass (2026-07-28's resultType, caching hints).
std::string make_result(std::string_view id, std::string_view result_json,
                        std::string_view leading_fields = {});

/// {"jsonrpc":"2.0","id":ID,"error":{"code":..,"message":..[,"data":..]}}
std::string make_error(std::string_view id, int code, std::string_view text,
                       std::string_view data_json = {});

} // namespace postern::mcp
