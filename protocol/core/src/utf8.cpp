// SPDX-License-Identifier: Apache-2.0
#include "postern/utf8.hpp"

#include <cstdint>
#include <cstring>

namespace postern {

size_t utf8_sequence_length(std::string_view s, size_t i) noexcept {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  auto c = byte(0);
  if (c < 0x80)
    return 1;
  auto left = s.size() - i;
  auto cont = [&](size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return k < left && byte(k) >= lo && byte(k) <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF)
    return cont(1) ? 2 : 0;
  if (c == 0xE0)
    return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
    return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) // no surrogates
    return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (c == 0xF0)
    return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3)
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4)
    return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

namespace {

constexpr uint64_t high_bits = 0x8080808080808080ull;

uint64_t load8(const char* p) noexcept {
  uint64_t x;
  std::memcpy(&x, p, sizeof x);
  return x;
}

} // namespace

bool is_valid_utf8(std::string_view s) noexcept {
  for (size_t i = 0; i < s.size();) {
    // Mail and JSON are mostly ASCII: eight bytes at a time while they are.
    if (i + 8 <= s.size() && (load8(s.data() + i) & high_bits) == 0) {
      i += 8;
      continue;
    }
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    auto n = utf8_sequence_length(s, i);
    if (n == 0)
      return false;
    i += n;
  }
  return true;
}

size_t count_code_points(std::string_view s) noexcept {
  // Continuation bytes are 10xxxxxx: bit 7 set and bit 6 clear. Counted
  // eight at a time, then the rest one by one.
  size_t continuations = 0;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    auto x = load8(s.data() + i);
    // One bit per continuation byte, at bit 7 of its byte: summed into
    // the top byte by one multiplication (no popcnt instruction needed).
    auto marks = (x & ~(x << 1) & high_bits) >> 7;
    continuations += static_cast<size_t>((marks * 0x0101010101010101ull) >> 56);
  }
  for (; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80)
      ++continuations;
  return s.size() - continuations;
}

} // namespace postern
