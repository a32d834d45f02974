// SPDX-License-Identifier: Apache-2.0
#pragma once

// Messages and their parts as MCP resources: the postern:// URIs the tools
// hand out (read_message names each message and attachment by one,
// get_attachment its part) and resources/read takes back.
//
//   postern://accounts/<account id>/folders/<folder>/messages/<uid>
//   postern://accounts/<account id>/folders/<folder>/messages/<uid>/parts/<part>
//
// The folder is percent-encoded whole (a "/" in it is %2F), so every
// segment is one step of the path. The URI names a place, not a right:
// resources/read checks that the asking connection reaches the account.

#include "postern/mime/attachment.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postern::mcp {

/// One message, or one part of it, in one of the person's accounts.
struct mail_resource {
  std::string account;
  std::string folder;
  uint32_t uid = 0;
  /// Empty for the message itself.
  std::string part_id;
};

/// The URI of `r` (its members valid: an account id, a folder, a UID
/// above 0, a part number or none).
std::string to_uri(const mail_resource& r);

/// The resource a URI names, or nullopt with a sentence in `why` saying
/// what is wrong with it.
std::optional<mail_resource> parse_mail_resource(std::string_view uri,
                                                 std::string& why);

/// The result of resources/templates/list: the two URI templates.
std::string resource_templates_result();

/// The result of resources/read of a message: its read_message answer
/// (`message_json`) as one application/json text.
std::string message_contents(std::string_view uri,
                             std::string_view message_json);

/// The result of resources/read of a part: text parts as text, anything
/// else as a base64 blob, with the part's MIME type.
std::string part_contents(std::string_view uri,
                          const mime::attachment_content& part);

} // namespace postern::mcp
