// SPDX-License-Identifier: Apache-2.0
// get_attachment: one part of a message, as an image, as text or as an
// embedded resource (schema in schemas/get_attachment.json).

#include "families.hpp"
#include "postern/clock.hpp"
#include "postern/mime/charset.hpp"
#include "postern/mcp/resources.hpp"
#include "postern/mime/transfer_encoding.hpp"
#include "writers.hpp"

namespace postern::mcp {

namespace detail {

bool is_part_number(const std::string& part_id) {
  return !part_id.empty() && part_id.front() != '.' && part_id.back() != '.'
         && part_id.find("..") == std::string::npos
         && part_id.find_first_not_of("0123456789.") == std::string::npos;
}

namespace {

/// The content item after the description: the image, or the file as an
/// embedded resource named by `uri` (text is in the description already).
void write_part_content(json_writer& w, const mime::attachment_content& part,
                        const std::string& uri) {
  if (part.kind == mime::attachment_kind::image) {
    w.begin_object()
      .key("type")
      .string("image")
      .key("data")
      .string(mime::encode_base64(part.data))
      .key("mimeType")
      .string(part.mime_type)
      .end_object();
  } else if (part.kind == mime::attachment_kind::file) {
    w.begin_object()
      .key("type")
      .string("resource")
      .key("resource")
      .begin_object()
      .key("uri")
      .string(uri)
      .key("mimeType")
      .string(part.mime_type)
      .key("blob")
      .string(mime::encode_base64(part.data))
      .end_object()
      .end_object();
  }
}

} // namespace

parsed_arguments parse_get_attachment(const tool_arguments& args) {
  get_attachment_args r;
  r.folder = args.text("folder");
  r.uid = args.uid("uid");
  r.part_id = args.text("partId");
  r.as_link = args.flag("asLink");
  if (!is_part_number(r.part_id))
    return refuse("`partId` must be a part number like \"2\" or \"1.2\", "
                  "as read_message lists it (got "
                  + quote(r.part_id) + ")");
  return accept(std::move(r));
}

} // namespace detail

namespace {

/// What every get_attachment answer says of the part, in an open object;
/// `kind` is the part's, or "link".
/// The part's postern:// URI; without an account (tests of the encoders
/// alone), one that names the message and part only.
std::string uri_of(const std::string& folder,
                   const mime::attachment_content& part,
                   std::string_view account) {
  if (account.empty())
    return "attachment:///" + std::to_string(part.uid) + "/" + part.part_id;
  return to_uri(
    mail_resource{std::string{account}, folder, part.uid, part.part_id});
}

void write_part_fields(json_writer& w, const std::string& folder,
                       const mime::attachment_content& part,
                       std::string_view kind, std::string_view account) {
  if (!account.empty())
    w.key("uri").string(uri_of(folder, part, account));
  w.key("uid")
    .uinteger(part.uid)
    .key("folder")
    .string(folder)
    .key("partId")
    .string(part.part_id)
    .key("mimeType")
    .string(part.mime_type)
    .key("filename")
    .string(part.filename)
    .key("kind")
    .string(kind)
    .key("size")
    .uinteger(part.size);
}

} // namespace

std::string encode_attachment(const std::string& folder,
                              const mime::attachment_content& part,
                              std::string_view account) {
  json_writer w;
  w.begin_object();
  write_part_fields(w, folder, part, mime::to_string(part.kind), account);
  if (part.kind == mime::attachment_kind::text)
    w.key("text").string(part.data);
  w.end_object();
  return w.take();
}

std::string attachment_result(const std::string& folder,
                              const mime::attachment_content& part,
                              std::string_view account) {
  auto structured = encode_attachment(folder, part, account);
  // Decoded text may grow when escaped for JSON; it must still fit in one
  // result like every other tool's (images and files have their own caps).
  if (count_code_points(structured) > max_result_chars)
    return tool_failure("Attachment " + part.part_id + " of message "
                        + std::to_string(part.uid) + " ("
                        + mime::format_size(part.size)
                        + " of text) is too long to return in one result.");
  return detail::call_result(structured, false, [&](json_writer& w) {
    detail::write_part_content(w, part, uri_of(folder, part, account));
  });
}

std::string attachment_link_result(const std::string& folder,
                                   const mime::attachment_content& part,
                                   const attachment_link& link,
                                   std::string_view account) {
  json_writer w;
  w.begin_object();
  write_part_fields(w, folder, part, "link", account);
  w.key("url")
    .string(link.url)
    .key("expiresAt")
    .string(iso8601_utc(link.expires_at));
  if (!link.reason.empty())
    w.key("note").string(link.reason);
  w.end_object();
  auto structured = w.take();
  auto name = part.filename.empty()
                ? "attachment " + part.part_id + " of message "
                    + std::to_string(part.uid)
                : part.filename;
  return detail::call_result(structured, false, [&](json_writer& c) {
    c.begin_object()
      .key("type")
      .string("resource_link")
      .key("uri")
      .string(link.url)
      .key("name")
      .string(name)
      .key("mimeType")
      .string(part.mime_type)
      .key("description")
      .string("Download link for the person (expires "
              + iso8601_utc(link.expires_at) + ")")
      .end_object();
  });
}

} // namespace postern::mcp
