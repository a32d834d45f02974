// SPDX-License-Identifier: Apache-2.0
#include "html_entities.hpp"

#include "postern/mime/charset.hpp"
#include "postern/mime/work.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace postern::mime::detail {

namespace {

// The Latin-1 named references, in code point order from U+00A0.
constexpr std::array<std::string_view, 96> latin1_entities = {
  "nbsp",   "iexcl",  "cent",   "pound",  "curren", "yen",    "brvbar",
  "sect",   "uml",    "copy",   "ordf",   "laquo",  "not",    "shy",
  "reg",    "macr",   "deg",    "plusmn", "sup2",   "sup3",   "acute",
  "micro",  "para",   "middot", "cedil",  "sup1",   "ordm",   "raquo",
  "frac14", "frac12", "frac34", "iquest", "Agrave", "Aacute", "Acirc",
  "Atilde", "Auml",   "Aring",  "AElig",  "Ccedil", "Egrave", "Eacute",
  "Ecirc",  "Euml",   "Igrave", "Iacute", "Icirc",  "Iuml",   "ETH",
  "Ntilde", "Ograve", "Oacute", "Ocirc",  "Otilde", "Ouml",   "times",
  "Oslash", "Ugrave", "Uacute", "Ucirc",  "Uuml",   "Yacute", "THORN",
  "szlig",  "agrave", "aacute", "acirc",  "atilde", "auml",   "aring",
  "aelig",  "ccedil", "egrave", "eacute", "ecirc",  "euml",   "igrave",
  "iacute", "icirc",  "iuml",   "eth",    "ntilde", "ograve", "oacute",
  "ocirc",  "otilde", "ouml",   "divide", "oslash", "ugrave", "uacute",
  "ucirc",  "uuml",   "yacute", "thorn",  "yuml",
};

struct named_entity {
  std::string_view name;
  uint32_t code_point;
};

constexpr std::array<named_entity, 33> other_entities = {{
  {"amp", '&'},       {"lt", '<'},        {"gt", '>'},
  {"quot", '"'},      {"apos", '\''},     {"ndash", 0x2013},
  {"mdash", 0x2014},  {"lsquo", 0x2018},  {"rsquo", 0x2019},
  {"sbquo", 0x201A},  {"ldquo", 0x201C},  {"rdquo", 0x201D},
  {"bdquo", 0x201E},  {"bull", 0x2022},   {"hellip", 0x2026},
  {"euro", 0x20AC},   {"trade", 0x2122},  {"larr", 0x2190},
  {"rarr", 0x2192},   {"uarr", 0x2191},   {"darr", 0x2193},
  {"zwnj", 0x200C},   {"zwj", 0x200D},    {"ensp", 0x2002},
  {"emsp", 0x2003},   {"thinsp", 0x2009}, {"dagger", 0x2020},
  {"Dagger", 0x2021}, {"permil", 0x2030}, {"lsaquo", 0x2039},
  {"rsaquo", 0x203A}, {"OElig", 0x0152},  {"oelig", 0x0153},
}};

// HTML maps the C1 range of numeric references to Windows-1252.
constexpr std::array<uint16_t, 32> windows_1252_c1 = {
  0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
  0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D,   0x017D, 0x8F,
  0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
  0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178,
};

// Decodes the character reference at text[pos] == '&'. Returns the number
// of bytes consumed (0 if it is not a reference) and appends the character.
size_t decode_reference(std::string_view text, size_t pos, std::string& out) {
  // A reference is short: look for its ';' only in the next 33 bytes, so
  // a text of "&&&&..." stays linear.
  auto limit = std::min(text.size(), pos + 34);
  count_work(limit - pos);
  auto semi = text.substr(0, limit).find(';', pos + 1);
  if (pos + 1 < text.size() && text[pos + 1] == '#') {
    size_t i = pos + 2;
    bool hex = i < text.size() && (text[i] == 'x' || text[i] == 'X');
    if (hex)
      ++i;
    auto digits_begin = i;
    uint32_t cp = 0;
    while (i < limit
           && ((text[i] >= '0' && text[i] <= '9')
               || (hex
                   && ((text[i] >= 'a' && text[i] <= 'f')
                       || (text[i] >= 'A' && text[i] <= 'F'))))) {
      uint32_t digit = text[i] <= '9' ? static_cast<uint32_t>(text[i] - '0')
                       : text[i] <= 'F'
                         ? static_cast<uint32_t>(text[i] - 'A' + 10)
                         : static_cast<uint32_t>(text[i] - 'a' + 10);
      cp = cp * (hex ? 16u : 10u) + digit;
      if (cp > 0x10FFFF)
        cp = 0x110000; // saturate: out of range
      ++i;
    }
    if (i == digits_begin)
      return 0;
    if (cp >= 0x80 && cp <= 0x9F)
      cp = windows_1252_c1[cp - 0x80];
    // HTML maps &#0; to U+FFFD, like invalid code points.
    append_utf8(out, cp == 0 ? 0xFFFD : cp);
    return (i < text.size() && text[i] == ';' ? i + 1 : i) - pos;
  }
  if (semi == std::string_view::npos)
    return 0;
  auto name = text.substr(pos + 1, semi - pos - 1);
  for (size_t k = 0; k < latin1_entities.size(); ++k)
    if (latin1_entities[k] == name) {
      append_utf8(out, 0xA0 + static_cast<uint32_t>(k));
      return semi + 1 - pos;
    }
  for (auto& entity : other_entities)
    if (entity.name == name) {
      append_utf8(out, entity.code_point);
      return semi + 1 - pos;
    }
  return 0;
}

} // namespace

std::string decode_references(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '&') {
      auto n = decode_reference(text, i, out);
      if (n > 0) {
        i += n;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

} // namespace postern::mime::detail
