// SPDX-License-Identifier: Apache-2.0
#include "postern/mime/message_builder.hpp"

#include "postern/error.hpp"
#include "postern/mime/charset.hpp"
#include "postern/mime/header.hpp"
#include "postern/mime/html.hpp"
#include "postern/mime/transfer_encoding.hpp"

#include <openssl/rand.h>

#include <array>
#include <cstdio>
#include <stdexcept>

namespace postern::mime {

namespace {

// Long threads make References grow without bound; keep the root and the
// most recent ancestors, as RFC 5322 3.6.4 suggests.
constexpr size_t max_references = 20;

std::string random_hex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1)
    throw std::runtime_error("RAND_bytes failed");
  static constexpr char hex[] = "0123456789abcdef";
  std::string result;
  for (auto b : buf) {
    result += hex[b >> 4];
    result += hex[b & 15];
  }
  return result;
}

// Appends "Name: value" folded between list items when the line gets long.
void append_list_header(std::string& out, std::string_view name,
                        const std::vector<std::string>& items,
                        std::string_view separator) {
  out += name;
  out += ": ";
  size_t line = name.size() + 2;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) {
      out += separator;
      line += separator.size();
      if (line + items[i].size() > 76) {
        out += "\r\n";
        line = 0;
      }
      out += ' ';
      ++line;
    }
    out += items[i];
    auto nl = items[i].rfind('\n');
    line = nl == std::string::npos ? line + items[i].size()
                                   : items[i].size() - nl - 1;
  }
  out += "\r\n";
}

caf::error check_addresses(const std::vector<address>& list,
                           std::string_view field) {
  for (auto& a : list)
    if (!is_sendable_address(a.address))
      return caf::make_error(ec::invalid_argument,
                             "The " + std::string{field} + " address \""
                               + to_valid_utf8(a.address)
                               + "\" is not a valid email address");
  return {};
}

std::string text_part_headers() {
  return "Content-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: quoted-printable\r\n";
}

std::string html_part_headers() {
  return "Content-Type: text/html; charset=utf-8\r\n"
         "Content-Transfer-Encoding: quoted-printable\r\n";
}

bool is_plain_token_text(std::string_view text) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F || c == '"' || c == '\\')
      return false;
  }
  return true;
}

// The headers of one attached file. Plain ASCII names are quoted strings;
// others go as RFC 2231 (filename*) for standard readers plus RFC 2047 in
// name= for the many that only read that.
std::string attachment_part_headers(const outgoing_attachment& a) {
  std::string out = "Content-Type: " + a.content_type;
  // A charset the reader could not parse is left out rather than passed
  // on: it came from a received message.
  if (!a.charset.empty() && a.charset.size() <= 64
      && is_valid_media_type("x/" + a.charset))
    out += "; charset=" + a.charset;
  if (is_plain_token_text(a.filename)) {
    out += ";\r\n name=\"" + a.filename + "\"\r\n";
    out += "Content-Disposition: attachment;\r\n filename=\"" + a.filename
           + "\"\r\n";
  } else {
    out += ";\r\n name=\"" + encode_header(a.filename) + "\"\r\n";
    out += "Content-Disposition: attachment;\r\n filename*="
           + rfc2231_value(a.filename) + "\r\n";
  }
  out += "Content-Transfer-Encoding: base64\r\n";
  return out;
}

// The text of the message: text/plain, or multipart/alternative with the
// HTML (headers, blank line, body).
std::string body_entity(const outgoing_message& msg,
                        const std::string& unique) {
  std::string out;
  auto text = to_valid_utf8(msg.text);
  auto html = to_valid_utf8(msg.html);
  if (text.empty() && !html.empty())
    text = html_to_text(html);
  if (html.empty()) {
    out += text_part_headers();
    out += "\r\n";
    out += encode_quoted_printable(text);
    out += "\r\n";
    return out;
  }
  // Quoted-printable output never contains "=_", so this boundary cannot
  // occur inside a part.
  auto boundary = "=_postern_" + unique;
  out += "Content-Type: multipart/alternative;\r\n boundary=\"" + boundary
         + "\"\r\n";
  out += "\r\n";
  out += "--" + boundary + "\r\n";
  out += text_part_headers();
  out += "\r\n";
  out += encode_quoted_printable(text);
  out += "\r\n--" + boundary + "\r\n";
  out += html_part_headers();
  out += "\r\n";
  out += encode_quoted_printable(html);
  out += "\r\n--" + boundary + "--\r\n";
  return out;
}

} // namespace

std::string rfc2231_value(std::string_view utf8) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out = "utf-8''";
  for (char c : utf8) {
    auto u = static_cast<unsigned char>(c);
    bool safe = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z')
                || (u >= '0' && u <= '9') || c == '.' || c == '-' || c == '_';
    if (safe) {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}


bool is_valid_attachment_filename(std::string_view name) {
  if (name.empty() || name.size() > 255 || name == "." || name == ".."
      || !is_valid_utf8(name))
    return false;
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F || c == '/' || c == '\\')
      return false;
  }
  return true;
}

bool is_valid_media_type(std::string_view type) {
  auto slash = type.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == type.size()
      || type.size() > 255)
    return false;
  auto token = [](std::string_view t) {
    for (char c : t) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9') || c == '!' || c == '#' || c == '$'
                || c == '&' || c == '-' || c == '^' || c == '_' || c == '.'
                || c == '+';
      if (!ok)
        return false;
    }
    return true;
  };
  return token(type.substr(0, slash)) && token(type.substr(slash + 1));
}

std::string format_rfc5322_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed",
                                         "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr",
                                           "May", "Jun", "Jul", "Aug",
                                           "Sep", "Oct", "Nov", "Dec"};
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%s, %02d %s %04d %02d:%02d:%02d +0000",
                days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
                tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf.data();
}

std::string normalize_message_id(std::string_view id) {
  while (!id.empty() && (id.front() == ' ' || id.front() == '\t'))
    id.remove_prefix(1);
  while (!id.empty() && (id.back() == ' ' || id.back() == '\t'))
    id.remove_suffix(1);
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>')
    id = id.substr(1, id.size() - 2);
  if (id.empty() || id.size() > 250 || id.find('@') == std::string_view::npos)
    return {};
  for (char c : id) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || c == '<' || c == '>' || c == '"' || c == '\\'
        || c == ',')
      return {};
  }
  return "<" + std::string{id} + ">";
}

namespace {

// -- building -----------------------------------------------------------------

// The sender and every To, Cc and Bcc address end up in SMTP commands or
// headers: one that could not be sent as it is fails the whole message.
caf::error check_all_addresses(const outgoing_message& msg) {
  if (!is_sendable_address(msg.from.address))
    return caf::make_error(ec::invalid_argument,
                           "The sender address \""
                             + to_valid_utf8(msg.from.address)
                             + "\" is not a valid email address");
  for (auto [list, field] : {std::pair{&msg.to, "To"}, std::pair{&msg.cc, "Cc"},
                             std::pair{&msg.bcc, "Bcc"}})
    if (auto err = check_addresses(*list, field))
      return err;
  return {};
}

// The envelope recipients (RCPT TO): To, Cc and Bcc in that order, each
// address once, whatever its case, so nobody gets the message twice.
std::vector<std::string> envelope_recipients(const outgoing_message& msg) {
  std::vector<std::string> recipients;
  for (auto* list : {&msg.to, &msg.cc, &msg.bcc})
    for (auto& a : *list) {
      bool seen = false;
      for (auto& r : recipients)
        seen = seen || iequals(r, a.address);
      if (!seen)
        recipients.push_back(a.address);
    }
  return recipients;
}

/// The threading headers of a reply, as written.
struct thread_ids {
  std::string in_reply_to;
  std::vector<std::string> references;
};

// Normalizes In-Reply-To and References (a bad one fails the message, since
// it would go into a header as given); References ends with the parent.
caf::expected<thread_ids> thread_headers(const outgoing_message& msg) {
  thread_ids ids;
  auto& in_reply_to = ids.in_reply_to;
  auto& references = ids.references;
  if (!msg.in_reply_to.empty()) {
    in_reply_to = normalize_message_id(msg.in_reply_to);
    if (in_reply_to.empty())
      return caf::make_error(ec::invalid_argument,
                             "The In-Reply-To value \""
                               + to_valid_utf8(msg.in_reply_to)
                               + "\" is not a valid Message-ID");
  }
  for (auto& ref : msg.references) {
    auto id = normalize_message_id(ref);
    if (id.empty())
      return caf::make_error(ec::invalid_argument,
                             "The References value \"" + to_valid_utf8(ref)
                               + "\" is not a valid Message-ID");
    references.push_back(std::move(id));
  }
  if (!in_reply_to.empty()
      && (references.empty() || references.back() != in_reply_to))
    references.push_back(in_reply_to);
  if (references.size() > max_references)
    references.erase(references.begin() + 1,
                     references.end() - (max_references - 1));
  return ids;
}

// Writes the header up to MIME-Version. Bcc is never written: its
// recipients are in the envelope only.
void append_headers(std::string& out, const outgoing_message& msg,
                    std::time_t date, const std::string& message_id,
                    const thread_ids& ids) {
  out += "Date: " + format_rfc5322_date(date) + "\r\n";
  out += "From: " + format_address(msg.from) + "\r\n";
  auto addresses = [](const std::vector<address>& list) {
    std::vector<std::string> items;
    for (auto& a : list)
      items.push_back(format_address(a));
    return items;
  };
  if (!msg.to.empty())
    append_list_header(out, "To", addresses(msg.to), ",");
  if (!msg.cc.empty())
    append_list_header(out, "Cc", addresses(msg.cc), ",");
  out += "Subject: " + encode_header(msg.subject) + "\r\n";
  out += "Message-ID: " + message_id + "\r\n";
  if (!ids.in_reply_to.empty())
    out += "In-Reply-To: " + ids.in_reply_to + "\r\n";
  if (!ids.references.empty())
    append_list_header(out, "References", ids.references, "");
  out += "MIME-Version: 1.0\r\n";
}

// An attachment's name and type go into its part's headers: refuse the
// ones that would break them or mislead the reader.
caf::error check_attachments(const outgoing_message& msg) {
  for (auto& a : msg.attachments) {
    if (!is_valid_attachment_filename(a.filename))
      return caf::make_error(ec::invalid_argument,
                             "The attachment name \""
                               + to_valid_utf8(a.filename)
                               + "\" is not a plain file name");
    if (!is_valid_media_type(a.content_type))
      return caf::make_error(ec::invalid_argument,
                             "The attachment type \""
                               + to_valid_utf8(a.content_type)
                               + "\" is not a media type like image/png");
  }
  return {};
}

// The body of a message with attachments: multipart/mixed with the text
// first, then each file in base64.
void append_mixed_body(std::string& out, const outgoing_message& msg,
                       const std::string& unique) {
  // Base64 and quoted-printable never contain "=_": the boundary cannot
  // occur inside a part, and it differs from the alternative's.
  auto boundary = "=_postern_mixed_" + unique;
  out += "Content-Type: multipart/mixed;\r\n boundary=\"" + boundary + "\"\r\n";
  out += "\r\n";
  // Each entity ends with CRLF, which the next delimiter line takes as its
  // own (RFC 2046 5.1.1), so no part gains a trailing line break.
  out += "--" + boundary + "\r\n";
  out += body_entity(msg, unique);
  for (auto& a : msg.attachments) {
    out += "--" + boundary + "\r\n";
    out += attachment_part_headers(a);
    out += "\r\n";
    out += encode_base64(a.data, 76);
    out += "\r\n";
  }
  out += "--" + boundary + "--\r\n";
}

// The checks run in this order (addresses, recipients, threading IDs,
// attachments): a message with several problems reports the first.
caf::expected<built_message> build(const outgoing_message& msg,
                                   std::time_t date, const std::string& unique,
                                   bool draft) {
  if (auto err = check_all_addresses(msg))
    return err;
  built_message result;
  result.sender = msg.from.address;
  result.recipients = envelope_recipients(msg);
  // A draft is saved, not sent: it may have no recipient yet.
  if (result.recipients.empty() && !draft)
    return caf::make_error(ec::invalid_argument,
                           "The message has no recipient; give at least one "
                           "To, Cc or Bcc address");
  auto ids = thread_headers(msg);
  if (!ids)
    return std::move(ids.error());
  auto domain = msg.from.address.substr(msg.from.address.rfind('@') + 1);
  result.message_id = "<" + unique + "@" + domain + ">";
  append_headers(result.data, msg, date, result.message_id, *ids);
  if (msg.attachments.empty()) {
    result.data += body_entity(msg, unique);
    return result;
  }
  if (auto err = check_attachments(msg))
    return err;
  append_mixed_body(result.data, msg, unique);
  return result;
}

} // namespace

caf::expected<built_message> build_message(const outgoing_message& msg) {
  return build(msg, std::time(nullptr), random_hex(16), false);
}

caf::expected<built_message> build_message(const outgoing_message& msg,
                                           std::time_t date,
                                           const std::string& unique) {
  return build(msg, date, unique, false);
}

caf::expected<built_message> build_draft(const outgoing_message& msg) {
  return build(msg, std::time(nullptr), random_hex(16), true);
}

caf::expected<built_message> build_draft(const outgoing_message& msg,
                                         std::time_t date,
                                         const std::string& unique) {
  return build(msg, date, unique, true);
}

} // namespace postern::mime
