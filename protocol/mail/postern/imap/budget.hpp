// SPDX-License-Identifier: Apache-2.0
#pragma once

// Byte budgets on what an IMAP or SMTP server sends. libetpan buffers whole
// responses and allocates a literal's announced size before reading it, so
// the bytes are checked as they arrive, below libetpan (see budget_stream),
// and a server over budget gets its connection dropped instead of making
// the process allocate what it claims.

#include <cstdint>
#include <string>
#include <string_view>

namespace postern::imap {

/// Limits on what one connection's server may send. Zero means "no limit"
/// for every field (tests and benchmarks use that to show the old
/// behaviour).
struct budget_limits {
  /// Largest literal ({N}) in a response (IMAP_MAX_LITERAL_BYTES).
  uint64_t max_literal = 4 * 1024 * 1024;
  /// Largest response: one tagged or untagged IMAP response with its
  /// literals, or one SMTP reply with its continuation lines
  /// (IMAP_MAX_RESPONSE_BYTES, SMTP_MAX_REPLY_BYTES).
  uint64_t max_response = 8 * 1024 * 1024;
  /// Most bytes the server may send in answer to one command
  /// (IMAP_MAX_OPERATION_BYTES, SMTP_MAX_OPERATION_BYTES).
  uint64_t max_operation = 64 * 1024 * 1024;
  /// Most items in one answer (IMAP_MAX_ITEMS): space-separated tokens of
  /// one response (the UIDs of a SEARCH) and responses to one command (the
  /// lines of a LIST, the FETCH responses of a listing).
  uint64_t max_items = 250000;
  /// Deepest nesting of parentheses in one response (BODYSTRUCTURE is
  /// parsed recursively; this keeps the parser's stack small).
  uint64_t max_depth = 256;

  /// The SMTP defaults: 64 KiB per reply, 1 MiB per command.
  static budget_limits smtp_defaults() {
    budget_limits l;
    l.max_literal = 0;
    l.max_response = 64 * 1024;
    l.max_operation = 1024 * 1024;
    l.max_items = 0;
    l.max_depth = 0;
    return l;
  }

  /// No limit at all (the behaviour before budgets).
  static budget_limits unlimited() {
    return {0, 0, 0, 0, 0};
  }
};

/// Which budget a server exceeded.
enum class budget_kind : uint8_t {
  none,
  literal,
  response,
  operation,
  items,
  operation_items,
  depth,
};

/// What a server did that was over budget: `amount` it sent (or announced,
/// for a literal), more than `limit`.
struct budget_violation {
  budget_kind kind = budget_kind::none;
  uint64_t amount = 0;
  uint64_t limit = 0;
  /// What the items were, for operation_items ("folders"), or null.
  const char* noun = nullptr;

  explicit operator bool() const noexcept {
    return kind != budget_kind::none;
  }
};

/// Counts the bytes a server sends and finds the structure that matters for
/// memory: response boundaries (CRLF outside a literal), literal headers
/// ("{N}" or "~{N}" right before CRLF), quoted strings, parentheses and
/// items. A literal is checked when its header's CRLF arrives, before any
/// byte of it is handed on, so libetpan never sees an oversized one.
///
/// Work and memory are linear in the input and constant per byte; the
/// tracker keeps no data, only counters. A violation is sticky: every later
/// consume() fails too (the connection must be dropped).
class budget_tracker {
public:
  /// IMAP responses, or SMTP replies ("250-..." lines up to "250 ...").
  enum class syntax : uint8_t { imap, smtp };

  explicit budget_tracker(syntax s = syntax::imap, budget_limits limits = {});

  /// Accounts for `size` bytes just received; false when they exceed a
  /// budget (then violation() says which, and nothing of them may be
  /// passed on).
  bool consume(const char* data, size_t size);

  /// consume(), and defuses (IMAP only) two shapes that crash libetpan
  /// 1.9.4's parser, by rewriting one byte in place: a "(" inside a
  /// response code of the greeting (libetpan parses the greeting without
  /// a parser context and dereferences null on a string there, e.g.
  /// "[BADCHARSET (UTF-8)]"), and the "(" of "[PERMANENTFLAGS (" (a list
  /// whose first flag does not parse made it free a null list; fixed
  /// upstream after 1.9.4). Either "(" becomes a space: the code then
  /// parses as an unknown one, which Postern does not read. Bytes in
  /// literals and quoted strings are never changed. In SMTP replies, a tab
  /// becomes a space: a tab among the AUTH mechanisms of an EHLO reply made
  /// libetpan 1.9.4's mailesmtp_parse_ehlo loop forever. And the last
  /// letter of an "[ALERT" or "[PARSE" code becomes "_": libetpan copies
  /// the text after these two without checking there is one, and
  /// "2 NO [ALERT]" alone crashed it; Postern reads neither. (The bytes
  /// after a "{N}" that ends the text of a status response or continuation
  /// request are scanned as lines, not skipped as a literal: libetpan's
  /// parser reads them as new responses.)
  bool consume_and_defuse(char* data, size_t size);

  /// A new command starts: resets the per-operation counters and any
  /// per-operation item cap set with limit_operation_items().
  void begin_operation() noexcept;

  /// Caps the untagged responses of the current operation below max_items
  /// (e.g. the folders of one LIST); `noun` names them in the error
  /// ("folders"). begin_operation() lifts it.
  void limit_operation_items(uint64_t n, const char* noun) noexcept;

  const budget_violation& violation() const noexcept {
    return violation_;
  }

  const budget_limits& limits() const noexcept {
    return limits_;
  }

  /// Bytes received since begin_operation().
  uint64_t operation_bytes() const noexcept {
    return op_bytes_;
  }

  /// Complete responses (IMAP) or reply lines (SMTP) since begin_operation().
  uint64_t operation_responses() const noexcept {
    return op_responses_;
  }

  /// Turns off the fast path that passes over a run of plain bytes inside a
  /// quoted string at once (most of an ENVELOPE), so that every byte goes
  /// through the scanner: the tests compare both readings of the same input.
  void scan_every_byte(bool on) noexcept {
    every_byte_ = on;
  }

private:
  bool fail(budget_kind kind, uint64_t amount, uint64_t limit);
  bool check_literal(uint64_t n);
  bool start_literal(uint64_t n);
  bool text_literal_header(uint64_t n);
  bool literal_without_crlf(uint64_t n);
  bool text_line() const noexcept;
  void reset_brace() noexcept;
  bool consume_bytes(const char* data, char* writable, size_t size);
  size_t plain_quoted_run(const char* data, size_t size) const noexcept;
  bool imap_byte(char c, char* slot);
  bool imap_response_end();
  bool imap_structure(char c, char* slot);
  void track_code(char c, char* slot) noexcept;
  void note_code_byte(char c, char* slot) noexcept;
  bool note_word(char c) noexcept;
  bool is_status_word() const noexcept;
  bool smtp_byte(char c, char* slot);
  void end_response() noexcept;

  syntax syntax_;
  bool every_byte_ = false;
  budget_limits limits_;
  budget_violation violation_;
  uint64_t op_item_cap_ = 0;
  const char* op_item_noun_ = nullptr;
  // Counters.
  uint64_t response_bytes_ = 0;
  uint64_t op_bytes_ = 0;
  uint64_t items_ = 0;
  uint64_t op_responses_ = 0;
  uint64_t depth_ = 0;
  uint64_t literal_left_ = 0;
  // Bytes after a "{N}" that ends a text line (see text_literal_header),
  // which libetpan reads as new lines or as a code's literal, and whether
  // the current line began among them (then no literal starts on it).
  uint64_t unclear_left_ = 0;
  bool unclear_line_ = false;
  // A line ended inside a quoted string outside the text of a status
  // response. libetpan then reads the next lines into the same string
  // (its quoted-char takes CR and LF) until a closing quote, so from then
  // on which bytes are quoted is unclear: every later line of the
  // connection is an unclear one. (RFC 3501 allows no CR or LF in a quoted
  // string: no real server gets here. The long imap fuzz run found a
  // quoted string opened at the end of one line and a "{99999999999}" four
  // lines later, outside the string for libetpan, inside one for a
  // line-by-line reading: libetpan allocated 2 GB.)
  bool quote_spans_lines_ = false;
  // Scanner state (IMAP).
  bool in_quote_ = false;
  bool escape_ = false;
  bool in_brace_ = false; // inside "{digits"
  bool brace_digits_ = false;
  bool brace_negative_ = false; // "{-": libetpan reads a size of 0
  uint64_t brace_number_ = 0;
  bool brace_closed_ = false; // "}" seen, expecting CR LF
  bool brace_cr_ = false;
  // Response codes ("[ATOM ...]"), for consume_and_defuse: inside one
  // (1: reading its atom, 2: after it), how much of "PERMANENTFLAGS" the
  // atom matched so far, and whether this is the connection's first
  // response (the greeting).
  uint8_t code_ = 0;
  uint8_t code_match_ = 0;
  // The first bytes of the code's atom (upper case) and its length so
  // far, to defuse "[ALERT]" and "[PARSE]" (see consume_and_defuse).
  char code_head_[5] = {};
  uint8_t code_length_ = 0;
  // Words outside lists so far in this response (up to 4; servers may
  // put more than one space between them), the second one (up to 7
  // bytes, upper case), and whether the open code is the one of a status
  // response.
  uint8_t words_ = 0;
  bool in_word_ = false;
  char second_word_[7] = {};
  uint8_t second_length_ = 0;
  bool status_code_ = false;
  // Whether the first word starts with "+" (a continuation request, whose
  // rest is text like a status response's).
  bool first_plus_ = false;
  bool permanentflags_ = false;
  bool greeting_ = true;
  // Scanner state (SMTP): position in the line and its fourth byte.
  uint64_t line_pos_ = 0;
  char fourth_ = 0;
};

/// The tool error's sentence for a violation: "The mail server for 'Work'
/// sent a 4.0 GB literal, more than Postern accepts (4 MiB); the connection
/// was dropped." `label` is the account's label (the server's role,
/// `protocol`, stands in when it is empty); no host, user or password.
std::string describe_violation(const budget_violation& v,
                               std::string_view label,
                               std::string_view protocol);

/// Sizes for people: "4.0 GB", "512 KB", "17 bytes" (decimal units, what a
/// server sent) and "4 MiB" (binary units, for limits).
std::string format_amount(uint64_t bytes);
std::string format_limit(uint64_t bytes);

} // namespace postern::imap
