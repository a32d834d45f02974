// SPDX-License-Identifier: Apache-2.0
// Messages and parts as MCP resources: resources/read of the postern://
// URIs read_message and get_attachment hand out. A read is the same work
// as those tools (same mail requests, limits and audit), answered as
// resource contents instead of a CallToolResult.

#include "mcp_method_support.hpp"
#include "postern/mcp/resources.hpp"

#include <rapidjson/document.h>

namespace postern::http {

namespace {

using endpoint_ptr = std::shared_ptr<mcp_endpoint::impl>;
using mcp::find_member;
using mcp::string_of;

constexpr std::string_view read_action = "resource.read";

/// {"uri": ...} as error data, so a client can tell which read failed.
std::string uri_data(std::string_view uri) {
  mcp::json_writer w;
  w.begin_object().key("uri").string(uri).end_object();
  return w.take();
}

/// Outcomes of a run that mean the URI names nothing (any more): answered
/// as "resource not found", -32602 since SEP-2164 (as the TypeScript SDK).
bool is_missing(const std::string& outcome) {
  return outcome == "no_such_folder" || outcome == "no_such_message"
         || outcome == "no_such_part";
}

/// {"contents":[{uri, mimeType, text|blob}]}.
std::string contents(std::string_view uri, std::string_view mime_type,
                     std::string_view member, std::string_view value) {
  mcp::json_writer w;
  w.begin_object()
    .key("contents")
    .begin_array()
    .begin_object()
    .key("uri")
    .string(uri)
    .key("mimeType")
    .string(mime_type)
    .key(member)
    .string(value)
    .end_object()
    .end_array()
    .end_object();
  return w.take();
}

/// The resource contents of a finished read_message or get_attachment
/// run, or the JSON-RPC error its failure is.
mcp_reply answer_read(const std::string& uri, bool part,
                      const std::string& call_result,
                      const std::string& outcome, const mcp_context& ctx,
                      const mcp::message& msg) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(call_result.data(),
                                                   call_result.size());
  auto content = doc.HasParseError() ? nullptr : find_member(doc, "content");
  const rapidjson::Value* first = content && content->IsArray()
                                      && !content->Empty()
                                    ? &(*content)[0]
                                    : nullptr;
  auto text = first ? find_member(first, "text") : nullptr;
  if (!text || !text->IsString())
    return method_error(msg, mcp::rpc::internal_error,
                        "Internal error: the message could not be read",
                        uri_data(uri));
  if (auto failed = find_member(doc, "isError");
      failed && failed->IsBool() && failed->GetBool())
    return method_error(msg,
                        is_missing(outcome) ? mcp::rpc::invalid_params
                                            : mcp::rpc::internal_error,
                        (is_missing(outcome) ? "Resource not found: "
                                             : "The resource could not be "
                                               "read: ")
                          + std::string{string_of(*text)},
                        uri_data(uri));
  if (!part)
    return method_result(ctx, msg,
                         contents(uri, "application/json", "text",
                                  string_of(*text)));
  auto structured = find_member(doc, "structuredContent");
  auto kind = structured ? find_member(structured, "kind") : nullptr;
  auto mime_type = structured ? find_member(structured, "mimeType") : nullptr;
  if (!kind || !kind->IsString() || !mime_type || !mime_type->IsString())
    return method_error(msg, mcp::rpc::internal_error,
                        "Internal error: the part could not be read",
                        uri_data(uri));
  auto k = string_of(*kind);
  if (k == "text")
    if (auto t = find_member(structured, "text"); t && t->IsString())
      return method_result(ctx, msg,
                           contents(uri, string_of(*mime_type), "text",
                                    string_of(*t)));
  if (k == "image" || k == "file") {
    // The image's data, or the embedded resource's blob: base64 already.
    auto item = content->Size() > 1 ? &(*content)[1] : nullptr;
    auto holder = k == "file" && item ? find_member(item, "resource") : item;
    auto bytes = holder ? find_member(holder, k == "file" ? "blob" : "data")
                        : nullptr;
    if (bytes && bytes->IsString())
      return method_result(ctx, msg,
                           contents(uri, string_of(*mime_type), "blob",
                                    string_of(*bytes)));
  }
  if (k == "link") {
    // Above the inline limits: the run made a download link instead.
    auto url = find_member(structured, "url");
    auto note = find_member(structured, "note");
    mcp::json_writer data;
    data.begin_object().key("uri").string(uri);
    if (url && url->IsString())
      data.key("url").string(string_of(*url));
    if (auto at = find_member(structured, "expiresAt"); at && at->IsString())
      data.key("expiresAt").string(string_of(*at));
    data.end_object();
    return method_error(
      msg, mcp::rpc::internal_error,
      std::string{"The resource is too large to read inline"}
        + (note && note->IsString() ? " (" + std::string{string_of(*note)} + ")"
                                    : std::string{})
        + "; the person can download it from the url in this error's data "
          "until it expires.",
      data.str());
  }
  return method_error(msg, mcp::rpc::internal_error,
                      "Internal error: the part could not be read",
                      uri_data(uri));
}

} // namespace

void resources_list(const endpoint_ptr&, caf::event_based_actor*,
                    mcp_context& ctx, mcp::message& msg, mcp_reply_fn& reply) {
  if (find_member(msg.params, "cursor"))
    return reply(method_error(msg, mcp::rpc::invalid_params,
                              "Invalid params: unknown cursor"));
  reply(method_result(ctx, msg, R"({"resources":[]})"));
}

void resources_templates_list(const endpoint_ptr&, caf::event_based_actor*,
                              mcp_context& ctx, mcp::message& msg,
                              mcp_reply_fn& reply) {
  if (find_member(msg.params, "cursor"))
    return reply(method_error(msg, mcp::rpc::invalid_params,
                              "Invalid params: unknown cursor"));
  static const std::string templates = mcp::resource_templates_result();
  reply(method_result(ctx, msg, templates));
}

/// The checks in the order a client can fix them (URI, scope, rate,
/// account), each refusal past the URI audited, then the read.
void resources_read(const endpoint_ptr& ep, caf::event_based_actor* self,
                    mcp_context& ctx, mcp::message& msg, mcp_reply_fn& reply) {
  auto started = std::chrono::steady_clock::now();
  auto uri_value = find_member(msg.params, "uri");
  if (!uri_value || !uri_value->IsString())
    return reply(method_error(msg, mcp::rpc::invalid_params,
                              "Invalid params: resources/read needs the "
                              "resource's uri"));
  std::string uri{string_of(*uri_value)};
  std::string why;
  auto resource = mcp::parse_mail_resource(uri, why);
  if (!resource)
    return reply(method_error(msg, mcp::rpc::invalid_params,
                              "Resource not found: " + why,
                              uri_data(mcp::to_valid_utf8(
                                std::string_view{uri}.substr(0, 200)))));
  if (!has_scope(ctx.grant.scopes, scope::read)) {
    audit_call(*ep, ctx, nullptr, std::string{read_action},
               "insufficient_scope", started);
    return reply(
      insufficient_scope(*ep, ctx, msg, scope::read, "resources/read"));
  }
  if (auto v = ep->limiter.acquire(ctx.grant_key); !v.allowed) {
    if (v.first_refusal)
      audit_call(*ep, ctx, nullptr, std::string{read_action}, "rate_limited",
                 started);
    return reply(method_error(
      msg, mcp::rpc::server_error,
      "Too many requests: this connection may make "
        + std::to_string(ep->limiter.per_minute())
        + " tool calls and reads per minute. Retry in "
        + std::to_string(v.retry_after)
        + (v.retry_after == 1 ? " second." : " seconds."),
      uri_data(uri)));
  }
  // The URI names a place; whether this connection may read there is the
  // grant's to say. An account of another grant or another person reads
  // as missing, so a URI tells nothing about accounts it cannot reach.
  const grant_account* account = nullptr;
  for (auto& a : ctx.grant.accounts)
    if (a.id.value == resource->account)
      account = &a;
  if (!account) {
    audit_call(*ep, ctx, nullptr, std::string{read_action}, "no_such_account",
               started);
    return reply(method_error(msg, mcp::rpc::invalid_params,
                              "Resource not found: this connection does not "
                              "reach the email account this URI names; read "
                              "URIs the tools returned on this connection.",
                              uri_data(uri)));
  }
  mcp::tool_args args;
  bool part = !resource->part_id.empty();
  if (part) {
    mcp::get_attachment_args a;
    a.folder = resource->folder;
    a.uid = resource->uid;
    a.part_id = resource->part_id;
    args = std::move(a);
  } else {
    mcp::read_message_args a;
    a.folder = resource->folder;
    a.uids = {resource->uid};
    // As much text as read_message gives one message by default.
    a.window.max_length = 100000;
    args = std::move(a);
  }
  run_tool(ep, self, ctx, msg, std::string{read_action}, *account,
           std::move(args), started, reply,
           [uri, part](const std::string& call_result,
                       const std::string& outcome, const mcp_context& c,
                       const mcp::message& m) {
             return answer_read(uri, part, call_result, outcome, c, m);
           });
}

} // namespace postern::http
