// SPDX-License-Identifier: Apache-2.0
#include "postern/mime/html.hpp"

#include "html_entities.hpp"
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
using detail::decode_references;

bool is_ws(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9') || c == '-' || c == ':' || c == '_';
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
    static constexpr std::string_view invisible[]
      = {"\xE2\x80\x8B", "\xE2\x80\x8C", "\xE2\x80\x8D", "\xEF\xBB\xBF",
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

// -- elements -----------------------------------------------------------------

/// What is open while the text flows: the link, the lists and <pre>.
struct open_elements {
  // HTML does not nest links: an <a> inside an <a> ends the first one, so
  // at most one is open and every label is looked at once.
  std::optional<open_link> link;
  // Open lists up to `max_nesting` (true: <ol>), with their counters;
  // deeper ones are counted in `deep_lists` and share the last level.
  std::vector<bool> ordered_lists;
  std::vector<int> counters;
  size_t deep_lists = 0;
  int pre_depth = 0;
};

// Comments, doctypes and processing instructions show nothing. Returns the
// position after the one at html[i] == '<', or npos if it is none of them.
size_t skip_markup(std::string_view html, size_t i) {
  if (html.compare(i, 4, "<!--") == 0) {
    auto end = html.find("-->", i + 4);
    end = end == std::string_view::npos ? html.size() : end + 3;
    count_work(end - i);
    return end;
  }
  if (i + 1 < html.size() && (html[i + 1] == '!' || html[i + 1] == '?')) {
    auto end = html.find('>', i);
    end = end == std::string_view::npos ? html.size() : end + 1;
    count_work(end - i);
    return end;
  }
  return std::string_view::npos;
}

// Elements whose content is code or metadata, not text to read.
bool is_hidden(std::string_view name) {
  return one_of(name, {"script", "style", "head", "title", "template",
                       "noscript", "svg", "object"});
}

// Skips a hidden element's content up to its closing tag; returns the
// position after that tag, or the end.
size_t skip_hidden(std::string_view html, size_t from, std::string_view name) {
  auto end = find_end_tag(html, from, name);
  if (end == std::string_view::npos)
    return html.size();
  auto close = html.find('>', end);
  close = close == std::string_view::npos ? html.size() : close + 1;
  count_work(close - end);
  return close;
}

// Block boundaries: 2 line breaks (a blank line) or 1, or 0 for a tag
// that is no block.
int block_breaks(std::string_view name) {
  if (one_of(name, {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
                    "table", "dl", "figure"}))
    return 2;
  if (one_of(name, {"div",     "tr",     "dt",     "dd",       "section",
                    "article", "header", "footer", "nav",      "aside",
                    "main",    "center", "form",   "address",  "caption",
                    "tbody",   "thead",  "tfoot",  "fieldset", "figcaption",
                    "body",    "html"}))
    return 1;
  return 0;
}

// <ul> or <ol>, opening or closing.
void list_tag(text_builder& out, open_elements& open, const tag& t) {
  // A list inside a list item continues it without a blank line.
  auto depth = open.ordered_lists.size() + open.deep_lists;
  bool nested = t.closing ? depth > 1 : depth > 0;
  out.line_break(nested ? 1 : 2);
  if (t.closing) {
    if (open.deep_lists > 0) {
      --open.deep_lists;
    } else if (!open.ordered_lists.empty()) {
      open.ordered_lists.pop_back();
      open.counters.pop_back();
    }
  } else if (open.ordered_lists.size() < max_nesting) {
    open.ordered_lists.push_back(t.name == "ol");
    open.counters.push_back(0);
  } else {
    ++open.deep_lists;
  }
}

// <li>: a line of its own, with a bullet or the next number.
void list_item(text_builder& out, open_elements& open, const tag& t) {
  out.line_break(1);
  if (t.closing)
    return;
  // Indented two spaces per level, at most `max_nesting` levels.
  auto depth = open.ordered_lists.empty() ? 1 : open.ordered_lists.size();
  std::string bullet(2 * (depth - 1), ' ');
  if (!open.ordered_lists.empty() && open.ordered_lists.back())
    bullet += std::to_string(++open.counters.back()) + ". ";
  else
    bullet += "- ";
  out.literal(bullet);
}

// <img>: its alt text, unless blank, stands in for it.
void image(text_builder& out, const tag& t) {
  auto alt = t.attribute("alt");
  bool blank = true;
  for (char ch : alt)
    blank = blank && is_ws(ch);
  if (!blank)
    out.literal("[" + alt + "]");
}

// <a> or </a>: ends the open link, if any, and opens the next.
void anchor(text_builder& out, open_elements& open, const tag& t) {
  if (open.link) {
    close_link(out, *open.link);
    open.link.reset();
    if (!t.closing)
      out.text(" ", false); // the next link's label is another word
  }
  if (!t.closing)
    open.link = open_link{t.attribute("href"), out.position()};
}

// Writes what a (not hidden) tag means for the text; unknown tags, such
// as <span> or <b>, mean nothing.
void show_tag(text_builder& out, open_elements& open, const tag& t) {
  const auto& name = t.name;
  if (name == "br") {
    out.hard_break();
    return;
  }
  if (name == "hr") {
    out.line_break(1);
    out.literal("----------");
    out.line_break(1);
    return;
  }
  if (name == "pre") {
    out.line_break(2);
    open.pre_depth += t.closing ? (open.pre_depth > 0 ? -1 : 0) : 1;
    return;
  }
  if (name == "ul" || name == "ol") {
    list_tag(out, open, t);
    return;
  }
  if (name == "li") {
    list_item(out, open, t);
    return;
  }
  if (auto breaks = block_breaks(name); breaks > 0) {
    out.line_break(breaks);
    return;
  }
  if (name == "td" || name == "th") {
    if (t.closing)
      out.text(" ", false);
    return;
  }
  if (name == "img" && !t.closing) {
    image(out, t);
    return;
  }
  if (name == "a")
    anchor(out, open, t);
}

} // namespace

std::string html_to_text(std::string_view input) {
  auto html = to_valid_utf8(input);
  text_builder out;
  open_elements open;
  size_t i = 0;
  while (i < html.size() && !out.full()) {
    count_work(1);
    if (html[i] != '<') {
      auto next = html.find('<', i);
      if (next == std::string::npos)
        next = html.size();
      out.text(decode_references(std::string_view{html}.substr(i, next - i)),
               open.pre_depth > 0);
      i = next;
      continue;
    }
    if (auto end = skip_markup(html, i); end != std::string_view::npos) {
      i = end;
      continue;
    }
    if (i + 1 >= html.size()
        || !(is_name_char(html[i + 1]) || html[i + 1] == '/')) {
      out.text("<", open.pre_depth > 0); // a bare "<" in text
      ++i;
      continue;
    }
    tag t;
    i = parse_tag(html, i, t);
    if (!t.closing && is_hidden(t.name))
      i = skip_hidden(html, i, t.name); // its content is not text
    else
      show_tag(out, open, t);
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
