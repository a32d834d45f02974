// SPDX-License-Identifier: Apache-2.0
// FETCH (UID FLAGS), the command behind every listing, written and read by
// hand instead of through libetpan's parser. That parser tries each
// grammar alternative in turn with strncasecmp and allocates a node per
// token: ~20 000 instructions for one "* 5 FETCH (UID 9 FLAGS (\Seen))"
// line, a third of a whole list_messages call (issue 18). This reader does
// the same job in one pass over the response.
//
// It reads what libetpan would: lines, and after a line that ends in
// "{N}" CRLF outside the text of a status response, N bytes of literal and
// the rest of the response (the byte budget underneath counts all of it,
// as for libetpan). It understands the answers this command gets:
// "* N FETCH (...)" (UID and FLAGS; any other item, e.g. MODSEQ or
// X-GM-LABELS, is skipped by its shape: atom, number, quoted string,
// literal or nested list), "* N EXISTS", "* N EXPUNGE" and "* N RECENT"
// (which keep libetpan's record of the selection current), any other
// untagged response (ignored), "* BYE" (the server leaves), and the tagged
// OK, NO or BAD. Anything else is a protocol violation: the connection is
// dropped, as after a libetpan parse error.
#include "etpan.hpp"
#include "fetched.hpp"
#include "net.hpp"
#include "postern/error.hpp"
#include "postern/imap/session.hpp"

#include <cstdio>
#include <string_view>

namespace postern::imap {

namespace {

/// A set as IMAP writes it: "1:5,7,9:*" (0 stands for "*").
void append_set(std::string& out, const mailimap_set* set) {
  bool first = true;
  auto number = [&](uint32_t n) {
    if (n == 0)
      out += '*';
    else
      out += std::to_string(n);
  };
  for (auto* item : detail::items<mailimap_set_item>(set->set_list)) {
    if (!first)
      out += ',';
    first = false;
    number(item->set_first);
    if (item->set_last != item->set_first) {
      out += ':';
      number(item->set_last);
    }
  }
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto x = static_cast<unsigned char>(a[i]);
    auto y = static_cast<unsigned char>(b[i]);
    if (x >= 'a' && x <= 'z')
      x = static_cast<unsigned char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z')
      y = static_cast<unsigned char>(y - 'a' + 'A');
    if (x != y)
      return false;
  }
  return true;
}

/// A flag as libetpan names it: the system flags in their usual case,
/// other backslash flags and keywords as sent.
std::string canonical_flag(std::string_view flag) {
  static constexpr std::string_view system[]
    = {"\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft", "\\Recent"};
  for (auto name : system)
    if (iequals(flag, name))
      return std::string{name};
  return std::string{flag};
}

/// Reads one response (see the top of this file) over a cursor.
class response_reader {
public:
  explicit response_reader(std::string_view text) : s_(text) {
    // nop
  }

  bool at_end() const noexcept {
    return i_ >= s_.size();
  }

  char peek() const noexcept {
    return at_end() ? '\0' : s_[i_];
  }

  bool take(char c) noexcept {
    if (peek() != c)
      return false;
    ++i_;
    return true;
  }

  /// The bytes up to the next space, parenthesis, bracket or CRLF.
  std::string_view atom() noexcept {
    auto start = i_;
    while (!at_end()) {
      auto c = s_[i_];
      if (c == ' ' || c == '(' || c == ')' || c == '\r' || c == '\n'
          || c == '"' || c == '{' || c == '[' || c == ']')
        break;
      ++i_;
    }
    return s_.substr(start, i_ - start);
  }

  bool number(uint32_t& n) noexcept {
    uint64_t value = 0;
    auto start = i_;
    while (!at_end() && s_[i_] >= '0' && s_[i_] <= '9') {
      value = value * 10 + static_cast<uint64_t>(s_[i_] - '0');
      if (value > 0xFFFFFFFFull)
        return false;
      ++i_;
    }
    n = static_cast<uint32_t>(value);
    return i_ > start;
  }

  /// The rest of the line (without CRLF).
  std::string_view rest_of_line() noexcept {
    auto start = i_;
    while (!at_end() && s_[i_] != '\r' && s_[i_] != '\n')
      ++i_;
    return s_.substr(start, i_ - start);
  }

  /// Skips one value of an unknown item: an atom or number (with any
  /// "[...]" and "<...>" parts), a quoted string, a literal, or a
  /// parenthesized list of values. Nesting is bounded by the byte budget.
  bool skip_value(int depth = 0) noexcept {
    if (depth > 64)
      return false;
    if (take('(')) {
      while (!take(')')) {
        if (at_end() || !skip_value(depth + 1))
          return false;
        take(' ');
      }
      return true;
    }
    if (take('"')) {
      while (!at_end()) {
        auto c = s_[i_++];
        if (c == '\\' && !at_end())
          ++i_;
        else if (c == '"')
          return true;
      }
      return false;
    }
    if (take('{')) {
      uint32_t n = 0;
      if (!number(n) || !take('}'))
        return false;
      take('\r');
      if (!take('\n') || s_.size() - i_ < n)
        return false;
      i_ += n;
      return true;
    }
    return !item_name().empty();
  }

  /// An atom with any "[...]" part and what follows it ("BODY[1]<0>"),
  /// as FETCH items are named.
  std::string_view item_name() noexcept {
    auto start = i_;
    atom();
    if (take('[')) {
      while (!take(']')) {
        if (at_end() || peek() == '\r' || peek() == '\n')
          return {};
        ++i_;
      }
      atom();
    }
    return s_.substr(start, i_ - start);
  }

  /// "FLAGS (...)" after its name: the flags, each checked to be an atom
  /// (with a leading backslash for system flags).
  bool flags(std::vector<std::string>& out) {
    if (!take('('))
      return false;
    while (!take(')')) {
      auto start = i_;
      auto backslash = take('\\');
      if (atom().empty())
        return false;
      auto flag = s_.substr(start, i_ - start);
      if (backslash)
        out.push_back(canonical_flag(flag));
      else
        out.emplace_back(flag);
      if (!take(' ') && peek() != ')')
        return false;
    }
    return true;
  }

private:
  std::string_view s_;
  size_t i_ = 0;
};

/// "tag OK", "tag NO" or "tag BAD" (case as the server likes), or empty.
std::string_view status_word(response_reader& r) {
  auto word = r.atom();
  for (std::string_view w : {"OK", "NO", "BAD", "BYE", "PREAUTH"})
    if (iequals(word, w))
      return w;
  return {};
}

/// Whether a response line, up to `line_end`, is the text of a status
/// response ("* OK ...", "tag NO ...", "+ ..."), where libetpan reads no
/// literal: a "{N}" at its end is text.
bool is_status_text(std::string_view line) {
  if (!line.empty() && line.front() == '+')
    return true;
  auto sp = line.find(' ');
  if (sp == std::string_view::npos)
    return false;
  auto rest = line.substr(sp + 1);
  auto word = rest.substr(0, rest.find(' '));
  for (std::string_view w : {"OK", "NO", "BAD", "BYE", "PREAUTH"})
    if (iequals(word, w))
      return true;
  return false;
}

/// The size of the literal announced at the end of `line` ("{N}" CRLF or
/// "{N+}" CRLF, or with a bare LF), or -1 when there is none.
int64_t trailing_literal(std::string_view line) {
  auto end = line.size();
  if (end > 0 && line[end - 1] == '\n')
    --end;
  if (end > 0 && line[end - 1] == '\r')
    --end;
  if (end == 0 || line[end - 1] != '}')
    return -1;
  auto close = end - 1;
  auto digits_end = close;
  if (digits_end > 0 && line[digits_end - 1] == '+')
    --digits_end;
  auto start = digits_end;
  while (start > 0 && line[start - 1] >= '0' && line[start - 1] <= '9')
    --start;
  if (start == digits_end || start == 0 || line[start - 1] != '{'
      || digits_end - start > 10)
    return -1;
  int64_t n = 0;
  for (auto i = start; i < digits_end; ++i)
    n = n * 10 + (line[i] - '0');
  return n;
}

} // namespace

std::string session::next_tag() {
  ++imap_->imap_tag;
  char tag[16];
  std::snprintf(tag, sizeof tag,
                mailimap_is_163_workaround_enabled(imap_) ? "C%i" : "%i",
                imap_->imap_tag);
  return tag;
}

int session::read_one_response(std::string& response) {
  response.clear();
  auto* stream = imap_->imap_stream;
  for (bool first_line = true;; first_line = false) {
    auto* line = mailstream_read_line(stream, imap_->imap_stream_buffer);
    if (line == nullptr)
      return MAILIMAP_ERROR_STREAM;
    auto start = response.size();
    response.append(imap_->imap_stream_buffer->str,
                    imap_->imap_stream_buffer->len);
    std::string_view piece{response.data() + start, response.size() - start};
    if (piece.empty() || piece.back() != '\n')
      return MAILIMAP_ERROR_STREAM; // the server closed mid-line
    // Only the first line says whether this is a status text.
    if (first_line && is_status_text(piece))
      return MAILIMAP_NO_ERROR;
    auto n = trailing_literal(piece);
    if (n < 0)
      return MAILIMAP_NO_ERROR;
    // The budget already refused a literal above its limit.
    if (static_cast<uint64_t>(n) > budget_->limits().max_literal)
      return MAILIMAP_ERROR_PARSE;
    auto at = response.size();
    response.resize(at + static_cast<size_t>(n));
    size_t got = 0;
    while (got < static_cast<size_t>(n)) {
      auto r = mailstream_read(stream, response.data() + at + got,
                               static_cast<size_t>(n) - got);
      if (r <= 0)
        return MAILIMAP_ERROR_STREAM;
      got += static_cast<size_t>(r);
    }
  }
}

caf::expected<std::vector<session::flagged>>
session::fetch_flags(mailimap_set* set, bool by_uid) {
  static constexpr std::string_view action = "fetch the messages";
  if (imap_ == nullptr || imap_->imap_stream == nullptr)
    return command_error(MAILIMAP_ERROR_STREAM, action);
  start_call();
  auto tag = next_tag();
  std::string command = tag;
  command += by_uid ? " UID FETCH " : " FETCH ";
  append_set(command, set);
  command += " (UID FLAGS)\r\n";
  if (mailstream_write(imap_->imap_stream, command.data(), command.size())
        != static_cast<ssize_t>(command.size())
      || mailstream_flush(imap_->imap_stream) != 0)
    return command_error(MAILIMAP_ERROR_STREAM, action);
  std::vector<flagged> result;
  std::string response;
  std::string_view tag_view{tag};
  auto violation = [&] { return command_error(MAILIMAP_ERROR_PARSE, action); };
  auto server_says = [&](std::string_view text) {
    return sanitize_server_text(without_secrets(std::string{text}));
  };
  for (;;) {
    if (auto rc = read_one_response(response); rc != MAILIMAP_NO_ERROR)
      return command_error(rc, action);
    response_reader r{response};
    if (r.take('*')) {
      if (!r.take(' '))
        return violation();
      if (r.peek() < '0' || r.peek() > '9') {
        // FLAGS, OK [HIGHESTMODSEQ ...], CAPABILITY, ...: nothing this
        // command needs, except a server that leaves.
        if (status_word(r) == "BYE") {
          r.take(' ');
          auto text = server_says(r.rest_of_line());
          close_stream();
          return caf::make_error(
            ec::connection_failed,
            "The IMAP server " + host_ + ":" + std::to_string(port_)
              + " closed the connection" + (text.empty() ? "" : ": " + text));
        }
        continue;
      }
      uint32_t n = 0;
      if (!r.number(n) || !r.take(' '))
        return violation();
      auto what = r.atom();
      auto* selection = imap_->imap_selection_info;
      if (iequals(what, "EXISTS")) {
        if (selection != nullptr) {
          selection->sel_exists = n;
          selection->sel_has_exists = 1;
        }
        continue;
      }
      if (iequals(what, "EXPUNGE")) {
        if (selection != nullptr && selection->sel_exists > 0)
          --selection->sel_exists;
        continue;
      }
      if (iequals(what, "RECENT")) {
        if (selection != nullptr) {
          selection->sel_recent = n;
          selection->sel_has_recent = 1;
        }
        continue;
      }
      if (!iequals(what, "FETCH"))
        continue; // another numbered response: nothing here
      if (!r.take(' ') || !r.take('('))
        return violation();
      flagged f;
      f.seq = n;
      while (!r.take(')')) {
        auto name = r.item_name();
        if (name.empty() || !r.take(' '))
          return violation();
        if (iequals(name, "UID")) {
          if (!r.number(f.uid))
            return violation();
        } else if (iequals(name, "FLAGS")) {
          f.flags.clear();
          if (!r.flags(f.flags))
            return violation();
        } else if (!r.skip_value()) {
          return violation();
        }
        if (!r.take(' ') && r.peek() != ')')
          return violation();
      }
      // An update of a message's flags may come without its UID.
      if (f.uid != 0)
        result.push_back(std::move(f));
      continue;
    }
    if (r.take('+'))
      return violation(); // nothing was asked to continue
    auto got_tag = r.atom();
    if (got_tag != tag_view || !r.take(' '))
      return violation();
    auto status = status_word(r);
    r.take(' ');
    if (status == "OK")
      return result;
    auto text = server_says(r.rest_of_line());
    if (status == "NO")
      return caf::make_error(ec::server_refused,
                             "The IMAP server could not " + std::string{action}
                               + (text.empty() ? "" : ": " + text));
    if (status == "BAD")
      return caf::make_error(ec::server_refused,
                             "The IMAP server rejected the command to "
                               + std::string{action}
                               + (text.empty() ? "" : ": " + text));
    return violation();
  }
}

} // namespace postern::imap
