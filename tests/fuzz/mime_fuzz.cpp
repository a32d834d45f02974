// SPDX-License-Identifier: Apache-2.0
// MIME structure and decoding to text (mime/structure.cpp, with
// transfer_encoding, charset, html and header): a raw RFC 5322 message is
// split into a part tree the way an IMAP server's BODYSTRUCTURE describes
// it (the splitting here is the fuzzer's own, small and forgiving), then
// plan_body chooses the text and attachments and decode_text decodes every
// text step from the part's raw bytes, as read_message does.
#include "fuzz_check.hpp"
#include "postern/mime/charset.hpp"
#include "postern/mime/header.hpp"
#include "postern/mime/limits.hpp"
#include "postern/mime/structure.hpp"

#include <cstdint>
#include <map>
#include <string>

using namespace postern;

namespace {

// Deeper than plan_body's own limit (21 levels), to reach its flattening.
constexpr int max_depth = 40;
constexpr size_t max_parts = 300;

struct header_fields {
  std::map<std::string, std::string> values; // lowercase name -> raw value
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty()
         && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Splits an entity into its header fields (unfolded) and body.
std::string_view split_entity(std::string_view entity, header_fields& h) {
  std::string current;
  while (!entity.empty()) {
    auto nl = entity.find('\n');
    auto line = entity.substr(0, nl);
    entity = nl == std::string_view::npos ? std::string_view{}
                                          : entity.substr(nl + 1);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.empty())
      break;
    if ((line[0] == ' ' || line[0] == '\t') && !current.empty()) {
      h.values[current] += " ";
      h.values[current] += mime::to_valid_utf8(trim(line));
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      continue;
    current = mime::to_lower(trim(line.substr(0, colon)));
    // An IMAP BODYSTRUCTURE arrives as UTF-8 (convert_body makes it so).
    h.values[current] = mime::to_valid_utf8(trim(line.substr(colon + 1)));
  }
  return entity;
}

// "type/sub; a=b; c=\"d\"" -> value and parameters.
std::string split_params(std::string_view field,
                         std::vector<mime::parameter>& params) {
  auto semi = field.find(';');
  auto value = mime::to_lower(trim(field.substr(0, semi)));
  while (semi != std::string_view::npos && params.size() < 64) {
    field.remove_prefix(semi + 1);
    semi = field.find(';');
    auto item = trim(field.substr(0, semi));
    auto eq = item.find('=');
    if (eq == std::string_view::npos)
      continue;
    auto v = trim(item.substr(eq + 1));
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
      v = v.substr(1, v.size() - 2);
    params.emplace_back(mime::to_lower(trim(item.substr(0, eq))),
                        std::string{v});
  }
  return value;
}

struct splitter {
  std::map<std::string, std::string_view> bodies; // section -> raw bytes
  size_t parts = 0;

  // `section` is the part's IMAP section if it is not a multipart;
  // `prefix` that of its children if it is ("" at the top, "2." for the
  // multipart body of the message/rfc822 part 2), as convert_body does.
  mime::part parse(std::string_view entity, const std::string& section,
                   const std::string& prefix, int depth) {
    ++parts;
    header_fields h;
    auto body = split_entity(entity, h);
    mime::part p;
    p.section = section;
    auto type = split_params(h.values.count("content-type")
                               ? h.values["content-type"]
                               : std::string{"text/plain"},
                             p.params);
    auto slash = type.find('/');
    p.type = type.substr(0, slash);
    p.subtype = slash == std::string::npos ? "" : type.substr(slash + 1);
    p.encoding = mime::to_lower(trim(h.values["content-transfer-encoding"]));
    p.disposition = split_params(h.values["content-disposition"],
                                 p.disposition_params);
    p.content_id = std::string{trim(h.values["content-id"])};
    if (p.content_id.size() >= 2 && p.content_id.front() == '<')
      p.content_id = p.content_id.substr(1, p.content_id.size() - 2);
    p.size = body.size();
    auto boundary = mime::find_parameter(p.params, "boundary");
    if (p.type == "multipart" && boundary && !boundary->empty()
        && depth < max_depth) {
      p.section = prefix.empty() ? "" : prefix.substr(0, prefix.size() - 1);
      auto delimiter = "--" + *boundary;
      auto pos = body.find(delimiter);
      size_t n = 0;
      while (pos != std::string_view::npos && parts < max_parts) {
        auto start = body.find('\n', pos);
        if (start == std::string_view::npos)
          break;
        auto after = body.substr(pos + delimiter.size(), 2);
        if (after == "--")
          break;
        auto next = body.find(delimiter, start);
        auto child = body.substr(start + 1, next == std::string_view::npos
                                              ? std::string_view::npos
                                              : next - start - 1);
        auto number = prefix + std::to_string(++n);
        p.children.push_back(parse(child, number, number + ".", depth + 1));
        pos = next;
      }
      return p;
    }
    if (p.is("message", "rfc822") && depth < max_depth && parts < max_parts) {
      header_fields inner;
      split_entity(body, inner);
      p.headers.from = mime::decode_header(inner.values["from"]);
      p.headers.to = mime::decode_header(inner.values["to"]);
      p.headers.date = mime::decode_header(inner.values["date"]);
      p.headers.subject = mime::decode_header(inner.values["subject"]);
      p.children.push_back(
        parse(body, section + ".1", section + ".", depth + 1));
      return p;
    }
    bodies[section] = body;
    return p;
  }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto message = fuzz::as_text(data, size);
  splitter s;
  auto root = s.parse(message, "1", "", 0);
  auto plan = mime::plan_body(root);
  (void) mime::has_attachments(root);
  fuzz::require(plan.attachments.size() <= mime::max_attachments + 1,
                "attachments are capped");
  size_t texts = 0;
  for (auto& step : plan.steps) {
    if (step.section.empty()) {
      fuzz::require(mime::is_valid_utf8(step.literal), "a heading is UTF-8");
      continue;
    }
    ++texts;
    auto found = s.bodies.find(step.section);
    auto raw = found == s.bodies.end() ? std::string_view{} : found->second;
    auto text = mime::decode_text(raw, step);
    fuzz::require(mime::is_valid_utf8(text), "decoded text is UTF-8");
    fuzz::require(text.size() <= 3 * raw.size() + mime::max_text_bytes / 1024
                    || text.size() <= mime::max_text_bytes + 64,
                  "decoded text is bounded");
  }
  fuzz::require(texts <= mime::max_text_parts, "text parts are capped");
  for (auto& a : plan.attachments) {
    fuzz::require(mime::is_valid_utf8(a.filename), "a file name is UTF-8");
    fuzz::require(mime::is_valid_utf8(a.mime_type), "a type is UTF-8");
  }
  return 0;
}
