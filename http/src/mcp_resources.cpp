// SPDX-License-Identifier: Apache-2.0
// Messages and parts as MCP resources: resources/read of the postern://
// URIs read_message and get_attachment hand out. A read goes through the
// same checks and run as a tool call (scope, rate limit, audit, hang-up)
// and the same mail requests and limits as those two tools
// (start_resource_read), answered as resource contents.

#include "mcp_method_support.hpp"
#include "postern/mcp/resources.hpp"

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

/// The reply to a finished read: its contents, or the JSON-RPC error its
/// failure is.
mcp_reply answer_read(const std::string& uri, const tool_answer& ended,
                      const mcp_context& ctx, const mcp::message& msg) {
  if (ended.failure.empty())
    return method_result(ctx, msg, ended.result);
  if (is_missing(ended.outcome))
    return method_error(msg, mcp::rpc::invalid_params,
                        "Resource not found: " + ended.failure,
                        uri_data(uri));
  // A part too large to read inline says so in its sentence, and its data
  // carries the download link.
  if (!ended.failure_data.empty())
    return method_error(msg, mcp::rpc::internal_error, ended.failure,
                        ended.failure_data);
  return method_error(msg, mcp::rpc::internal_error,
                      "The resource could not be read: " + ended.failure,
                      uri_data(uri));
}

} // namespace

void resources_list(const endpoint_ptr&, caf::event_based_actor*,
                    mcp_context& ctx, mcp::message& msg, mcp_reply_fn& reply) {
  if (auto refusal = unknown_cursor(msg))
    return reply(std::move(*refusal));
  reply(method_result(ctx, msg, R"({"resources":[]})"));
}

void resources_templates_list(const endpoint_ptr&, caf::event_based_actor*,
                              mcp_context& ctx, mcp::message& msg,
                              mcp_reply_fn& reply) {
  if (auto refusal = unknown_cursor(msg))
    return reply(std::move(*refusal));
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
  auto account = ctx.grant.account_with_id(account_id{resource->account});
  if (!account) {
    audit_call(*ep, ctx, nullptr, std::string{read_action}, "no_such_account",
               started);
    return reply(method_error(msg, mcp::rpc::invalid_params,
                              "Resource not found: this connection does not "
                              "reach the email account this URI names; read "
                              "URIs the tools returned on this connection.",
                              uri_data(uri)));
  }
  run_tool(
    ep, self, ctx, msg, std::string{read_action}, *account,
    [ep, r = *resource](caf::event_based_actor* actor,
                        const tool_target& target, const tool_done_fn& done) {
      start_resource_read(ep, actor, target, r, done);
    },
    started, reply,
    [uri](const tool_answer& ended, const mcp_context& c,
          const mcp::message& m) { return answer_read(uri, ended, c, m); });
}

} // namespace postern::http
