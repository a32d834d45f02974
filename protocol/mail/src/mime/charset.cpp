// SPDX-License-Identifier: Apache-2.0
#include "postern/mime/charset.hpp"

#include "postern/mime/work.hpp"

#include <iconv.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace postern::mime {

namespace {

std::string lower_trimmed(std::string_view name) {
  std::string result;
  for (char c : name) {
    if (c == '"' || c == '\'' || c == ' ' || c == '\t')
      continue;
    result += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return result;
}

enum class kind { utf8, guess, iconv };

struct resolved_charset {
  kind how;
  std::string iconv_name;
};

// Maps a MIME charset label to what we do with it. Several labels are mapped
// to supersets because real mail uses the superset's extra characters while
// declaring the subset (as the WHATWG Encoding Standard does for browsers).
resolved_charset resolve(std::string_view label) {
  auto name = lower_trimmed(label);
  // RFC 2231 allows "charset*language" in encoded words.
  if (auto star = name.find('*'); star != std::string::npos)
    name.resize(star);
  if (name == "utf-8" || name == "utf8")
    return {kind::utf8, {}};
  if (name.empty() || name == "us-ascii" || name == "ascii"
      || name == "ansi_x3.4-1968" || name == "unknown-8bit"
      || name == "x-unknown" || name == "unknown" || name == "default"
      || name == "8bit" || name == "iso-646-us")
    return {kind::guess, {}};
  if (name == "iso-8859-1" || name == "iso8859-1" || name == "latin1"
      || name == "latin-1" || name == "l1" || name == "cp1252"
      || name == "windows-1252" || name == "x-cp1252" || name == "cp819"
      || name == "iso_8859-1")
    return {kind::iconv, "WINDOWS-1252"};
  if (name == "gb2312" || name == "gbk" || name == "x-gbk" || name == "euc-cn"
      || name == "cp936" || name == "gb_2312-80" || name == "chinese"
      || name == "csgb2312")
    return {kind::iconv, "GB18030"};
  if (name == "shift_jis" || name == "shift-jis" || name == "sjis"
      || name == "x-sjis" || name == "ms_kanji" || name == "windows-31j"
      || name == "cp932" || name == "csshiftjis")
    return {kind::iconv, "CP932"};
  if (name == "euc-kr" || name == "ks_c_5601-1987" || name == "ks_c_5601"
      || name == "cp949" || name == "korean")
    return {kind::iconv, "CP949"};
  if (name == "big5" || name == "big5-hkscs" || name == "x-x-big5")
    return {kind::iconv, "BIG5-HKSCS"};
  if (name == "iso-8859-9" || name == "latin5")
    return {kind::iconv, "WINDOWS-1254"};
  if (name == "tis-620" || name == "iso-8859-11")
    return {kind::iconv, "CP874"};
  std::string upper;
  for (char c : name)
    upper += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  return {kind::iconv, std::move(upper)};
}

const iconv_t invalid_iconv
  = reinterpret_cast<iconv_t>(static_cast<std::intptr_t>(-1));

/// Owns an iconv descriptor.
class converter {
public:
  explicit converter(const std::string& from)
    : cd_(iconv_open("UTF-8", from.c_str())) {
    // nop
  }
  converter(const converter&) = delete;
  converter& operator=(const converter&) = delete;
  ~converter() {
    if (cd_ != invalid_iconv)
      iconv_close(cd_);
  }
  bool valid() const noexcept {
    return cd_ != invalid_iconv;
  }

  std::string convert(std::string_view input) {
    // A descriptor is reused: start from the initial shift state.
    iconv(cd_, nullptr, nullptr, nullptr, nullptr);
    std::string out;
    out.resize(input.size() * 2 + 16);
    size_t used = 0;
    // iconv's signature predates const correctness; it never writes input.
    auto* in = const_cast<char*>(input.data());
    size_t in_left = input.size();
    auto run = [&](char** src, size_t* src_left) {
      for (;;) {
        if (out.size() - used < 16)
          out.resize(out.size() * 2);
        char* dst = out.data() + used;
        size_t dst_left = out.size() - used;
        auto rc = iconv(cd_, src, src_left, &dst, &dst_left);
        used = out.size() - dst_left;
        if (rc != static_cast<size_t>(-1))
          return;
        if (errno == E2BIG) {
          out.resize(out.size() * 2);
          continue;
        }
        if (src == nullptr || *src_left == 0)
          return;
        // EILSEQ: one bad byte. EINVAL: the input ends inside a character.
        // Written into the buffer, which only ever grows: shrinking it
        // here made every bad byte refill the rest (quadratic).
        if (out.size() - used < replacement_character.size())
          out.resize(out.size() * 2);
        out.replace(used, replacement_character.size(), replacement_character);
        detail::count_work(1);
        used += replacement_character.size();
        if (errno == EINVAL) {
          *src_left = 0;
          return;
        }
        ++*src;
        --*src_left;
        // Stateful encodings (ISO-2022-JP) must not keep a broken shift.
        iconv(cd_, nullptr, nullptr, nullptr, nullptr);
      }
    };
    run(&in, &in_left);
    run(nullptr, nullptr); // flush shift state
    out.resize(used);
    return out;
  }

private:
  iconv_t cd_;
};

/// The converter from `charset` (an iconv name) for this thread. Opening
/// one loads glibc's gconv module for the charset and closing the last one
/// unloads it again -- a dlopen/dlclose pair per decoded header, which was
/// most of the CPU time of listing a folder. Each thread keeps the ones it
/// used (a few dozen charsets at most occur in real mail; bounded anyway).
converter& converter_for(const std::string& charset) {
  constexpr size_t most = 64;
  thread_local std::unordered_map<std::string, std::unique_ptr<converter>> open;
  auto i = open.find(charset);
  if (i != open.end())
    return *i->second;
  if (open.size() >= most)
    open.clear();
  return *open.emplace(charset, std::make_unique<converter>(charset))
            .first->second;
}

} // namespace

std::string to_valid_utf8(std::string_view bytes) {
  detail::count_work(bytes.size());
  std::string result;
  result.reserve(bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    auto n = utf8_sequence_length(bytes, i);
    if (n == 0) {
      result += replacement_character;
      ++i;
      // One U+FFFD per maximal ill-formed subsequence: skip continuation
      // bytes that belonged to the broken sequence.
      while (i < bytes.size()
             && (static_cast<uint8_t>(bytes[i]) & 0xC0) == 0x80)
        ++i;
    } else {
      result.append(bytes.substr(i, n));
      i += n;
    }
  }
  return result;
}

std::string to_utf8(std::string_view bytes, std::string_view charset) {
  detail::count_work(bytes.size());
  auto target = resolve(charset);
  switch (target.how) {
    case kind::utf8:
      return to_valid_utf8(bytes);
    case kind::guess:
      if (is_valid_utf8(bytes))
        return std::string{bytes};
      target.iconv_name = "WINDOWS-1252";
      break;
    case kind::iconv:
      break;
  }
  auto& conv = converter_for(target.iconv_name);
  if (!conv.valid()) {
    // Unknown charset: same guess as for an undeclared one.
    if (is_valid_utf8(bytes))
      return std::string{bytes};
    return to_valid_utf8(converter_for("WINDOWS-1252").convert(bytes));
  }
  return to_valid_utf8(conv.convert(bytes));
}

bool is_known_charset(std::string_view charset) {
  auto target = resolve(charset);
  if (target.how == kind::utf8)
    return true;
  if (target.how == kind::guess)
    return !lower_trimmed(charset).empty();
  return converter_for(target.iconv_name).valid();
}

std::string_view truncate_utf8(std::string_view text,
                               size_t max_bytes) noexcept {
  if (text.size() <= max_bytes)
    return text;
  size_t end = max_bytes;
  while (end > 0 && (static_cast<uint8_t>(text[end]) & 0xC0) == 0x80)
    --end;
  return text.substr(0, end);
}

std::string_view slice_code_points(std::string_view text, size_t offset,
                                   size_t count) noexcept {
  size_t i = 0;
  size_t seen = 0;
  auto advance = [&](size_t n) {
    while (i < text.size() && seen < n) {
      ++i;
      while (i < text.size() && (static_cast<uint8_t>(text[i]) & 0xC0) == 0x80)
        ++i;
      ++seen;
    }
  };
  advance(offset);
  auto begin = i;
  seen = 0;
  advance(count);
  return text.substr(begin, i - begin);
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    out += "\xEF\xBF\xBD";
  } else if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

} // namespace postern::mime
