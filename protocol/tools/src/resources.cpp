// SPDX-License-Identifier: Apache-2.0
// postern:// URIs of messages and parts, and the templates that describe
// them (resources/templates/list).

#include "postern/mcp/resources.hpp"

#include "families.hpp"
#include "postern/mcp/json.hpp"
#include "postern/mime/transfer_encoding.hpp"
#include "postern/text.hpp"
#include "postern/utf8.hpp"

#include <charconv>
#include <vector>

namespace postern::mcp {

namespace {

constexpr std::string_view scheme = "postern://accounts/";

/// What an account id may hold (Postern's are UUIDs): letters, digits,
/// '-' and '_', so it never needs escaping.
bool is_account_id(std::string_view s) {
  if (s.empty() || s.size() > 64)
    return false;
  for (auto c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  return true;
}

/// A UID as the URI writes it: decimal, no sign, no leading zero, 1 to
/// 2^32 - 1.
std::optional<uint32_t> parse_uid(std::string_view s) {
  if (s.empty() || s.size() > 10 || s.front() == '0')
    return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size() || value == 0
      || value > 0xFFFFFFFFull)
    return std::nullopt;
  return static_cast<uint32_t>(value);
}

/// The unreserved characters of RFC 3986: all a folder segment may hold
/// besides its %XX escapes.
constexpr std::string_view unreserved
  = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~";

std::optional<std::string> parse_folder(std::string_view segment,
                                        std::string& why) {
  auto folder = percent_decode_strict(segment, unreserved);
  if (!folder) {
    why = "its folder is not percent-encoded correctly (every character "
          "but letters, digits and - . _ ~ must be written as %XX)";
    return std::nullopt;
  }
  if (folder->empty() || folder->size() > 1000) {
    why = "its folder must be 1 to 1000 bytes long";
    return std::nullopt;
  }
  if (!is_valid_utf8(*folder)) {
    why = "its folder is not UTF-8";
    return std::nullopt;
  }
  for (auto c : *folder)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      why = "its folder holds a control character";
      return std::nullopt;
    }
  return folder;
}

/// {"contents":[{uri, mimeType, text|blob}]}.
std::string contents(std::string_view uri, std::string_view mime_type,
                     std::string_view member, std::string_view value) {
  json_writer w;
  w.begin_object()
    .key("contents")
    .begin_array()
    .begin_object()
    .key("uri")
    .string(uri)
    .key("mimeType")
    .string(mime_type)
    .key(member)
    .string(value)
    .end_object()
    .end_array()
    .end_object();
  return w.take();
}

} // namespace

std::string message_contents(std::string_view uri,
                             std::string_view message_json) {
  return contents(uri, "application/json", "text", message_json);
}

std::string part_contents(std::string_view uri,
                          const mime::attachment_content& part) {
  if (part.kind == mime::attachment_kind::text)
    return contents(uri, part.mime_type, "text", part.data);
  return contents(uri, part.mime_type, "blob", mime::encode_base64(part.data));
}

std::string to_uri(const mail_resource& r) {
  auto uri = std::string{scheme} + r.account + "/folders/"
             + percent_encode(r.folder) + "/messages/" + std::to_string(r.uid);
  if (!r.part_id.empty())
    uri += "/parts/" + r.part_id;
  return uri;
}

std::optional<mail_resource> parse_mail_resource(std::string_view uri,
                                                 std::string& why) {
  constexpr std::string_view shape
    = "; Postern's look like "
      "postern://accounts/<id>/folders/<folder>/messages/<uid>, optionally "
      "followed by /parts/<partId>, as read_message and get_attachment "
      "return them";
  auto fail = [&](std::string sentence) -> std::optional<mail_resource> {
    why = "The URI is not a Postern resource: " + std::move(sentence)
          + std::string{shape} + ".";
    return std::nullopt;
  };
  if (uri.size() > 4000)
    return fail("it is longer than 4000 characters");
  if (uri.compare(0, scheme.size(), scheme) != 0)
    return fail("it does not start with postern://accounts/");
  auto rest = uri.substr(scheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos)
    return fail("it has a query or fragment");
  // accounts/<id>/folders/<f>/messages/<uid>[/parts/<p>] as segments.
  std::vector<std::string_view> segments;
  size_t start = 0;
  for (;;) {
    auto slash = rest.find('/', start);
    segments.push_back(rest.substr(start, slash == std::string_view::npos
                                            ? std::string_view::npos
                                            : slash - start));
    if (slash == std::string_view::npos)
      break;
    start = slash + 1;
  }
  if ((segments.size() != 5 && segments.size() != 7)
      || segments[1] != "folders" || segments[3] != "messages"
      || (segments.size() == 7 && segments[5] != "parts"))
    return fail("its path has the wrong shape");
  mail_resource r;
  if (!is_account_id(segments[0]))
    return fail("its account id is not one Postern gives out");
  r.account = std::string{segments[0]};
  std::string folder_why;
  auto folder = parse_folder(segments[2], folder_why);
  if (!folder)
    return fail(folder_why);
  r.folder = std::move(*folder);
  auto uid = parse_uid(segments[4]);
  if (!uid)
    return fail("its UID must be a whole number from 1 to 4294967295 "
                "without leading zeros");
  r.uid = *uid;
  if (segments.size() == 7) {
    r.part_id = std::string{segments[6]};
    if (!detail::is_part_number(r.part_id) || r.part_id.size() > 100)
      return fail("its part must be a part number like 2 or 1.2");
  }
  return r;
}

std::string resource_templates_result() {
  json_writer w;
  auto entry = [&w](std::string_view uri_template, std::string_view name,
                    std::string_view title, std::string_view description,
                    std::string_view mime_type) {
    w.begin_object()
      .key("uriTemplate")
      .string(uri_template)
      .key("name")
      .string(name)
      .key("title")
      .string(title)
      .key("description")
      .string(description);
    if (!mime_type.empty())
      w.key("mimeType").string(mime_type);
    w.end_object();
  };
  w.begin_object().key("resourceTemplates").begin_array();
  entry("postern://accounts/{account}/folders/{folder}/messages/{uid}",
        "message", "Email message",
        "One message as read_message returns it (headers, text, "
        "attachments), as JSON. Needs mail:read; the account is an id from "
        "a URI the tools returned.",
        "application/json");
  entry("postern://accounts/{account}/folders/{folder}/messages/{uid}/parts/"
        "{partId}",
        "attachment", "Email attachment",
        "One part of a message, decoded: text as text, anything else as "
        "binary. Needs mail:read; parts above the inline limits come by "
        "get_attachment as a download link instead.",
        {});
  w.end_array().end_object();
  return w.take();
}

} // namespace postern::mcp
