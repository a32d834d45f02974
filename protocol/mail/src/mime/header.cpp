// SPDX-License-Identifier: Apache-2.0
#include "postern/mime/header.hpp"

#include "postern/mime/charset.hpp"
#include "postern/mime/limits.hpp"
#include "postern/mime/transfer_encoding.hpp"
#include "postern/mime/work.hpp"
#include "postern/text.hpp"

#include <cstdint>
#include <cstdlib>
#include <map>

namespace postern::mime {

namespace {

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t';
}

// One run of a header: either literal text or the decoded bytes of an
// encoded word together with its charset.
struct segment {
  bool encoded = false;
  std::string charset;
  std::string bytes;
};

// Decodes `escape` followed by two hex digits into that byte (anything
// else is kept as it is), and "_" into a space when `underscore_is_space`.
// Linear: one pass, one output byte per input byte at most.
std::string decode_hex_escapes(std::string_view text, char escape,
                               bool underscore_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (underscore_is_space && text[i] == '_') {
      out += ' ';
    } else if (text[i] == escape && i + 2 < text.size()
               && hex_digit(text[i + 1]) >= 0 && hex_digit(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(text[i + 1]) * 16
                               + hex_digit(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// RFC 2047 "Q": like quoted-printable, but "_" is a space and there are no
// soft line breaks or trailing-space rules.
std::string decode_q(std::string_view text) {
  return decode_hex_escapes(text, '=', true);
}

bool is_word_char(char c) noexcept {
  auto u = static_cast<uint8_t>(c);
  return u >= 0x21 && u <= 0x7E;
}

bool is_base64_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
         || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

/// Answers "where is the next position at or after `from` where `hit` is
/// true" for a text. Asked with `from` never decreasing (decode_header
/// looks for encoded words left to right), it remembers its last answer,
/// so the whole text is scanned once per scanner however many words start
/// in it: "=?x?q?aaa" a thousand times without a "?=" stays linear.
template <class Hit>
class forward_scanner {
public:
  forward_scanner(std::string_view text, Hit hit) : text_(text), hit_(hit) {
    // nop
  }

  size_t next(size_t from) {
    if (from >= start_ && from <= found_)
      return found_;
    start_ = from;
    found_ = from;
    while (found_ < text_.size() && !hit_(text_, found_))
      ++found_;
    detail::count_work(found_ - from + 1);
    return found_; // text_.size() when there is none
  }

private:
  std::string_view text_;
  Hit hit_;
  size_t start_ = 1; // nothing remembered yet (start_ > found_)
  size_t found_ = 0;
};

/// Finds encoded words in one text, left to right, in linear time overall.
class word_parser {
public:
  explicit word_parser(std::string_view text) : text_(text) {
    // nop
  }

  // Parses the encoded word starting at `text[pos]` ("=?"); on success
  // stores it in `out` and returns the position after "?=", else returns
  // npos. `pos` never decreases from one call to the next.
  size_t parse(size_t pos, segment& out) {
    auto text = text_;
    // A charset name is short; a '?' too far away is no encoded word.
    auto charset_end
      = text.substr(0, std::min(text.size(), pos + 2 + 64)).find('?', pos + 2);
    if (charset_end == std::string_view::npos || charset_end == pos + 2)
      return std::string_view::npos;
    auto charset = text.substr(pos + 2, charset_end - pos - 2);
    for (char c : charset)
      if (is_space(c) || c == '=' || static_cast<uint8_t>(c) < 0x21)
        return std::string_view::npos;
    if (charset_end + 2 >= text.size() || text[charset_end + 2] != '?')
      return std::string_view::npos;
    char encoding = text[charset_end + 1];
    auto body_begin = charset_end + 3;
    auto body_end = close_.next(body_begin);
    if (body_end >= text.size())
      return std::string_view::npos;
    // The body has no white space, controls or 8-bit bytes (and for "B"
    // only the base64 alphabet): true when the first such byte is at or
    // after its end.
    if (bad_.next(body_begin) < body_end)
      return std::string_view::npos;
    auto body = text.substr(body_begin, body_end - body_begin);
    if (encoding == 'B' || encoding == 'b') {
      if (not_base64_.next(body_begin) < body_end)
        return std::string_view::npos;
      out.bytes = decode_base64(body);
    } else if (encoding == 'Q' || encoding == 'q') {
      out.bytes = decode_q(body);
    } else {
      return std::string_view::npos;
    }
    out.encoded = true;
    out.charset = to_lower(charset);
    if (auto star = out.charset.find('*'); star != std::string::npos)
      out.charset.resize(star); // RFC 2231 section 5: charset*language
    return body_end + 2;
  }

private:
  static bool is_close(std::string_view t, size_t i) {
    return t[i] == '?' && i + 1 < t.size() && t[i + 1] == '=';
  }
  static bool is_bad(std::string_view t, size_t i) {
    return !is_word_char(t[i]);
  }
  static bool is_not_base64(std::string_view t, size_t i) {
    return !is_base64_char(t[i]);
  }
  using hit = bool (*)(std::string_view, size_t);

  std::string_view text_;
  forward_scanner<hit> close_{text_, &is_close};
  forward_scanner<hit> bad_{text_, &is_bad};
  forward_scanner<hit> not_base64_{text_, &is_not_base64};
};

std::string percent_decode(std::string_view text) {
  detail::count_work(text.size());
  return decode_hex_escapes(text, '%', false);
}

// Splits "charset'language'value" of an RFC 2231 extended initial value.
// Returns false if the two quotes are missing.
bool split_extended(std::string_view text, std::string& charset,
                    std::string_view& value) {
  auto first = text.find('\'');
  if (first == std::string_view::npos)
    return false;
  auto second = text.find('\'', first + 1);
  if (second == std::string_view::npos)
    return false;
  charset = std::string{text.substr(0, first)};
  value = text.substr(second + 1);
  return true;
}

// A decoded parameter value of at most `max_header_bytes`, with a notice
// when the value was longer.
std::string capped(std::string value, bool cut) {
  if (value.size() > max_header_bytes) {
    cut = true;
    value.resize(truncate_utf8(value, max_header_bytes).size());
  }
  if (cut)
    value += " "
             + cut_notice("longer than "
                          + std::to_string(max_header_bytes >> 10) + " KiB");
  return value;
}

void replace_controls(std::string& text) {
  for (auto& c : text)
    if (static_cast<uint8_t>(c) < 0x20 || c == 0x7F)
      c = ' ';
}

} // namespace

bool iequals(std::string_view x, std::string_view y) noexcept {
  if (x.size() != y.size())
    return false;
  for (size_t i = 0; i < x.size(); ++i) {
    auto a = x[i] >= 'A' && x[i] <= 'Z' ? x[i] - 'A' + 'a' : x[i];
    auto b = y[i] >= 'A' && y[i] <= 'Z' ? y[i] - 'A' + 'a' : y[i];
    if (a != b)
      return false;
  }
  return true;
}

std::string to_lower(std::string_view x) {
  std::string result{x};
  for (auto& c : result)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return result;
}

std::string decode_header(std::string_view raw) {
  // Only the first `max_header_bytes` are read: every step below is linear
  // in what is left, and the result is cut to the same size.
  bool cut = raw.size() > max_header_bytes;
  if (cut)
    raw = raw.substr(0, max_header_bytes);
  detail::count_work(raw.size());
  // Unfold: a line break plus the whitespace after it is one space.
  std::string text;
  text.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\r' || raw[i] == '\n') {
      while (i + 1 < raw.size() && (raw[i + 1] == '\r' || raw[i + 1] == '\n'))
        ++i;
      if (i + 1 < raw.size() && is_space(raw[i + 1]))
        continue;
      text += ' ';
      continue;
    }
    text += raw[i];
  }
  std::vector<segment> segments;
  std::string literal;
  word_parser words{text};
  size_t i = 0;
  while (i < text.size()) {
    detail::count_work(1);
    if (text[i] == '=' && i + 1 < text.size() && text[i + 1] == '?') {
      segment word;
      auto next = words.parse(i, word);
      if (next != std::string_view::npos) {
        // Whitespace between two encoded words is not part of the text.
        bool only_space = true;
        for (char c : literal)
          only_space = only_space && is_space(c);
        bool after_word = !segments.empty() && segments.back().encoded;
        if (!literal.empty() && !(only_space && after_word))
          segments.push_back(segment{false, {}, std::move(literal)});
        literal.clear();
        if (!segments.empty() && segments.back().encoded
            && segments.back().charset == word.charset)
          segments.back().bytes += word.bytes;
        else
          segments.push_back(std::move(word));
        i = next;
        continue;
      }
    }
    literal += text[i];
    ++i;
  }
  if (!literal.empty())
    segments.push_back(segment{false, {}, std::move(literal)});
  std::string result;
  for (auto& seg : segments)
    result += seg.encoded ? to_utf8(seg.bytes, seg.charset)
                          : to_utf8(seg.bytes, "");
  replace_controls(result);
  return capped(std::move(result), cut);
}

std::string encode_header(std::string_view utf8) {
  std::string text = to_valid_utf8(utf8);
  for (auto& c : text)
    if (c == '\r' || c == '\n')
      c = ' ';
  bool plain = text.find("=?") == std::string::npos;
  for (char c : text) {
    auto u = static_cast<uint8_t>(c);
    if (u >= 0x7F || (u < 0x20 && c != '\t')) {
      plain = false;
      break;
    }
  }
  if (plain) {
    // Fold long values at spaces to keep lines short (RFC 5322 2.1.1).
    std::string result;
    size_t line = 0;
    size_t start = 0;
    while (start < text.size()) {
      auto space = text.find(' ', start + 1);
      auto word = text.substr(
        start, space == std::string::npos ? std::string::npos : space - start);
      if (line > 0 && line + word.size() > 76 && word.front() == ' ') {
        result += "\r\n";
        line = 0;
      }
      result += word;
      line += word.size();
      start += word.size();
    }
    return result;
  }
  // "=?UTF-8?B?" + "?=" leaves 63 characters, i.e. 45 bytes, per word.
  constexpr size_t max_chunk = 45;
  std::string result;
  std::string_view rest = text;
  while (!rest.empty()) {
    auto chunk = truncate_utf8(rest, max_chunk);
    if (!result.empty())
      result += "\r\n ";
    result += "=?UTF-8?B?";
    result += encode_base64(chunk);
    result += "?=";
    rest.remove_prefix(chunk.size());
  }
  return result;
}

std::optional<std::string> find_parameter(const std::vector<parameter>& params,
                                          std::string_view name) {
  const parameter* plain = nullptr;
  const parameter* extended = nullptr;
  // Continuations by section number; the bool says "percent-encoded".
  std::map<unsigned long, std::pair<bool, const std::string*>> sections;
  for (auto& param : params) {
    detail::count_work(param.first.size() + 1);
    std::string_view key = param.first;
    if (key.size() < name.size() || !iequals(key.substr(0, name.size()), name))
      continue;
    auto suffix = key.substr(name.size());
    if (suffix.empty()) {
      plain = &param;
    } else if (suffix == "*") {
      extended = &param;
    } else if (suffix.size() >= 2 && suffix[0] == '*') {
      auto digits = suffix.substr(1);
      bool encoded = !digits.empty() && digits.back() == '*';
      if (encoded)
        digits.remove_suffix(1);
      if (digits.empty() || digits.size() > 4)
        continue;
      bool numeric = true;
      for (char c : digits)
        numeric = numeric && c >= '0' && c <= '9';
      if (!numeric || (digits.size() > 1 && digits[0] == '0'))
        continue;
      auto n = std::strtoul(std::string{digits}.c_str(), nullptr, 10);
      sections.emplace(n, std::make_pair(encoded, &param.second));
    }
  }
  if (extended != nullptr) {
    std::string charset;
    std::string_view value = extended->second;
    if (!split_extended(extended->second, charset, value))
      value = extended->second;
    bool cut = value.size() > max_header_bytes;
    return capped(
      to_utf8(percent_decode(value.substr(0, max_header_bytes)), charset), cut);
  }
  if (!sections.empty() && sections.begin()->first == 0) {
    std::string charset;
    std::string bytes;
    bool cut = false;
    unsigned long expected = 0;
    for (auto& [n, section] : sections) {
      if (n != expected)
        break; // a gap: RFC 2231 says to stop at the first missing section
      ++expected;
      auto [encoded, value] = section;
      std::string_view text = *value;
      if (n == 0 && encoded) {
        std::string_view rest;
        if (split_extended(text, charset, rest))
          text = rest;
      }
      // Percent-decoding never grows a value: the bytes gathered stay
      // within the cap plus one section.
      bytes += encoded ? percent_decode(text) : std::string{text};
      if (bytes.size() > max_header_bytes) {
        cut = true;
        bytes.resize(max_header_bytes);
        break;
      }
    }
    return capped(to_utf8(bytes, charset), cut);
  }
  if (plain != nullptr)
    return decode_header(plain->second);
  return std::nullopt;
}

} // namespace postern::mime
