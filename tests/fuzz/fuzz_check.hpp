// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the targets assert besides "no crash": the promises of the headers
// they fuzz (valid UTF-8, bounded output). A broken promise aborts, which
// libFuzzer reports as a crash with the input.

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace postern::fuzz {

inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz: broken promise: %s\n", what);
    std::abort();
  }
}

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

} // namespace postern::fuzz
