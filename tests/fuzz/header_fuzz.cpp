// SPDX-License-Identifier: Apache-2.0
// Header decoding (mime/header.cpp): RFC 2047 encoded words and unfolding
// in decode_header, RFC 2231 parameters and continuations in
// find_parameter, and the round trip of encode_header.
//
// Input: the first byte picks the decoder. For find_parameter the rest is
// "name=value" parameters separated by NUL bytes (as IMAP BODYSTRUCTURE
// hands them over), looked up under the name "filename".
#include "fuzz_check.hpp"
#include "postern/mime/charset.hpp"
#include "postern/mime/header.hpp"
#include "postern/mime/limits.hpp"

#include <cstdint>
#include <vector>

using namespace postern;

namespace {

std::vector<mime::parameter> split_parameters(std::string_view text) {
  std::vector<mime::parameter> params;
  while (!text.empty()) {
    auto end = text.find('\0');
    auto item = text.substr(0, end);
    auto eq = item.find('=');
    if (eq == std::string_view::npos)
      params.emplace_back(std::string{item}, std::string{});
    else
      params.emplace_back(std::string{item.substr(0, eq)},
                          std::string{item.substr(eq + 1)});
    if (end == std::string_view::npos)
      break;
    text.remove_prefix(end + 1);
  }
  return params;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  auto mode = data[0] % 3;
  auto text = fuzz::as_text(data + 1, size - 1);
  constexpr size_t cap = mime::max_header_bytes + 64;
  switch (mode) {
    case 0: {
      auto decoded = mime::decode_header(text);
      fuzz::require(mime::is_valid_utf8(decoded),
                    "decode_header returns valid UTF-8");
      fuzz::require(decoded.size() <= cap, "decode_header output is capped");
      break;
    }
    case 1: {
      auto params = split_parameters(text);
      auto value = mime::find_parameter(params, "filename");
      if (value) {
        fuzz::require(mime::is_valid_utf8(*value),
                      "find_parameter returns valid UTF-8");
        fuzz::require(value->size() <= cap, "find_parameter output is capped");
      }
      break;
    }
    default: {
      // encode_header takes UTF-8; what it writes must decode back.
      auto utf8 = mime::to_valid_utf8(text);
      auto encoded = mime::encode_header(utf8);
      auto decoded = mime::decode_header(encoded);
      fuzz::require(mime::is_valid_utf8(decoded), "round trip is UTF-8");
      break;
    }
  }
  return 0;
}
