// SPDX-License-Identifier: Apache-2.0
#include "postern/mime/html.hpp"

#include "postern/mime/charset.hpp"
#include "postern/mime/header.hpp"
#include "postern/mime/limits.hpp"
#include "postern/mime/work.hpp"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <vector>

namespace postern::mime {

namespace {

using detail::count_work;

bool is_ws(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9') || c == '-' || c == ':' || c == '_';
}

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
  {"amp", '&'},       {"lt", '<'},         {"gt", '>'},
  {"quot", '"'},      {"apos", '\''},      {"ndash", 0x2013},
  {"mdash", 0x2014},  {"lsquo", 0x2018},   {"rsquo", 0x2019},
  {"sbquo", 0x201A},  {"ldquo", 0x201C},   {"rdquo", 0x201D},
  {"bdquo", 0x201E},  {"bull", 0x2022},    {"hellip", 0x2026},
  {"euro", 0x20AC},   {"trade", 0x2122},   {"larr", 0x2190},
  {"rarr", 0x2192},   {"uarr", 0x2191},    {"darr", 0x2193},
  {"zwnj", 0x200C},   {"zwj", 0x200D},     {"ensp", 0x2002},
  {"emsp", 0x2003},   {"thinsp", 0x2009},  {"dagger", 0x2020},
  {"Dagger", 0x2021}, {"permil", 0x2030},  {"lsaquo", 0x2039},
  {"rsaquo", 0x203A}, {"OElig", 0x0152},   {"oelig", 0x0153},
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
      uint32_t digit = text[i] <= '9'   ? static_cast<uint32_t>(text[i] - '0')
                       : text[i] <= 'F' ? static_cast<uint32_t>(text[i] - 'A' + 10)
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

struct tag {
  std::string name; // lowercase
  bool closing = false;
  bool self_closing = false;
  std::vector<std::pair<std::string, std::string>> attributes;

  std::string attribute(std::string_view key) const {
    for (auto& [k, v] : attributes)
      if (k == key)
        return v;
    return {};
  }
};

constexpr size_t max_attributes = 64;

// Parses the tag at html[pos] == '<'; returns the position after '>'.
size_t parse_tag(std::string_view html, size_t pos, tag& result) {
  size_t i = pos + 1;
  if (i < html.size() && html[i] == '/') {
    result.closing = true;
    ++i;
  }
  while (i < html.size() && is_name_char(html[i]))
    result.name += html[i++];
  result.name = to_lower(result.name);
  while (i < html.size() && html[i] != '>') {
    if (is_ws(html[i])) {
      ++i;
      continue;
    }
    if (html[i] == '/') {
      result.self_closing = true;
      ++i;
      continue;
    }
    std::string key;
    while (i < html.size() && !is_ws(html[i]) && html[i] != '='
           && html[i] != '>' && html[i] != '/')
      key += html[i++];
    while (i < html.size() && is_ws(html[i]))
      ++i;
    std::string value;
    if (i < html.size() && html[i] == '=') {
      ++i;
      while (i < html.size() && is_ws(html[i]))
        ++i;
      if (i < html.size() && (html[i] == '"' || html[i] == '\'')) {
        char quote = html[i++];
        auto end = html.find(quote, i);
        if (end == std::string_view::npos)
          end = html.size();
        value = std::string{html.substr(i, end - i)};
        i = end + 1;
      } else {
        while (i < html.size() && !is_ws(html[i]) && html[i] != '>')
          value += html[i++];
      }
    }
    if (key.empty()) {
      ++i; // a stray character such as '"'
      continue;
    }
    // Real tags have a few attributes; a hostile one may have a million,
    // which would cost 30 times its size in memory. Only the first are kept.
    if (result.attributes.size() < max_attributes)
      result.attributes.emplace_back(to_lower(key), decode_references(value));
  }
  auto end = std::min(i + 1, html.size());
  count_work(end - pos);
  return end;
}

bool one_of(std::string_view name,
            std::initializer_list<std::string_view> names) {
  for (auto x : names)
    if (x == name)
      return true;
  return false;
}

/// Collects text with collapsed whitespace and bounded blank lines, up to
/// `max_text_bytes`; past that it drops everything and remembers the cut.
class text_builder {
public:
  void text(std::string_view decoded, bool preformatted) {
    count_work(decoded.size());
    for (size_t i = 0; i < decoded.size() && !cut_; ++i) {
      char c = decoded[i];
      // Strip invisible spacers (zero-width space/joiners, BOM, soft
      // hyphen, combining grapheme joiner) that newsletters pad with.
      if (skip_invisible(decoded, i))
        continue;
      if (preformatted) {
        if (c == '\r')
          continue;
        if (c == '\n') {
          raw_newline();
          continue;
        }
        flush_pending();
        put(c);
        continue;
      }
      if (is_ws(c) || is_nbsp(decoded, i)) {
        if (is_nbsp(decoded, i))
          ++i;
        space_ = true;
        continue;
      }
      flush_pending();
      if (space_ && !at_line_start())
        put(' ');
      space_ = false;
      put(c);
    }
  }

  void line_break(int count) {
    space_ = false;
    if (out_.empty())
      return;
    pending_ = std::max(pending_, count);
  }

  /// A <br>: unlike block boundaries, consecutive ones add up (to one
  /// blank line at most).
  void hard_break() {
    space_ = false;
    if (out_.empty())
      return;
    flush_pending();
    while (!out_.empty() && out_.back() == ' ') {
      count_work(1);
      out_.pop_back();
    }
    if (out_.size() < 2 || out_.compare(out_.size() - 2, 2, "\n\n") != 0)
      put('\n');
  }

  void literal(std::string_view text) {
    flush_pending();
    if (space_ && !at_line_start())
      put(' ');
    space_ = false;
    if (cut_)
      return;
    if (out_.size() + text.size() > max_text_bytes) {
      out_ += truncate_utf8(text, max_text_bytes - out_.size());
      cut_ = true;
      return;
    }
    out_ += text;
  }

  /// Whether the cap was reached: nothing more is written.
  bool full() const noexcept {
    return cut_;
  }

  size_t position() const noexcept {
    return out_.size();
  }

  std::string_view since(size_t pos) const {
    return std::string_view{out_}.substr(std::min(pos, out_.size()));
  }

  std::string finish() {
    if (cut_)
      out_.resize(truncate_utf8(out_, max_text_bytes).size());
    while (!out_.empty() && (out_.back() == ' ' || out_.back() == '\n'))
      out_.pop_back();
    if (cut_)
      out_ += "\n\n"
              + cut_notice("the text is longer than "
                           + std::to_string(max_text_bytes >> 20)
                           + " MiB; the rest is not shown");
    return std::move(out_);
  }

private:
  static bool is_nbsp(std::string_view s, size_t i) {
    return s.substr(i, 2) == "\xC2\xA0";
  }

  static bool skip_invisible(std::string_view s, size_t& i) {
    static constexpr std::string_view invisible[] = {
      "\xE2\x80\x8B", "\xE2\x80\x8C", "\xE2\x80\x8D", "\xEF\xBB\xBF",
      "\xC2\xAD",     "\xCD\x8F",     "\xE2\x81\xA0"};
    for (auto x : invisible)
      if (s.substr(i, x.size()) == x) {
        i += x.size() - 1;
        return true;
      }
    return false;
  }

  void put(char c) {
    // A character may straddle the cap; finish() cuts at a boundary.
    if (out_.size() >= max_text_bytes + 4) {
      cut_ = true;
      return;
    }
    if (out_.size() >= max_text_bytes
        && (static_cast<uint8_t>(c) & 0xC0) != 0x80) {
      cut_ = true;
      return;
    }
    out_ += c;
  }

  bool at_line_start() const {
    return out_.empty() || out_.back() == '\n';
  }

  void raw_newline() {
    flush_pending();
    put('\n');
  }

  void flush_pending() {
    if (pending_ == 0)
      return;
    while (!out_.empty() && out_.back() == ' ') {
      count_work(1);
      out_.pop_back();
    }
    // Only the last `pending_` (at most 2) characters matter: a <pre> may
    // have left any number of line ends, and counting them all at every
    // block would be quadratic.
    int have = 0;
    for (auto it = out_.rbegin();
         it != out_.rend() && *it == '\n' && have < pending_; ++it)
      ++have;
    count_work(static_cast<size_t>(have) + 1);
    for (int k = have; k < pending_; ++k)
      put('\n');
    pending_ = 0;
  }

  std::string out_;
  int pending_ = 0;
  bool space_ = false;
  bool cut_ = false;
};

// Finds "</name" (any case) at or after `from`, or npos: each "</" is looked
// at once, so skipping many <script> elements stays linear.
size_t find_end_tag(std::string_view html, size_t from, std::string_view name) {
  for (auto at = html.find("</", from); at != std::string_view::npos;
       at = html.find("</", at + 2))
    if (iequals(html.substr(at + 2, name.size()), name)) {
      count_work(at - from + name.size());
      return at;
    }
  count_work(html.size() - from);
  return std::string_view::npos;
}

struct open_link {
  std::string href;
  size_t start;
};

// Writes " (href)" after the label of a link that ends, or the bare href
// for a link without a label; nothing when the href adds nothing.
void close_link(text_builder& out, const open_link& link) {
  std::string_view href = link.href;
  while (!href.empty() && is_ws(href.back()))
    href.remove_suffix(1);
  while (!href.empty() && is_ws(href.front()))
    href.remove_prefix(1);
  auto label = out.since(link.start);
  count_work(label.size() + href.size());
  while (!label.empty() && is_ws(label.front()))
    label.remove_prefix(1);
  auto starts_with = [](std::string_view x, std::string_view prefix) {
    return x.size() >= prefix.size()
           && iequals(x.substr(0, prefix.size()), prefix);
  };
  // The label repeats the href ("example.com" for http://example.com,
  // "a@b" for mailto:a@b): only a label about as long as the href can.
  auto repeats = [&](std::string_view prefix, bool any_case) {
    if (href.size() != prefix.size() + label.size()
        || !starts_with(href, prefix))
      return false;
    auto rest = href.substr(prefix.size());
    return any_case ? iequals(rest, label) : rest == label;
  };
  bool useless = href.empty() || href[0] == '#'
                 || starts_with(href, "javascript:") || href == label
                 || repeats("mailto:", true) || repeats("http://", false)
                 || repeats("https://", false);
  if (useless)
    return;
  if (label.empty()) {
    // Spaced off from the text around it, like a word.
    out.text(" ", false);
    out.literal(href);
    out.text(" ", false);
  } else {
    out.text(" ", false);
    out.literal("(" + std::string{href} + ")");
  }
}

} // namespace

std::string html_to_text(std::string_view input) {
  auto html = to_valid_utf8(input);
  text_builder out;
  // HTML does not nest links: an <a> inside an <a> ends the first one, so
  // at most one is open and every label is looked at once.
  std::optional<open_link> link;
  // Open lists up to `max_nesting` (true: <ol>), with their counters;
  // deeper ones are counted in `deep_lists` and share the last level.
  std::vector<bool> ordered_lists;
  std::vector<int> counters;
  size_t deep_lists = 0;
  int pre_depth = 0;
  size_t i = 0;
  while (i < html.size() && !out.full()) {
    count_work(1);
    char c = html[i];
    if (c != '<') {
      auto next = html.find('<', i);
      if (next == std::string::npos)
        next = html.size();
      out.text(decode_references(std::string_view{html}.substr(i, next - i)),
               pre_depth > 0);
      i = next;
      continue;
    }
    if (html.compare(i, 4, "<!--") == 0) {
      auto end = html.find("-->", i + 4);
      end = end == std::string::npos ? html.size() : end + 3;
      count_work(end - i);
      i = end;
      continue;
    }
    if (i + 1 < html.size() && (html[i + 1] == '!' || html[i + 1] == '?')) {
      auto end = html.find('>', i);
      end = end == std::string::npos ? html.size() : end + 1;
      count_work(end - i);
      i = end;
      continue;
    }
    if (i + 1 >= html.size()
        || !(is_name_char(html[i + 1]) || html[i + 1] == '/')) {
      out.text("<", pre_depth > 0); // a bare "<" in text
      ++i;
      continue;
    }
    tag t;
    i = parse_tag(html, i, t);
    const auto& name = t.name;
    if (!t.closing
        && one_of(name, {"script", "style", "head", "title", "template",
                         "noscript", "svg", "object"})) {
      // Skip the element's content up to its closing tag.
      auto end = find_end_tag(html, i, name);
      if (end == std::string::npos) {
        i = html.size();
      } else {
        auto close = html.find('>', end);
        close = close == std::string::npos ? html.size() : close + 1;
        count_work(close - end);
        i = close;
      }
      continue;
    }
    if (name == "br") {
      out.hard_break();
      continue;
    }
    if (name == "hr") {
      out.line_break(1);
      out.literal("----------");
      out.line_break(1);
      continue;
    }
    if (name == "pre") {
      out.line_break(2);
      pre_depth += t.closing ? (pre_depth > 0 ? -1 : 0) : 1;
      continue;
    }
    if (name == "ul" || name == "ol") {
      // A list inside a list item continues it without a blank line.
      auto depth = ordered_lists.size() + deep_lists;
      bool nested = t.closing ? depth > 1 : depth > 0;
      out.line_break(nested ? 1 : 2);
      if (t.closing) {
        if (deep_lists > 0) {
          --deep_lists;
        } else if (!ordered_lists.empty()) {
          ordered_lists.pop_back();
          counters.pop_back();
        }
      } else if (ordered_lists.size() < max_nesting) {
        ordered_lists.push_back(name == "ol");
        counters.push_back(0);
      } else {
        ++deep_lists;
      }
      continue;
    }
    if (name == "li") {
      out.line_break(1);
      if (!t.closing) {
        // Indented two spaces per level, at most `max_nesting` levels.
        auto depth = ordered_lists.empty() ? 1 : ordered_lists.size();
        std::string bullet(2 * (depth - 1), ' ');
        if (!ordered_lists.empty() && ordered_lists.back())
          bullet += std::to_string(++counters.back()) + ". ";
        else
          bullet += "- ";
        out.literal(bullet);
      }
      continue;
    }
    if (one_of(name, {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
                      "table", "dl", "figure"})) {
      out.line_break(2);
      continue;
    }
    if (one_of(name, {"div", "tr", "dt", "dd", "section", "article",
                      "header", "footer", "nav", "aside", "main", "center",
                      "form", "address", "caption", "tbody", "thead",
                      "tfoot", "fieldset", "figcaption", "body", "html"})) {
      out.line_break(1);
      continue;
    }
    if (name == "td" || name == "th") {
      if (t.closing)
        out.text(" ", false);
      continue;
    }
    if (name == "img" && !t.closing) {
      auto alt = t.attribute("alt");
      bool blank = true;
      for (char ch : alt)
        blank = blank && is_ws(ch);
      if (!blank)
        out.literal("[" + alt + "]");
      continue;
    }
    if (name == "a") {
      if (link) {
        close_link(out, *link);
        link.reset();
        if (!t.closing)
          out.text(" ", false); // the next link's label is another word
      }
      if (!t.closing)
        link = open_link{t.attribute("href"), out.position()};
      continue;
    }
  }
  return to_valid_utf8(out.finish());
}

std::string sniff_html_charset(std::string_view html) {
  auto head = to_lower(html.substr(0, 4096));
  size_t pos = 0;
  while ((pos = head.find("<meta", pos)) != std::string::npos) {
    tag t;
    auto end = parse_tag(head, pos, t);
    pos = end;
    auto charset = t.attribute("charset");
    if (charset.empty()) {
      auto content = t.attribute("content");
      auto at = content.find("charset=");
      if (at != std::string::npos) {
        charset = content.substr(at + 8);
        auto stop = charset.find_first_of("; \"'");
        if (stop != std::string::npos)
          charset.resize(stop);
      }
    }
    if (!charset.empty())
      return charset;
  }
  return {};
}

} // namespace postern::mime
