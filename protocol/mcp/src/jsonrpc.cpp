// SPDX-License-Identifier: Apache-2.0
#include "postern/mcp/jsonrpc.hpp"

#include "postern/mcp/bounded_parse.hpp"
#include "postern/mcp/json.hpp"

#include <rapidjson/error/en.h>

#include <optional>

namespace postern::mcp {

namespace {

decode_result failure(int code, std::string text, std::string id = "null") {
  decode_result r;
  r.error.code = code;
  r.error.message = std::move(text);
  r.error.id = std::move(id);
  return r;
}

// RapidJSON 1.1 validates the bytes of a document but not what its \u
// escapes make: a low surrogate escape with no high one before it
// ("\uDC00") becomes the three bytes of a UTF-16 surrogate, which is not
// UTF-8, and an id made of one came back in the answer as invalid UTF-8
// (found by tests/fuzz jsonrpc). Walks keys and strings; the depth is
// bounded by the nesting check before parsing.
bool strings_are_utf8(const rapidjson::Value& v) {
  auto ok = [](const rapidjson::Value& s) {
    return is_valid_utf8({s.GetString(), s.GetStringLength()});
  };
  if (v.IsString())
    return ok(v);
  if (v.IsArray()) {
    for (auto& item : v.GetArray())
      if (!strings_are_utf8(item))
        return false;
  } else if (v.IsObject()) {
    for (auto& m : v.GetObject())
      if (!ok(m.name) || !strings_are_utf8(m.value))
        return false;
  }
  return true;
}

constexpr const char* unpaired_surrogate
  = "Parse error: a string holds an unpaired UTF-16 surrogate escape "
    "(\\uDC00 to \\uDFFF without a \\uD800 to \\uDBFF before it)";

} // namespace

size_t nesting_depth(std::string_view s, size_t limit) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = s[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > deepest) {
          deepest = depth;
          if (deepest > limit)
            return deepest;
        }
        break;
      case ']':
      case '}':
        if (depth > 0)
          --depth;
        break;
      default:
        break;
    }
  }
  return deepest;
}

namespace {

// The one parse of untrusted JSON: nesting refused before parsing, then
// RapidJSON's iterative parser (no recursion however the input looks) with
// UTF-8 validation, then the strings that \u escapes made. Returns the
// problem as a sentence, or nothing when `doc` holds the document.
std::optional<std::string> parse_untrusted(rapidjson::Document& doc,
                                           std::string_view text,
                                           size_t max_depth) {
  if (nesting_depth(text, max_depth) > max_depth)
    return "Parse error: the JSON is nested more than "
           + std::to_string(max_depth) + " levels deep";
  constexpr unsigned flags = rapidjson::kParseIterativeFlag
                             | rapidjson::kParseValidateEncodingFlag;
  doc.Parse<flags>(text.data(), text.size());
  if (doc.HasParseError())
    return std::string{"Parse error: "}
           + rapidjson::GetParseError_En(doc.GetParseError()) + " (at byte "
           + std::to_string(doc.GetErrorOffset()) + ")";
  // Without a \u escape every string is bytes RapidJSON already validated:
  // the walk is only for bodies that have one.
  if (text.find("\\u") != std::string_view::npos && !strings_are_utf8(doc))
    return std::string{unpaired_surrogate};
  return std::nullopt;
}

} // namespace

bool parse_bounded(rapidjson::Document& doc, std::string_view text,
                   size_t max_depth) {
  return !parse_untrusted(doc, text, max_depth);
}

const rapidjson::Value* message::meta() const {
  if (!params || !params->IsObject())
    return nullptr;
  auto i = params->FindMember("_meta");
  if (i == params->MemberEnd() || !i->value.IsObject())
    return nullptr;
  return &i->value;
}

decode_result decode(std::string_view body) {
  auto doc = std::make_shared<rapidjson::Document>();
  if (auto problem = parse_untrusted(*doc, body, max_json_depth))
    return failure(rpc::parse_error, std::move(*problem));
  if (doc->IsArray())
    return failure(rpc::invalid_request,
                   "Batch requests are not supported: JSON-RPC batching was "
                   "removed from MCP in 2025-06-18; send one message per "
                   "POST");
  if (!doc->IsObject())
    return failure(rpc::invalid_request,
                   "Invalid Request: the body must be one JSON-RPC object");
  // The id first, so later errors can carry it.
  std::string id = "null";
  bool has_id = false;
  if (auto i = doc->FindMember("id"); i != doc->MemberEnd()) {
    auto& v = i->value;
    if (v.IsString() || v.IsInt64() || v.IsUint64()) {
      id = to_json(v);
      has_id = true;
    } else {
      return failure(rpc::invalid_request,
                     "Invalid Request: id must be a string or an integer");
    }
  }
  auto version = doc->FindMember("jsonrpc");
  if (version == doc->MemberEnd() || !version->value.IsString()
      || std::string_view{version->value.GetString(),
                          version->value.GetStringLength()}
           != "2.0")
    return failure(rpc::invalid_request,
                   "Invalid Request: \"jsonrpc\" must be \"2.0\"", id);
  decode_result result;
  auto& msg = result.msg.emplace();
  msg.id = id;
  if (auto m = doc->FindMember("method"); m != doc->MemberEnd()) {
    if (!m->value.IsString())
      return failure(rpc::invalid_request,
                     "Invalid Request: method must be a string", id);
    msg.method.assign(m->value.GetString(), m->value.GetStringLength());
    msg.kind = has_id ? message_kind::request : message_kind::notification;
    if (auto p = doc->FindMember("params"); p != doc->MemberEnd())
      msg.params = &p->value;
  } else if (has_id && (doc->HasMember("result") || doc->HasMember("error"))) {
    msg.kind = message_kind::response;
  } else {
    return failure(rpc::invalid_request,
                   "Invalid Request: a message needs a method (request or "
                   "notification) or a result/error with an id (response)",
                   id);
  }
  msg.doc = std::move(doc);
  return result;
}

std::string make_result(std::string_view id, std::string_view result_json,
                        std::string_view leading_fields) {
  std::string out;
  out.reserve(result_json.size() + id.size() + leading_fields.size() + 32);
  out += R"({"jsonrpc":"2.0","id":)";
  out += id;
  out += R"(,"result":)";
  if (!leading_fields.empty() && result_json.size() >= 2
      && result_json.front() == '{') {
    out += '{';
    out += leading_fields;
    if (result_json[1] != '}')
      out += ',';
    out += result_json.substr(1);
  } else {
    out += result_json;
  }
  out += '}';
  return out;
}

std::string make_error(std::string_view id, int code, std::string_view text,
                       std::string_view data_json) {
  json_writer w;
  w.begin_object()
    .key("jsonrpc")
    .string("2.0")
    .key("id")
    .raw(id)
    .key("error")
    .begin_object()
    .key("code")
    .integer(code)
    .key("message")
    .string(text);
  if (!data_json.empty())
    w.key("data").raw(data_json);
  w.end_object().end_object();
  return w.take();
}

} // namespace postern::mcp
