// SPDX-License-Identifier: Apache-2.0
#include "postern/imap/mailbox_name.hpp"

#include "postern/mime/charset.hpp"
#include "postern/mime/header.hpp"

#include <cstdint>
#include <vector>

namespace postern::imap {

namespace {

// RFC 3501 uses "," where base64 uses "/".
constexpr std::string_view alphabet
  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int value_of(char c) noexcept {
  auto pos = alphabet.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

// Decodes the base64 run between "&" and "-" into UTF-8.
bool decode_run(std::string_view run, std::string& out) {
  uint32_t acc = 0;
  int bits = 0;
  std::vector<uint16_t> units;
  for (char c : run) {
    auto v = value_of(c);
    if (v < 0)
      return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 16) {
      bits -= 16;
      units.push_back(static_cast<uint16_t>((acc >> bits) & 0xFFFF));
    }
  }
  // Leftover bits are padding and must be zero (fewer than 6 of them).
  if (bits >= 6 || (acc & ((1u << bits) - 1)) != 0 || units.empty())
    return false;
  for (size_t i = 0; i < units.size(); ++i) {
    uint32_t u = units[i];
    if (u >= 0xD800 && u <= 0xDBFF) {
      if (i + 1 == units.size() || units[i + 1] < 0xDC00
          || units[i + 1] > 0xDFFF)
        return false;
      uint32_t low = units[++i];
      mime::append_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00));
    } else if (u >= 0xDC00 && u <= 0xDFFF) {
      return false;
    } else {
      mime::append_utf8(out, u);
    }
  }
  return true;
}

// Decodes one code point of valid UTF-8 at text[i], advancing i.
uint32_t next_code_point(std::string_view text, size_t& i) {
  auto b0 = static_cast<uint8_t>(text[i]);
  auto cont = [&](size_t k) {
    return static_cast<uint32_t>(static_cast<uint8_t>(text[i + k]) & 0x3F);
  };
  uint32_t cp;
  if (b0 < 0x80) {
    cp = b0;
    i += 1;
  } else if (b0 < 0xE0) {
    cp = ((b0 & 0x1Fu) << 6) | cont(1);
    i += 2;
  } else if (b0 < 0xF0) {
    cp = ((b0 & 0x0Fu) << 12) | (cont(1) << 6) | cont(2);
    i += 3;
  } else {
    cp = ((b0 & 0x07u) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
    i += 4;
  }
  return cp;
}

void encode_run(const std::vector<uint16_t>& units, std::string& out) {
  out += '&';
  uint32_t acc = 0;
  int bits = 0;
  for (auto u : units) {
    acc = (acc << 16) | u;
    bits += 16;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(acc >> bits) & 0x3F];
    }
  }
  if (bits > 0)
    out += alphabet[(acc << (6 - bits)) & 0x3F];
  out += '-';
}

} // namespace

std::optional<std::string> decode_mailbox_name(std::string_view wire) {
  std::string out;
  size_t i = 0;
  while (i < wire.size()) {
    auto c = static_cast<uint8_t>(wire[i]);
    if (c >= 0x80)
      return std::nullopt;
    if (c != '&') {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    auto end = wire.find('-', i + 1);
    if (end == std::string_view::npos)
      return std::nullopt;
    if (end == i + 1) {
      out += '&';
    } else if (!decode_run(wire.substr(i + 1, end - i - 1), out)) {
      return std::nullopt;
    }
    i = end + 1;
  }
  return out;
}

std::string encode_mailbox_name(std::string_view utf8) {
  auto text = mime::to_valid_utf8(utf8);
  std::string out;
  std::vector<uint16_t> run;
  size_t i = 0;
  while (i < text.size()) {
    auto cp = next_code_point(text, i);
    if (cp >= 0x20 && cp <= 0x7E) {
      if (!run.empty()) {
        encode_run(run, out);
        run.clear();
      }
      out += static_cast<char>(cp);
      if (cp == '&')
        out += '-';
      continue;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      run.push_back(static_cast<uint16_t>(0xD800 + (cp >> 10)));
      run.push_back(static_cast<uint16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      run.push_back(static_cast<uint16_t>(cp));
    }
  }
  if (!run.empty())
    encode_run(run, out);
  return out;
}

std::string wire_mailbox_name(std::string_view name) {
  if (mime::iequals(name, "INBOX"))
    return "INBOX";
  return encode_mailbox_name(name);
}

bool same_mailbox(std::string_view x, std::string_view y) {
  return wire_mailbox_name(x) == wire_mailbox_name(y);
}

std::string display_mailbox_name(std::string_view wire) {
  if (auto decoded = decode_mailbox_name(wire))
    return mime::to_valid_utf8(*decoded);
  return mime::to_valid_utf8(wire);
}

} // namespace postern::imap
