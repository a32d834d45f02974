// SPDX-License-Identifier: Apache-2.0
#include "postern/log.hpp"

#include "postern/error.hpp"
#include "postern/utf8.hpp"

namespace postern {

void append_json_escaped(std::string& out, std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20)
            out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
          else
            out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    auto len = utf8_sequence_length(text, i);
    if (len == 0) {
      out += "\xEF\xBF\xBD"; // U+FFFD for each invalid byte
      ++i;
    } else {
      out.append(text.data() + i, len);
      i += len;
    }
  }
}

} // namespace postern
