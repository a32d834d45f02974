// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/mime/address.hpp"

#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

namespace postern::mime {

/// A file attached to an outgoing message.
struct outgoing_attachment {
  /// A plain file name (no path), UTF-8.
  std::string filename;
  /// Lowercase "type/subtype".
  std::string content_type;
  /// The decoded bytes.
  std::string data;
  /// The charset of a text file's bytes when they are not UTF-8 or ASCII
  /// (a part of a received message, passed on as it is), or empty.
  std::string charset;
  /// A part of a message in the same account whose bytes become `data`
  /// (the ACCOUNT fetches them, so they never pass through the agent):
  /// set when `source_uid` is not 0. An empty filename or content type is
  /// then the part's own.
  uint32_t source_uid = 0;
  std::string source_folder;
  std::string source_part;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outgoing_attachment& x) {
  return f(caf::meta::type_name("outgoing_attachment"), x.filename,
           x.content_type, x.data, x.charset, x.source_uid,
           x.source_folder, x.source_part);
}

/// An attachment given by its bytes.
inline outgoing_attachment file_attachment(std::string filename,
                                           std::string content_type,
                                           std::string data) {
  outgoing_attachment a;
  a.filename = std::move(filename);
  a.content_type = std::move(content_type);
  a.data = std::move(data);
  return a;
}

/// A message to send, as the user (agent) describes it. All strings UTF-8.
struct outgoing_message {
  /// The sender; its address also becomes the SMTP envelope sender.
  address from;
  std::vector<address> to;
  std::vector<address> cc;
  /// Receives the message but never appears in its headers.
  std::vector<address> bcc;
  std::string subject;
  /// The plain-text body. If empty while `html` is set, it is derived from
  /// the HTML.
  std::string text;
  /// Optional HTML alternative of the same content.
  std::string html;
  /// Message-ID of the message this replies to ("<id@host>", brackets
  /// optional), or empty.
  std::string in_reply_to;
  /// The References of the message this replies to (its own References
  /// header, oldest first); `in_reply_to` is appended when missing.
  std::vector<std::string> references;
  /// Files sent along (the message becomes multipart/mixed).
  std::vector<outgoing_attachment> attachments;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outgoing_message& x) {
  return f(caf::meta::type_name("outgoing_message"), x.from, x.to, x.cc, x.bcc,
           x.subject, x.text, x.html, x.in_reply_to, x.references,
           x.attachments);
}

/// An RFC 5322 message ready for SMTP DATA and IMAP APPEND.
struct built_message {
  /// The message: 7-bit, CRLF line ends, no Bcc header.
  std::string data;
  /// The generated Message-ID, with angle brackets.
  std::string message_id;
  /// The envelope sender (MAIL FROM).
  std::string sender;
  /// The envelope recipients (RCPT TO): To, Cc and Bcc without duplicates.
  std::vector<std::string> recipients;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, built_message& x) {
  return f(caf::meta::type_name("built_message"), x.data, x.message_id,
           x.sender, x.recipients);
}

/// Builds the message: Date, From, To, Cc, Subject (RFC 2047 for non-ASCII),
/// Message-ID, In-Reply-To and References, MIME-Version, and a UTF-8
/// quoted-printable text/plain body, or multipart/alternative with the HTML;
/// with attachments, that body is the first part of a multipart/mixed and
/// every file follows base64-encoded with its name (RFC 2231 and RFC 2047
/// for non-ASCII names). Fails with `ec::invalid_argument` when there is no
/// recipient, an address is not sendable or a message id is malformed.
caf::expected<built_message> build_message(const outgoing_message& msg);

/// As above with a fixed date and a fixed unique part of the Message-ID and
/// boundary (reproducible tests).
caf::expected<built_message> build_message(const outgoing_message& msg,
                                           std::time_t date,
                                           const std::string& unique);

/// Builds a draft: as build_message, but recipients may be missing (a draft
/// is finished later, in a mail client or by the agent).
caf::expected<built_message> build_draft(const outgoing_message& msg);
caf::expected<built_message> build_draft(const outgoing_message& msg,
                                         std::time_t date,
                                         const std::string& unique);

/// Whether `name` can be an attachment's file name: 1 to 255 bytes of valid
/// UTF-8 without control characters, slashes or backslashes, and not "."
/// or "..".
bool is_valid_attachment_filename(std::string_view name);

/// Whether `type` is a plain "type/subtype" media type (RFC 6838 token
/// characters, no parameters).
bool is_valid_media_type(std::string_view type);

/// An RFC 2231 / RFC 5987 extended value, "utf-8''" and the bytes
/// percent-encoded but for letters, digits and . - _ (file names in
/// Content-Disposition, for mail and for downloads).
std::string rfc2231_value(std::string_view utf8);

/// Formats `t` as an RFC 5322 date in UTC ("Thu, 26 Nov 2026 06:00:00 +0000").
std::string format_rfc5322_date(std::time_t t);

/// Normalizes a message id to "<left@right>" (adding missing brackets);
/// returns an empty string if it cannot be one (spaces, controls, brackets
/// inside, no "@", longer than 250).
std::string normalize_message_id(std::string_view id);

} // namespace postern::mime
