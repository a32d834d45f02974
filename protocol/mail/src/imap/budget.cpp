// SPDX-License-Identifier: Apache-2.0
#include "postern/imap/budget.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <string_view>

namespace postern::imap {

namespace {

// A literal's size saturates here: far above any limit, far below overflow.
constexpr uint64_t literal_ceiling = uint64_t{1} << 60;

bool over(uint64_t value, uint64_t limit) {
  return limit != 0 && value > limit;
}

} // namespace

budget_tracker::budget_tracker(syntax s, budget_limits limits)
  : syntax_(s), limits_(limits) {
  // nop
}

bool budget_tracker::fail(budget_kind kind, uint64_t amount, uint64_t limit) {
  violation_.kind = kind;
  violation_.amount = amount;
  violation_.limit = limit;
  return false;
}

void budget_tracker::begin_operation() noexcept {
  op_bytes_ = 0;
  op_responses_ = 0;
  op_item_cap_ = 0;
  op_item_noun_ = nullptr;
}

void budget_tracker::limit_operation_items(uint64_t n,
                                           const char* noun) noexcept {
  // The tagged response ends with a CRLF too.
  op_item_cap_ = n + 1;
  op_item_noun_ = noun;
}

void budget_tracker::reset_brace() noexcept {
  in_brace_ = false;
  brace_negative_ = false;
  brace_digits_ = false;
  brace_number_ = 0;
  brace_closed_ = false;
  brace_cr_ = false;
}

void budget_tracker::end_response() noexcept {
  greeting_ = false;
  code_ = 0;
  words_ = 0;
  in_word_ = false;
  second_length_ = 0;
  first_plus_ = false;
  unclear_line_ = unclear_left_ > 0 || quote_spans_lines_;
  permanentflags_ = false;
  response_bytes_ = 0;
  items_ = 0;
  depth_ = 0;
  in_quote_ = false;
  escape_ = false;
  reset_brace();
}

bool budget_tracker::check_literal(uint64_t n) {
  // Checked before a byte of the literal is passed on: libetpan reserves
  // `n` bytes as soon as it parses the header.
  if (over(n, limits_.max_literal))
    return fail(budget_kind::literal, n, limits_.max_literal);
  if (over(response_bytes_ + n, limits_.max_response))
    return fail(budget_kind::response, response_bytes_ + n,
                limits_.max_response);
  if (over(op_bytes_ + n, limits_.max_operation))
    return fail(budget_kind::operation, op_bytes_ + n, limits_.max_operation);
  return true;
}

bool budget_tracker::start_literal(uint64_t n) {
  if (!check_literal(n))
    return false;
  response_bytes_ += n;
  op_bytes_ += n;
  literal_left_ = n;
  return true;
}

bool budget_tracker::text_literal_header(uint64_t n) {
  // After "OK", "NO", "BAD", "BYE", "PREAUTH" or "+" the rest of the line
  // is text for libetpan's parser, which reads no literal there: the bytes
  // after the CRLF start a new response (the long imap fuzz run found
  // "* OK x {7}" hiding "A NO [ALERT]" from the defusal). Only a code's
  // strings may be literals ("[BADCHARSET ({5}"), so the next `n` bytes may
  // be either: they are scanned as lines, as every byte outside literals,
  // and no literal starts on a line that begins among them. The size is
  // checked as a literal's: libetpan reserves it if it is one.
  if (!check_literal(n))
    return false;
  unclear_left_ = std::max(unclear_left_, n);
  return imap_response_end();
}

bool budget_tracker::literal_without_crlf(uint64_t n) {
  // libetpan also reads "{N}" not followed by CRLF as a literal, from after
  // any spaces (a workaround for Lotus Domino; the long imap fuzz run found
  // "{99999999999}rintable" making it allocate 2 GB). Held to the literal
  // limit; its bytes are scanned as unclear ones (it may be text too).
  if (!check_literal(n))
    return false;
  unclear_left_ = std::max(unclear_left_, n);
  unclear_line_ = true;
  return true;
}

bool budget_tracker::text_line() const noexcept {
  return first_plus_ || (words_ >= 2 && is_status_word());
}

namespace {

constexpr std::string_view permanentflags = "PERMANENTFLAGS";

// libetpan 1.9.4 copies the text after these codes with strdup() without
// checking it is there: "2 NO [ALERT]" (or "[PARSE]") with no text after
// the code crashed the process (found by tests/fuzz imap).
bool copies_text_unchecked(std::string_view head) noexcept {
  return head == "ALERT" || head == "PARSE";
}

} // namespace

void budget_tracker::note_code_byte(char c, char* slot) noexcept {
  if (code_length_ < sizeof(code_head_))
    code_head_[code_length_] = c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
  // Only the code of a status response ("tag OK [CODE": the third word,
  // outside lists, after OK, NO, BAD, BYE or PREAUTH): a folder or flag
  // named "[ALERT]" elsewhere stays as it is.
  if (++code_length_ == sizeof(code_head_) && slot != nullptr && status_code_
      && copies_text_unchecked({code_head_, sizeof(code_head_)}))
    *slot = '_'; // an unknown code, which libetpan keeps without copying
  code_length_ = std::min<uint8_t>(code_length_, sizeof(code_head_) + 1);
}

bool budget_tracker::note_word(char c) noexcept {
  if (depth_ != 0)
    return false;
  // libetpan is built with UNSTRICT_SYNTAX: any run of spaces and tabs
  // separates words.
  if (c == ' ' || c == '\t') {
    in_word_ = false;
    return false;
  }
  bool start = !in_word_;
  if (start) {
    in_word_ = true;
    words_ = static_cast<uint8_t>(std::min(words_ + 1, 4));
  }
  // A line whose first byte is "+" is a continuation request for libetpan,
  // whatever follows ("+ text", "+text", "+) text").
  if (words_ == 1 && start)
    first_plus_ = c == '+';
  if (words_ == 2 && second_length_ < sizeof(second_word_))
    second_word_[second_length_++] = c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
  else if (words_ == 2)
    second_length_ = sizeof(second_word_) + 1; // too long for any of them
  return start;
}

bool budget_tracker::is_status_word() const noexcept {
  if (second_length_ > sizeof(second_word_))
    return false;
  std::string_view w{second_word_, second_length_};
  return w == "OK" || w == "NO" || w == "BAD" || w == "BYE" || w == "PREAUTH";
}

void budget_tracker::track_code(char c, char* slot) noexcept {
  bool word_start = note_word(c);
  if (c == '[') {
    code_ = 1;
    code_match_ = 0;
    code_length_ = 0;
    status_code_ = word_start && words_ == 3 && is_status_word();
    permanentflags_ = false;
    return;
  }
  if (c == ']') {
    code_ = 0;
    permanentflags_ = false;
    return;
  }
  if (code_ != 1)
    return;
  // libetpan (UNSTRICT_SYNTAX) skips spaces and tabs before the code:
  // "2 NO [\tALERT]" is an ALERT without text too (the long imap fuzz run
  // found it after the first defusal).
  if ((c == ' ' || c == '\t') && code_length_ == 0)
    return;
  if (c == ' ') {
    permanentflags_ = code_match_ == permanentflags.size();
    code_ = 2;
    return;
  }
  note_code_byte(c, slot);
  if (code_match_ < permanentflags.size()
      && (c == permanentflags[code_match_]
          || c + 'A' - 'a' == permanentflags[code_match_]))
    ++code_match_;
  else
    code_match_ = 0xFF; // not PERMANENTFLAGS
}

bool budget_tracker::imap_byte(char c, char* slot) {
  if (brace_closed_) {
    // "{N}" must be followed by CRLF to be a literal header (a bare LF is
    // taken too: it ends the line for libetpan as well).
    if (c == '\r' && !brace_cr_) {
      brace_cr_ = true;
      return true;
    }
    auto n = brace_negative_ ? 0 : brace_number_;
    reset_brace();
    if (c == '\n') {
      if (text_line() || unclear_line_)
        return text_literal_header(n);
      return start_literal(n);
    }
    // (In the text of a status response, outside its code, it is text.)
    bool text = text_line() && code_ == 0 && !unclear_line_;
    if (!text && !literal_without_crlf(n))
      return false;
  }
  if (in_brace_) {
    // libetpan's literal header, with its UNSTRICT_SYNTAX: "{", spaces,
    // an optional "-" (then the size is 0), digits, spaces, "}".
    if (c >= '0' && c <= '9') {
      brace_digits_ = true;
      brace_number_ = std::min(
        brace_number_ * 10 + static_cast<uint64_t>(c - '0'), literal_ceiling);
      return true;
    }
    if (c == '}' && brace_digits_) {
      in_brace_ = false;
      brace_closed_ = true;
      // Checked at once, whatever follows: when a read ends right after
      // the "}", libetpan may already take it for a literal. (It parses
      // what it has when a later read fails: a quoted string that ran on
      // into a refused read failed, and the alternative parse of the same
      // bytes reserved the size of a "{99999999999}" at the buffer's end.
      // Found by the long imap fuzz run.) In the text of a status response
      // it is text unless a CRLF follows (see below).
      bool text = text_line() && code_ == 0 && !unclear_line_;
      return brace_negative_ || text || check_literal(brace_number_);
    }
    if (c == '-' && !brace_digits_ && !brace_negative_) {
      brace_negative_ = true;
      return true;
    }
    if (c != ' ' && c != '\t')
      reset_brace(); // (spaces go on to count as separators)
  }
  if (c == '\n')
    return imap_response_end();
  if (in_quote_) {
    // On an unclear line the quotes may be a literal's bytes, not a quoted
    // string for libetpan: a brace there is still checked.
    if (unclear_line_ && c == '{')
      in_brace_ = true;
    if (escape_)
      escape_ = false;
    else if (c == '\\')
      escape_ = true;
    else if (c == '"')
      in_quote_ = false;
    return true;
  }
  track_code(c, slot);
  return imap_structure(c, slot);
}

bool budget_tracker::imap_response_end() {
  // CRLF outside a literal: the response is complete, unless it is inside
  // a quoted string that libetpan continues on the next line.
  if (in_quote_ && (!text_line() || code_ != 0))
    quote_spans_lines_ = true;
  end_response();
  ++op_responses_;
  if (over(op_responses_, op_item_cap_)) {
    violation_.noun = op_item_noun_;
    return fail(budget_kind::operation_items, op_responses_, op_item_cap_ - 1);
  }
  if (over(op_responses_, limits_.max_items))
    return fail(budget_kind::operation_items, op_responses_, limits_.max_items);
  return true;
}

// A byte outside quotes and literals: quotes, literal headers, nesting and
// items.
bool budget_tracker::imap_structure(char c, char* slot) {
  switch (c) {
    case '"':
      in_quote_ = true;
      break;
    case '{':
      in_brace_ = true;
      break;
    case '(':
      if (slot != nullptr && code_ != 0 && (greeting_ || permanentflags_)) {
        *slot = ' '; // see consume_and_defuse
        break;
      }
      if (over(++depth_, limits_.max_depth))
        return fail(budget_kind::depth, depth_, limits_.max_depth);
      break;
    case ')':
      if (depth_ > 0)
        --depth_;
      break;
    case ' ':
      if (over(++items_, limits_.max_items))
        return fail(budget_kind::items, items_, limits_.max_items);
      break;
    default:
      break;
  }
  return true;
}

bool budget_tracker::smtp_byte(char c, char* slot) {
  if (c == '\t' && slot != nullptr)
    *slot = ' '; // see consume_and_defuse
  if (c == '\n') {
    // "250-..." continues the reply; "250 ..." (or a short line) ends it.
    bool last = line_pos_ < 4 || fourth_ != '-';
    line_pos_ = 0;
    fourth_ = 0;
    ++op_responses_;
    if (last)
      response_bytes_ = 0;
    return true;
  }
  if (++line_pos_ == 4)
    fourth_ = c;
  return true;
}

bool budget_tracker::consume(const char* data, size_t size) {
  return consume_bytes(data, nullptr, size);
}

bool budget_tracker::consume_and_defuse(char* data, size_t size) {
  return consume_bytes(data, data, size);
}

size_t budget_tracker::plain_quoted_run(const char* data,
                                        size_t size) const noexcept {
  // Inside a quoted string on a clear line, a byte other than a quote, a
  // backslash or LF only counts against the response and the operation:
  // imap_byte would change nothing else. Such a run ends before the byte
  // that would exceed a limit, so that byte fails as it always did.
  if (every_byte_ || syntax_ != syntax::imap || !in_quote_ || escape_
      || unclear_line_ || in_brace_ || brace_closed_ || literal_left_ > 0)
    return 0;
  auto room = [](uint64_t limit, uint64_t used) {
    return limit == 0      ? std::numeric_limits<uint64_t>::max()
           : limit > used ? limit - used
                           : 0;
  };
  size = std::min<uint64_t>(size, room(limits_.max_response, response_bytes_));
  size = std::min<uint64_t>(size, room(limits_.max_operation, op_bytes_));
  size_t n = 0;
  while (n < size && data[n] != '"' && data[n] != '\\' && data[n] != '\n')
    ++n;
  return n;
}

bool budget_tracker::consume_bytes(const char* data, char* writable,
                                   size_t size) {
  if (violation_)
    return false;
  size_t i = 0;
  while (i < size) {
    if (auto n = plain_quoted_run(data + i, size - i); n > 0) {
      response_bytes_ += n;
      op_bytes_ += n;
      unclear_left_ -= std::min<uint64_t>(unclear_left_, n);
      i += n;
      continue;
    }
    if (literal_left_ > 0) {
      // Counted when the literal was announced.
      auto n = static_cast<size_t>(
        std::min<uint64_t>(literal_left_, static_cast<uint64_t>(size - i)));
      literal_left_ -= n;
      i += n;
      continue;
    }
    ++response_bytes_;
    ++op_bytes_;
    if (unclear_left_ > 0)
      --unclear_left_; // before the byte: a CRLF may end the region
    if (over(response_bytes_, limits_.max_response))
      return fail(budget_kind::response, response_bytes_, limits_.max_response);
    if (over(op_bytes_, limits_.max_operation))
      return fail(budget_kind::operation, op_bytes_, limits_.max_operation);
    auto* slot = writable != nullptr ? writable + i : nullptr;
    auto ok = syntax_ == syntax::imap ? imap_byte(data[i], slot)
                                      : smtp_byte(data[i], slot);
    if (!ok)
      return false;
    ++i;
  }
  return true;
}

std::string format_amount(uint64_t bytes) {
  char buf[48];
  auto x = static_cast<double>(bytes);
  if (bytes >= 1000ull * 1000 * 1000)
    std::snprintf(buf, sizeof(buf), "%.1f GB", x / 1e9);
  else if (bytes >= 1000ull * 1000)
    std::snprintf(buf, sizeof(buf), "%.1f MB", x / 1e6);
  else if (bytes >= 1000)
    std::snprintf(buf, sizeof(buf), "%.0f KB", x / 1e3);
  else
    std::snprintf(buf, sizeof(buf), "%llu bytes",
                  static_cast<unsigned long long>(bytes));
  return buf;
}

std::string format_limit(uint64_t bytes) {
  constexpr uint64_t kib = 1024;
  auto whole = [&](uint64_t unit, const char* name) {
    return std::to_string(bytes / unit) + " " + name;
  };
  if (bytes >= kib * kib * kib && bytes % (kib * kib * kib) == 0)
    return whole(kib * kib * kib, "GiB");
  if (bytes >= kib * kib && bytes % (kib * kib) == 0)
    return whole(kib * kib, "MiB");
  if (bytes >= kib && bytes % kib == 0)
    return whole(kib, "KiB");
  return std::to_string(bytes) + " bytes";
}

std::string describe_violation(const budget_violation& v,
                               std::string_view label,
                               std::string_view protocol) {
  auto who = label.empty() ? "The " + std::string{protocol} + " server"
                           : "The mail server for '" + std::string{label} + "'";
  std::string what;
  switch (v.kind) {
    case budget_kind::literal:
      what = "sent a " + format_amount(v.amount)
             + " literal, more than Postern accepts (" + format_limit(v.limit)
             + ")";
      break;
    case budget_kind::response:
      what = "sent a response larger than Postern accepts ("
             + format_limit(v.limit) + ")";
      break;
    case budget_kind::operation:
      what = "sent more in answer to one command than Postern accepts ("
             + format_limit(v.limit) + ")";
      break;
    case budget_kind::items:
      what = "sent a response of more than " + std::to_string(v.limit)
             + " items, more than Postern accepts";
      break;
    case budget_kind::operation_items:
      if (v.noun != nullptr)
        what = "listed more than " + std::to_string(v.limit) + " " + v.noun
               + ", more than Postern accepts";
      else
        what = "sent more than " + std::to_string(v.limit)
               + " responses to one command, more than Postern accepts";
      break;
    case budget_kind::depth:
      what = "sent a response nested more than " + std::to_string(v.limit)
             + " levels deep, more than Postern accepts";
      break;
    case budget_kind::none:
      what = "stayed within its budget";
      break;
  }
  return who + " " + what + "; the connection was dropped.";
}

} // namespace postern::imap
