// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postern::imap {

/// Decodes a mailbox name from IMAP's modified UTF-7 (RFC 3501 5.1.3) to
/// UTF-8. Returns nullopt if `wire` is not valid modified UTF-7 (8-bit
/// bytes, bad base64, odd UTF-16 length, unpaired surrogates, an
/// unterminated shift).
std::optional<std::string> decode_mailbox_name(std::string_view wire);

/// Encodes a UTF-8 mailbox name to modified UTF-7. Ill-formed UTF-8 is
/// encoded as U+FFFD.
std::string encode_mailbox_name(std::string_view utf8);

/// The name to send for a folder name a user gave: "INBOX" in any case is
/// INBOX (RFC 3501 5.1), anything else is encoded to modified UTF-7.
std::string wire_mailbox_name(std::string_view name);

/// Whether two folder names a user gave name the same mailbox on the
/// server (the bulk changes and the folder changes both ask).
bool same_mailbox(std::string_view x, std::string_view y);

/// The name to show for a wire name: decoded, or the raw bytes made valid
/// UTF-8 when the server sent something that is not modified UTF-7.
std::string display_mailbox_name(std::string_view wire);

} // namespace postern::imap
