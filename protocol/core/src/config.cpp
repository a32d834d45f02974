// SPDX-License-Identifier: Apache-2.0
#include "postern/config.hpp"

#include <algorithm>
#include <cctype>

namespace postern {

bool is_hex_key(const std::string& text) {
  return text.size() == 64
         && std::all_of(text.begin(), text.end(),
                        [](unsigned char c) { return std::isxdigit(c); });
}

} // namespace postern
