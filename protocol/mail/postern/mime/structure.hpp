// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/mime/header.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace postern::mime {

/// The decoded headers of a nested message (a message/rfc822 part), shown
/// in the heading that introduces its text.
struct nested_headers {
  std::string from;
  std::string to;
  std::string date;
  std::string subject;
};

/// One node of a message's MIME tree as IMAP BODYSTRUCTURE describes it.
/// Nothing here is decoded except what the field comments say.
struct part {
  /// IMAP section number ("1", "2.1"); empty for a top-level multipart.
  std::string section;
  /// Lowercase media type and subtype ("text", "plain").
  std::string type;
  std::string subtype;
  /// Content-Type parameters, raw (RFC 2231 not yet applied).
  std::vector<parameter> params;
  /// Lowercase Content-Transfer-Encoding ("base64", "7bit", ...).
  std::string encoding;
  /// Size in octets as stored (still transfer-encoded).
  uint64_t size = 0;
  /// Lowercase Content-Disposition type ("attachment", "inline") or empty.
  std::string disposition;
  std::vector<parameter> disposition_params;
  /// Content-ID without angle brackets, or empty.
  std::string content_id;
  /// The parts of a multipart, or the single body of a message/rfc822.
  std::vector<part> children;
  /// For message/rfc822 only: the nested message's headers (decoded).
  nested_headers headers;

  bool is(std::string_view t, std::string_view s) const {
    return type == t && subtype == s;
  }
};

/// A part that is not read as text: attachment, inline image, forwarded
/// message. All strings valid UTF-8.
struct attachment {
  /// IMAP section to fetch it with (BODY[<part_id>]).
  std::string part_id;
  /// Lowercase "type/subtype".
  std::string mime_type;
  /// Decoded file name (RFC 2231 / RFC 2047), or empty.
  std::string filename;
  /// Estimated decoded size in bytes.
  uint64_t size = 0;
  /// "attachment", "inline" or empty.
  std::string disposition;
  /// Content-ID without brackets (inline images), or empty.
  std::string content_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, attachment& x) {
  return f(caf::meta::type_name("attachment"), x.part_id, x.mime_type,
           x.filename, x.size, x.disposition, x.content_id);
}

/// One step of assembling a message's readable text: fixed text (a heading
/// for a forwarded message) or a text part to fetch and decode.
struct text_step {
  /// The fixed text, used when `section` is empty.
  std::string literal;
  /// The IMAP section of the text part to fetch.
  std::string section;
  /// Whether the part is HTML (converted to text after decoding).
  bool html = false;
  /// Declared charset (may be empty) and transfer encoding.
  std::string charset;
  std::string encoding;
  /// RFC 3676 format=flowed and its DelSp parameter.
  bool flowed = false;
  bool delete_space = false;
  /// Encoded size in octets.
  uint64_t size = 0;
};

/// What to fetch to show a message: text parts in reading order, and the
/// parts that are listed as attachments instead.
struct body_plan {
  std::vector<text_step> steps;
  std::vector<attachment> attachments;
};

/// Chooses the readable text of a message and its attachments: in a
/// multipart/alternative, text/plain wins over HTML; in multipart/related
/// the root part is the text and the rest are inline attachments; in other
/// multiparts every inline text part is read in order; a nested
/// message/rfc822 is read too, after a heading with its From, Date, Subject
/// and To, and listed as an attachment. A text part with a file name or
/// disposition "attachment" is an attachment.
///
/// Bounds: time O(parts × 20) at most (alternatives are looked into again
/// on each of at most 20 levels), memory O(parts); no recursion deeper than
/// 21 levels (deeper parts are listed as attachments, iteratively); at most
/// `max_text_parts` text steps (the rest listed as attachments) and
/// `max_attachments` attachments, each cut said by a "[… cut: …]" step.
body_plan plan_body(const part& root);

/// Whether the message has something a person calls an attachment: a part
/// with disposition "attachment" or a file name, or a forwarded message.
bool has_attachments(const part& root);

/// Turns CRLF and lone CR into LF.
std::string normalize_line_ends(std::string_view text);

/// Turns the raw bytes of a text part (as fetched, still transfer-encoded)
/// into readable UTF-8: transfer decoding, charset conversion (the HTML
/// <meta> charset when none is declared), format=flowed unwrapping and HTML
/// conversion. Line ends become "\n".
///
/// Bounds: each step linear in its input; the HTML text is capped at
/// `max_text_bytes`; plain text is at most 3 bytes per input byte.
std::string decode_text(std::string_view raw, const text_step& step);

} // namespace postern::mime
