// SPDX-License-Identifier: Apache-2.0
#include "postern/mime/attachment.hpp"

#include "postern/mime/charset.hpp"
#include "postern/mime/message_builder.hpp"

#include <cstdio>

namespace postern::mime {

namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size()
         && text.substr(text.size() - suffix.size()) == suffix;
}

} // namespace

std::string_view to_string(attachment_kind k) {
  switch (k) {
    case attachment_kind::image:
      return "image";
    case attachment_kind::text:
      return "text";
    case attachment_kind::file:
      return "file";
  }
  return "file";
}

attachment_kind kind_of(std::string_view mime_type) {
  auto slash = mime_type.find('/');
  auto type = mime_type.substr(0, slash);
  auto subtype = slash == std::string_view::npos ? std::string_view{}
                                                 : mime_type.substr(slash + 1);
  // SVG is XML text; a model reads it better than a rendered picture.
  if (type == "image")
    return subtype == "svg+xml" ? attachment_kind::text
                                : attachment_kind::image;
  if (type == "text" || type == "message")
    return attachment_kind::text;
  if (type == "application"
      && (subtype == "json" || subtype == "xml" || subtype == "javascript"
          || subtype == "x-yaml" || subtype == "yaml" || subtype == "x-sh"
          || subtype == "csv" || ends_with(subtype, "+json")
          || ends_with(subtype, "+xml")))
    return attachment_kind::text;
  return attachment_kind::file;
}

std::string safe_attachment_filename(std::string_view name,
                                     std::string_view fallback) {
  auto text = to_valid_utf8(name);
  for (auto& c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F || c == '/' || c == '\\')
      c = '_';
  }
  std::string result{truncate_utf8(text, 255)};
  if (!is_valid_attachment_filename(result))
    return std::string{fallback};
  return result;
}

std::string format_size(uint64_t bytes) {
  char buf[32];
  if (bytes >= 1024 * 1024)
    std::snprintf(buf, sizeof(buf), "%.1f MB",
                  static_cast<double>(bytes) / (1024.0 * 1024.0));
  else if (bytes >= 1024)
    std::snprintf(buf, sizeof(buf), "%.0f KB",
                  static_cast<double>(bytes) / 1024.0);
  else
    std::snprintf(buf, sizeof(buf), "%llu bytes",
                  static_cast<unsigned long long>(bytes));
  return buf;
}

} // namespace postern::mime
