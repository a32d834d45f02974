// SPDX-License-Identifier: Apache-2.0
#include "postern/mime/structure.hpp"

#include "postern/mime/charset.hpp"
#include "postern/mime/html.hpp"
#include "postern/mime/limits.hpp"
#include "postern/mime/transfer_encoding.hpp"
#include "postern/mime/work.hpp"

namespace postern::mime {

namespace {

bool is_message(const part& p) {
  return p.type == "message"
         && (p.subtype == "rfc822" || p.subtype == "global");
}

std::string filename_of(const part& p) {
  if (auto name = find_parameter(p.disposition_params, "filename"))
    return *name;
  if (auto name = find_parameter(p.params, "name"))
    return *name;
  return {};
}

bool is_named_or_attached(const part& p) {
  return p.disposition == "attachment" || !filename_of(p).empty();
}

bool is_readable_text(const part& p) {
  return p.type == "text" && (p.subtype == "plain" || p.subtype == "html")
         && !is_named_or_attached(p);
}

uint64_t estimate_decoded_size(const part& p) {
  if (p.encoding == "base64")
    // 76 characters plus CRLF carry 57 bytes.
    return p.size * 57 / 78;
  return p.size;
}

attachment make_attachment(const part& p) {
  attachment a;
  a.part_id = p.section.empty() ? "1" : p.section;
  a.mime_type = p.type + "/" + p.subtype;
  a.filename = filename_of(p);
  if (a.filename.empty() && is_message(p) && !p.headers.subject.empty())
    a.filename = p.headers.subject + ".eml";
  a.size = estimate_decoded_size(p);
  a.disposition = p.disposition;
  a.content_id = to_valid_utf8(p.content_id);
  return a;
}

text_step make_step(const part& p) {
  text_step s;
  s.section = p.section.empty() ? "1" : p.section;
  s.html = p.subtype == "html";
  if (auto charset = find_parameter(p.params, "charset"))
    s.charset = *charset;
  s.encoding = p.encoding;
  if (auto format = find_parameter(p.params, "format"))
    s.flowed = iequals(*format, "flowed");
  if (auto delsp = find_parameter(p.params, "delsp"))
    s.delete_space = iequals(*delsp, "yes");
  s.size = p.size;
  return s;
}

// Whether choosing `p` in an alternative would yield text of the kind
// (looking `max_nesting` levels deep at most).
bool yields(const part& p, std::string_view subtype, size_t depth = 0) {
  detail::count_work(1);
  if (p.type == "multipart") {
    if (depth >= max_nesting)
      return false;
    for (auto& child : p.children)
      if (yields(child, subtype, depth + 1))
        return true;
    return false;
  }
  return is_readable_text(p) && p.subtype == subtype;
}

// Calls `f` for every leaf (a part that is not a multipart) below `root`,
// in order, at any depth: iterative, so no tree is too deep for the stack.
template <class F>
void for_each_leaf(const part& root, F f) {
  std::vector<std::pair<const part*, size_t>> stack{{&root, 0}};
  while (!stack.empty()) {
    detail::count_work(1);
    auto& [p, next] = stack.back();
    if (p->type != "multipart") {
      auto* leaf = p;
      stack.pop_back();
      if (!f(*leaf))
        return;
      continue;
    }
    if (next == p->children.size()) {
      stack.pop_back();
      continue;
    }
    auto* child = &p->children[next++];
    stack.emplace_back(child, 0);
  }
}

void collect_attachments(const part& p, body_plan& plan, bool named_only) {
  for_each_leaf(p, [&](const part& leaf) {
    if (!named_only || is_named_or_attached(leaf) || is_message(leaf))
      plan.attachments.push_back(make_attachment(leaf));
    return true;
  });
}

std::string heading(const nested_headers& h) {
  std::string text = "---------- Forwarded message ----------\n";
  if (!h.from.empty())
    text += "From: " + h.from + "\n";
  if (!h.date.empty())
    text += "Date: " + h.date + "\n";
  if (!h.subject.empty())
    text += "Subject: " + h.subject + "\n";
  if (!h.to.empty())
    text += "To: " + h.to + "\n";
  return text;
}

void visit(const part& p, body_plan& plan, int depth) {
  detail::count_work(1);
  // Deeply nested structures are hostile or broken; list, don't recurse.
  if (depth > 20) {
    collect_attachments(p, plan, false);
    return;
  }
  if (p.type == "multipart") {
    if (p.children.empty())
      return;
    if (p.subtype == "alternative") {
      const part* chosen = nullptr;
      for (auto& child : p.children)
        if (chosen == nullptr && yields(child, "plain"))
          chosen = &child;
      for (auto& child : p.children)
        if (chosen == nullptr && yields(child, "html"))
          chosen = &child;
      if (chosen == nullptr)
        chosen = &p.children.back(); // the richest, per RFC 2046
      for (auto& child : p.children) {
        if (&child == chosen)
          visit(child, plan, depth + 1);
        else
          collect_attachments(child, plan, true);
      }
      return;
    }
    if (p.subtype == "related") {
      const part* root = &p.children.front();
      if (auto start = find_parameter(p.params, "start")) {
        std::string_view id = *start;
        if (id.size() >= 2 && id.front() == '<' && id.back() == '>')
          id = id.substr(1, id.size() - 2);
        for (auto& child : p.children)
          if (child.content_id == id)
            root = &child;
      }
      for (auto& child : p.children) {
        if (&child == root)
          visit(child, plan, depth + 1);
        else
          collect_attachments(child, plan, false);
      }
      return;
    }
    for (auto& child : p.children)
      visit(child, plan, depth + 1);
    return;
  }
  if (is_message(p)) {
    plan.attachments.push_back(make_attachment(p));
    text_step title;
    title.literal = heading(p.headers);
    plan.steps.push_back(std::move(title));
    for (auto& child : p.children)
      visit(child, plan, depth + 1);
    return;
  }
  if (is_readable_text(p)) {
    plan.steps.push_back(make_step(p));
    return;
  }
  plan.attachments.push_back(make_attachment(p));
}

// Keeps the first `max_text_parts` text parts to read; the others are
// listed as attachments (an agent can still fetch them), after a notice.
void cap_steps(body_plan& plan) {
  size_t parts = 0;
  size_t keep = plan.steps.size();
  for (size_t k = 0; k < plan.steps.size(); ++k)
    if (!plan.steps[k].section.empty() && ++parts > max_text_parts) {
      keep = k;
      break;
    }
  if (keep < plan.steps.size()) {
    size_t dropped = 0;
    for (size_t k = keep; k < plan.steps.size(); ++k) {
      auto& step = plan.steps[k];
      if (step.section.empty())
        continue; // a heading of a forwarded message
      attachment a;
      a.part_id = step.section;
      a.mime_type = step.html ? "text/html" : "text/plain";
      a.size = step.size;
      a.disposition = "inline";
      plan.attachments.push_back(std::move(a));
      ++dropped;
    }
    plan.steps.resize(keep);
    text_step notice;
    notice.literal = cut_notice(std::to_string(dropped)
                                + " more text parts are listed as "
                                  "attachments");
    plan.steps.push_back(std::move(notice));
  }
  if (plan.attachments.size() > max_attachments) {
    auto more = plan.attachments.size() - max_attachments;
    plan.attachments.resize(max_attachments);
    text_step notice;
    notice.literal
      = cut_notice(std::to_string(more) + " more attachments are not listed");
    plan.steps.push_back(std::move(notice));
  }
}

// RFC 3676 4.2: a line ending in a space continues on the next line, except
// the signature separator "-- ". Quote depth must match to join.
std::string unflow(std::string_view text, bool delete_space) {
  std::string out;
  bool open = false; // the previous line was soft: its paragraph goes on
  size_t open_depth = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos)
      end = text.size();
    auto line = text.substr(pos, end - pos);
    pos = end + 1;
    size_t depth = 0;
    while (depth < line.size() && line[depth] == '>')
      ++depth;
    auto content = line.substr(depth);
    if (!content.empty() && content.front() == ' ') // space-stuffing
      content.remove_prefix(1);
    if (!open || depth != open_depth) {
      if (open)
        out += '\n';
      out.append(depth, '>');
      if (depth > 0)
        out += ' ';
    }
    bool soft = !content.empty() && content.back() == ' ' && content != "-- ";
    if (soft && delete_space)
      content.remove_suffix(1);
    out += content;
    if (!soft)
      out += '\n';
    open = soft;
    open_depth = depth;
  }
  return out;
}

} // namespace

std::string normalize_line_ends(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out += '\n';
      if (i + 1 < text.size() && text[i + 1] == '\n')
        ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

body_plan plan_body(const part& root) {
  body_plan plan;
  visit(root, plan, 0);
  cap_steps(plan);
  return plan;
}

bool has_attachments(const part& root) {
  bool found = false;
  for_each_leaf(root, [&](const part& p) {
    found = is_message(p) || is_named_or_attached(p);
    return !found;
  });
  return found;
}

std::string decode_text(std::string_view raw, const text_step& step) {
  auto bytes = decode_transfer_encoding(raw, step.encoding);
  auto charset = step.charset;
  if (charset.empty() && step.html)
    charset = sniff_html_charset(bytes);
  auto text = normalize_line_ends(to_utf8(bytes, charset));
  if (step.html)
    return html_to_text(text);
  if (step.flowed)
    text = unflow(text, step.delete_space);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return text;
}

} // namespace postern::mime
