// SPDX-License-Identifier: Apache-2.0
#include "postern/mime/compose.hpp"

#include "postern/mime/charset.hpp"
#include "postern/mime/header.hpp"
#include "postern/mime/html.hpp"
#include "postern/mime/limits.hpp"
#include "postern/mime/work.hpp"
#include "postern/text.hpp"

#include <unordered_set>

namespace postern::mime {

namespace {

std::string_view trim_left(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  return text;
}

/// Whether `subject` starts with one of `prefixes` (case-insensitive),
/// optionally with a counter ("Re[2]:", "Re(2):").
bool has_prefix(std::string_view subject,
                std::initializer_list<std::string_view> prefixes) {
  subject = trim_left(subject);
  for (auto p : prefixes) {
    if (subject.size() < p.size() || !iequals(subject.substr(0, p.size()), p))
      continue;
    auto rest = subject.substr(p.size());
    if (!rest.empty() && (rest.front() == '[' || rest.front() == '(')) {
      auto close = rest.find_first_of("])");
      if (close == std::string_view::npos)
        continue;
      rest = rest.substr(close + 1);
    }
    if (!rest.empty() && rest.front() == ':')
      return true;
  }
  return false;
}

/// Whether `addr` is one of the account's own addresses (few: at most
/// max_account_aliases + 1).
bool is_own(std::string_view addr, const std::vector<std::string>& own) {
  for (auto& o : own)
    if (iequals(addr, o))
      return true;
  return false;
}

/// Appends the addresses of `from` that are neither the account's own nor
/// already in `to` or `also`: one hash set, so a reply to all of a message
/// with a hundred thousand recipients stays linear.
void add_unique(std::vector<address>& to, const std::vector<address>& from,
                const std::vector<std::string>& own,
                const std::vector<address>* also) {
  std::unordered_set<std::string> seen;
  for (auto& o : own)
    seen.insert(to_lower(o));
  for (auto& a : to)
    seen.insert(to_lower(a.address));
  if (also)
    for (auto& a : *also)
      seen.insert(to_lower(a.address));
  detail::count_work(seen.size());
  for (auto& a : from) {
    detail::count_work(1);
    if (a.address.empty() || !seen.insert(to_lower(a.address)).second)
      continue;
    to.push_back(a);
  }
}

std::string describe_addresses(const std::vector<address>& list) {
  std::string out;
  for (auto& a : list) {
    if (!out.empty())
      out += ", ";
    out += a.name.empty() ? a.address : a.name + " <" + a.address + ">";
  }
  return out;
}

/// "2026-11-26T06:00:00Z" -> "2026-11-26 06:00 UTC".
std::string readable_date(std::string_view iso) {
  if (iso.size() >= 16 && iso[10] == 'T')
    return std::string{iso.substr(0, 10)} + " " + std::string{iso.substr(11, 5)}
           + " UTC";
  return std::string{iso};
}

std::string escape_html_text(std::string_view text) {
  std::string out;
  for (size_t start = 0;;) {
    auto nl = text.find('\n', start);
    append_html_escaped(out, text.substr(start, nl - start));
    if (nl == std::string_view::npos)
      return out;
    out += "<br>\n";
    start = nl + 1;
  }
}

/// The agent's plain text, derived from its HTML when it wrote only that.
void ensure_text(outgoing_message& msg) {
  if (msg.text.empty() && !msg.html.empty())
    msg.text = html_to_text(msg.html);
}

/// The agent's text, a blank line, then `appendix`.
std::string join_text(std::string_view text, std::string_view appendix) {
  std::string out{text};
  while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
    out.pop_back();
  if (!out.empty())
    out += "\n\n";
  out += appendix;
  return out;
}

/// The agent's HTML followed by `appendix` as an HTML block (or nothing
/// when the agent wrote no HTML).
std::string join_html(std::string_view html, std::string_view appendix,
                      bool as_quote) {
  if (html.empty())
    return {};
  std::string out{html};
  out += as_quote ? "\n<blockquote type=\"cite\">\n" : "\n<div>\n";
  out += escape_html_text(appendix);
  out += as_quote ? "</blockquote>\n" : "</div>\n";
  return out;
}

} // namespace

std::string reply_subject(std::string_view subject) {
  auto s = trim_left(subject);
  if (has_prefix(s, {"re", "aw", "sv", "vs", "antw", "odp", "r"}))
    return std::string{s};
  return s.empty() ? std::string{"Re:"} : "Re: " + std::string{s};
}

std::string forward_subject(std::string_view subject) {
  auto s = trim_left(subject);
  if (has_prefix(s, {"fwd", "fw", "wg", "tr", "rv"}))
    return std::string{s};
  return s.empty() ? std::string{"Fwd:"} : "Fwd: " + std::string{s};
}

void derive_reply_recipients(const original_message& original, bool reply_all,
                             const std::vector<std::string>& own_address,
                             std::vector<address>& to,
                             std::vector<address>& cc) {
  const auto* primary = original.reply_to.empty() ? &original.from
                                                  : &original.reply_to;
  bool all_own = true;
  for (auto& a : *primary)
    all_own = all_own && is_own(a.address, own_address);
  // Answering one's own message (from Sent) continues with its recipients.
  if (all_own)
    primary = &original.to;
  add_unique(to, *primary, own_address, nullptr);
  if (!reply_all)
    return;
  add_unique(cc, original.to, own_address, &to);
  add_unique(cc, original.cc, own_address, &to);
  if (to.empty() && !cc.empty()) {
    to.push_back(cc.front());
    cc.erase(cc.begin());
  }
}

std::string quoted_original(const original_message& original) {
  std::string out = "On ";
  out += original.date.empty() ? std::string{"an earlier day"}
                               : readable_date(original.date);
  out += ", ";
  out += original.from.empty() ? std::string{"someone"}
                               : describe_addresses(original.from);
  out += " wrote:\n";
  // The quote adds at most two bytes per line: cut the original so the
  // whole stays within `max_text_bytes`.
  std::string_view text = original.text;
  bool cut = false;
  auto room = max_text_bytes / 2 > out.size() ? max_text_bytes / 2 - out.size()
                                              : size_t{0};
  if (text.size() > room) {
    text = truncate_utf8(text, room);
    cut = true;
  }
  size_t pos = 0;
  while (pos <= text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos)
      end = text.size();
    auto line = text.substr(pos, end - pos);
    // Quoted lines nest without a space: ">> older", "> newer".
    out += !line.empty() && line.front() == '>' ? ">"
           : line.empty()                       ? ">"
                                                : "> ";
    out += line;
    out += '\n';
    detail::count_work(line.size() + 1);
    pos = end + 1;
  }
  if (cut)
    out += "> " + cut_notice("the rest of the original is not quoted") + "\n";
  return out;
}

std::string forwarded_original(const original_message& original) {
  std::string out = "---------- Forwarded message ----------\n";
  if (!original.from.empty())
    out += "From: " + describe_addresses(original.from) + "\n";
  if (!original.date.empty())
    out += "Date: " + readable_date(original.date) + "\n";
  out += "Subject: " + original.subject + "\n";
  if (!original.to.empty())
    out += "To: " + describe_addresses(original.to) + "\n";
  if (!original.cc.empty())
    out += "Cc: " + describe_addresses(original.cc) + "\n";
  out += "\n";
  if (original.text.size() > max_text_bytes) {
    out += truncate_utf8(original.text, max_text_bytes);
    out += "\n" + cut_notice("the rest of the original is not forwarded");
  } else {
    out += original.text;
  }
  return out;
}

std::string addressed_to(const original_message& original,
                         const std::vector<std::string>& own_addresses) {
  for (auto* list : {&original.to, &original.cc}) {
    detail::count_work(list->size());
    for (auto& a : *list)
      for (auto& o : own_addresses)
        if (iequals(a.address, o))
          return o;
  }
  return {};
}

outgoing_message compose_reply(const original_message& original,
                               const compose_request& request,
                               const std::vector<std::string>& own_address) {
  auto msg = request.message;
  std::vector<address> to;
  std::vector<address> cc;
  derive_reply_recipients(original, request.reply_all, own_address, to, cc);
  // Recipients the agent added come after the derived ones.
  add_unique(to, msg.to, own_address, nullptr);
  add_unique(cc, msg.cc, own_address, &to);
  msg.to = std::move(to);
  msg.cc = std::move(cc);
  if (msg.subject.empty())
    msg.subject = reply_subject(original.subject);
  msg.in_reply_to = original.message_id;
  msg.references = original.references;
  if (request.quote) {
    ensure_text(msg);
    auto quote = quoted_original(original);
    msg.html = join_html(msg.html, quote, true);
    msg.text = join_text(msg.text, quote);
  }
  return msg;
}

outgoing_message compose_forward(const original_message& original,
                                 const compose_request& request) {
  auto msg = request.message;
  if (msg.subject.empty())
    msg.subject = forward_subject(original.subject);
  ensure_text(msg);
  auto forwarded = forwarded_original(original);
  msg.html = join_html(msg.html, forwarded, false);
  msg.text = join_text(msg.text, forwarded);
  auto files = original.attachments;
  for (auto& a : msg.attachments)
    files.push_back(a);
  msg.attachments = std::move(files);
  return msg;
}

} // namespace postern::mime
