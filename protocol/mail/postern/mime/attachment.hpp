// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <string_view>

// One attachment of a received message handed to an agent (get_attachment):
// how it is shown and how large it may be.

namespace postern::mime {

/// How an attachment is handed to an agent.
enum class attachment_kind : uint8_t {
  /// Raster images: MCP image content (base64).
  image,
  /// text/*, JSON, XML, YAML, message/*: decoded to UTF-8 text.
  text,
  /// Everything else: an embedded resource with a base64 blob.
  file,
};

/// "image", "text" or "file".
std::string_view to_string(attachment_kind k);

/// The kind of a lowercase "type/subtype".
attachment_kind kind_of(std::string_view mime_type);

/// The largest decoded attachment handed out, per kind (bytes).
struct attachment_limits {
  uint64_t text = 100000;
  uint64_t image = 1048576;
  uint64_t file = 100000;
  /// The bytes exactly as the part holds them once its transfer encoding
  /// is undone (text is not converted to UTF-8): for attaching to a
  /// message that is sent.
  bool raw = false;
  /// Only what the part is (type, name, and its size as the structure
  /// announces it): nothing is fetched but the structure.
  bool describe_only = false;

  /// Any kind up to `max` bytes, `raw`: a part passed on as it is.
  static attachment_limits whole(uint64_t max) {
    attachment_limits l;
    l.text = l.image = l.file = max;
    l.raw = true;
    return l;
  }

  uint64_t of(attachment_kind k) const {
    return k == attachment_kind::image  ? image
           : k == attachment_kind::text ? text
                                        : file;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, attachment_limits& x) {
  return f(caf::meta::type_name("attachment_limits"), x.text, x.image, x.file,
           x.raw, x.describe_only);
}

/// One fetched and decoded attachment.
struct attachment_content {
  uint32_t uid = 0;
  std::string part_id;
  /// Lowercase "type/subtype".
  std::string mime_type;
  /// Decoded file name, or empty.
  std::string filename;
  /// The part's charset parameter (text parts), or empty: what `data` is
  /// in when it was fetched `raw`.
  std::string charset;
  attachment_kind kind = attachment_kind::file;
  /// UTF-8 text for `text`, the decoded bytes otherwise.
  std::string data;
  /// Decoded size in bytes (before charset conversion).
  uint64_t size = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, attachment_content& x) {
  return f(caf::meta::type_name("attachment_content"), x.uid, x.part_id,
           x.mime_type, x.filename, x.charset, x.kind, x.data, x.size);
}

/// A file name that passes is_valid_attachment_filename: path separators
/// and control characters become "_", overlong names are cut at a
/// character boundary, and an empty result becomes `fallback`.
std::string safe_attachment_filename(std::string_view name,
                                     std::string_view fallback);

/// "1.2 MB", "300 KB", "512 bytes": sizes in error sentences.
std::string format_size(uint64_t bytes);

} // namespace postern::mime
