// SPDX-License-Identifier: Apache-2.0
// The MCP methods: one table from method name to handler, independent of
// the transport that delivered the message.

#include "mcp_method_support.hpp"
#include "mcp_tool_run.hpp"
#include "postern/clock.hpp"
#include "postern/directory_types.hpp"
#include "postern/error.hpp"
#include "postern/log.hpp"
#include "postern/mcp/json.hpp"
#include "postern/mcp/tools.hpp"
#include "postern/version.hpp"

#include <caf/sec.hpp>
#include <caf/send.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <unordered_map>

namespace postern::http {

namespace {

using mcp::find_member;
using mcp::string_of;

using endpoint_ptr = std::shared_ptr<mcp_endpoint::impl>;

mcp_reply result(const mcp_context& ctx, const mcp::message& msg,
                 std::string_view result_json) {
  return method_result(ctx, msg, result_json);
}

mcp_reply error(const mcp::message& msg, int code, std::string_view text) {
  return method_error(msg, code, text);
}

std::string tool_action(std::string_view tool) {
  return "tool." + std::string{tool};
}

// -- lifecycle
// ------------------------------------------------------------------

void initialize(const endpoint_ptr& ep, caf::event_based_actor*,
                mcp_context& ctx, mcp::message& msg, mcp_reply_fn& reply) {
  auto requested = find_member(msg.params, "protocolVersion");
  if (!requested || !requested->IsString())
    return reply(error(msg, mcp::rpc::invalid_params,
                       "Invalid params: initialize needs protocolVersion"));
  // The client's version if we speak it, else our newest (the client then
  // decides whether it can go on).
  std::string version{string_of(*requested)};
  if (!supported_mcp_version(version))
    version = std::string{mcp_versions[0]};
  std::string client_name;
  if (auto info = find_member(msg.params, "clientInfo"))
    if (auto name = find_member(info, "name"); name && name->IsString())
      client_name = mcp::to_valid_utf8(string_of(*name).substr(0, 100));
  // URL-mode elicitation came with 2025-11-25.
  bool url_elicitation = false;
  if (version >= "2025-11-25")
    if (auto caps = find_member(msg.params, "capabilities"))
      if (auto e = find_member(caps, "elicitation"); e && e->IsObject())
        if (auto url = find_member(e, "url"); url && url->IsObject())
          url_elicitation = true;
  auto why = mcp_session_table::refusal::none;
  auto id = ep->sessions.create(ctx.grant_key, version, client_name,
                                steady_now(), &why, url_elicitation);
  if (!id && why == mcp_session_table::refusal::user_full) {
    mcp_reply r = error(msg, mcp::rpc::server_error,
                        "Too Many Requests: this account holds "
                          + std::to_string(ep->settings.sessions_per_user)
                          + " open MCP sessions (MCP_SESSIONS_PER_USER); "
                            "end one (DELETE) or wait until an idle one "
                            "expires");
    r.status = bhttp::status::too_many_requests;
    return reply(std::move(r));
  }
  if (!id) {
    mcp_reply r = error(msg, mcp::rpc::server_error,
                        "Service Unavailable: too many open MCP sessions; "
                        "try again later");
    r.status = bhttp::status::service_unavailable;
    return reply(std::move(r));
  }
  POSTERN_DEBUG("mcp: session for grant {} ({}, {})", ctx.grant.grant.id.value,
                client_name, version);
  mcp::json_writer w;
  w.begin_object()
    .key("protocolVersion")
    .string(version)
    .key("capabilities")
    .begin_object()
    .key("tools")
    .begin_object()
    .key("listChanged")
    .boolean(false)
    .end_object()
    // Messages and parts the tools name by postern:// URI can be read;
    // none are listed and nothing changes under a subscription.
    .key("resources")
    .begin_object()
    .key("listChanged")
    .boolean(false)
    .key("subscribe")
    .boolean(false)
    .end_object()
    .end_object()
    .key("serverInfo");
  write_server_identity(w);
  w.key("instructions").string(mcp_instructions).end_object();
  auto r = result(ctx, msg, w.str());
  r.headers.emplace_back("Mcp-Session-Id", *id);
  reply(std::move(r));
}

void ping(const endpoint_ptr&, caf::event_based_actor*, mcp_context& ctx,
          mcp::message& msg, mcp_reply_fn& reply) {
  reply(result(ctx, msg, "{}"));
}

// -- tools
// ------------------------------------------------------------------------

void tools_list(const endpoint_ptr&, caf::event_based_actor*, mcp_context& ctx,
                mcp::message& msg, mcp_reply_fn& reply) {
  if (auto refusal = unknown_cursor(msg))
    return reply(std::move(*refusal));
  auto list = mcp::tools_list_result(ctx.grant.scopes,
                                     mcp::account_menu::of(ctx.grant));
  reply(result(ctx, msg, *list));
}

/// The account a tool call works in, or the sentence why there is none.
const grant_account* resolve_account(const access_grant& grant,
                                     const std::string& named,
                                     std::string& why) {
  if (auto found = grant.find_account(named))
    return found;
  std::string names;
  for (auto& a : grant.accounts) {
    if (!names.empty())
      names += ", ";
    names += mcp::quote(a.label);
  }
  if (named.empty())
    why = "This connection reaches several email accounts (" + names
          + ") and none is its default: name one in `account`.";
  else
    why = "This connection has no email account "
          + mcp::quote(std::string_view{named}.substr(0, 100))
          + "; its accounts are " + names + ".";
  return nullptr;
}

/// The answer of a call whose message waits for a yes, for a client that
/// takes URL-mode elicitation: first an elicitation/create request asking
/// the person to open the approval page, then the result, as one event
/// stream. The person's decision happens on that page, so the call does
/// not wait for the client's answer (a JSON-RPC response Postern accepts
/// with 202 and otherwise ignores).
mcp_reply with_approval_request(const held_for_yes& held,
                                const grant_account& account,
                                const std::string& result) {
  mcp::json_writer w;
  w.begin_object()
    .key("jsonrpc")
    .string("2.0")
    .key("id")
    .string("postern-approve-" + held.outbox_id)
    .key("method")
    .string("elicitation/create")
    .key("params")
    .begin_object()
    .key("mode")
    .string("url")
    .key("message")
    .string("Your agent wants to send an email from "
            + (account.address.empty() ? account.label : account.address)
            + ". Nothing is sent until you approve it: open Postern to "
              "review it and press Send or Discard.")
    .key("url")
    .string(held.approve_url)
    .key("elicitationId")
    .string(held.outbox_id)
    .end_object()
    .end_object();
  mcp_reply r;
  r.body = "event: message\ndata: " + w.take() + "\n\nevent: message\ndata: "
           + result + "\n\n";
  r.headers.emplace_back("Content-Type", "text/event-stream");
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Accel-Buffering", "no");
  return r;
}

/// tools/call: the checks in the order a client can fix them (name,
/// arguments' shape, scope, rate, arguments), each refusal audited, then
/// the run.
void tools_call(const endpoint_ptr& ep, caf::event_based_actor* self,
                mcp_context& ctx, mcp::message& msg, mcp_reply_fn& reply) {
  auto started = std::chrono::steady_clock::now();
  auto name = find_member(msg.params, "name");
  if (!name || !name->IsString())
    return reply(error(msg, mcp::rpc::invalid_params,
                       "Invalid params: tools/call needs the tool's name"));
  auto args = find_member(msg.params, "arguments");
  if (args && !args->IsObject())
    return reply(error(msg, mcp::rpc::invalid_params,
                       "Invalid params: arguments must be an object"));
  auto tool = mcp::find_tool(string_of(*name));
  if (!tool)
    return reply(
      error(msg, mcp::rpc::invalid_params,
            "Unknown tool: " + mcp::quote(string_of(*name).substr(0, 100))));
  // Until the arguments name one, refusals name the default account.
  auto fallback = ctx.grant.find_account({});
  if (!mcp::may_call(ctx.grant.scopes, *tool)) {
    audit_call(*ep, ctx, fallback, tool_action(tool->name),
               "insufficient_scope", started);
    return reply(
      insufficient_scope(*ep, ctx, msg, tool->required, tool->name));
  }
  if (auto v = ep->limiter.acquire(ctx.grant_key); !v.allowed) {
    // Only the first refusal in a row is audited: a client hammering the
    // limit must not turn into a flood of audit writes.
    if (v.first_refusal)
      audit_call(*ep, ctx, fallback, tool_action(tool->name), "rate_limited",
                 started);
    return reply(
      result(ctx, msg,
             mcp::tool_failure(
               "Too many tool calls: this connection may make "
               + std::to_string(ep->limiter.per_minute())
               + " per minute. Retry in " + std::to_string(v.retry_after)
               + (v.retry_after == 1 ? " second." : " seconds."))));
  }
  auto parsed = mcp::parse_arguments(*tool, args);
  if (!parsed.args) {
    audit_call(*ep, ctx, fallback, tool_action(tool->name),
               "invalid_arguments", started);
    return reply(result(ctx, msg, mcp::tool_failure(parsed.error)));
  }
  if (tool->about_accounts) {
    audit_call(*ep, ctx, nullptr, tool_action(tool->name), "ok", started);
    return reply(result(
      ctx, msg, mcp::tool_success(mcp::encode_accounts(ctx.grant))));
  }
  std::string why;
  auto account = resolve_account(ctx.grant, parsed.account, why);
  if (!account) {
    audit_call(*ep, ctx, nullptr, tool_action(tool->name), "no_such_account",
               started);
    return reply(result(ctx, msg, mcp::tool_failure(why)));
  }
  run_tool(ep, self, ctx, msg, tool_action(tool->name), *account,
           [ep, args = std::move(*parsed.args)](caf::event_based_actor* actor,
                                                const tool_target& target,
                                                const tool_done_fn& done) {
             start_tool_run(ep, actor, target, args, done);
           },
           started, reply);
}

const std::unordered_map<std::string_view, mcp_method_fn>& methods() {
  static const std::unordered_map<std::string_view, mcp_method_fn> table{
    {"initialize", initialize},
    {"ping", ping},
    {"tools/list", tools_list},
    {"tools/call", tools_call},
    {"resources/list", resources_list},
    {"resources/templates/list", resources_templates_list},
    {"resources/read", resources_read},
  };
  return table;
}

} // namespace

mcp_reply method_result(const mcp_context& ctx, const mcp::message& msg,
                        std::string_view result_json) {
  mcp_reply r;
  r.body = mcp::make_result(msg.id, result_json, ctx.result_fields);
  return r;
}

mcp_reply method_error(const mcp::message& msg, int code,
                       std::string_view text, std::string_view data_json) {
  mcp_reply r;
  r.body = mcp::make_error(msg.id, code, text, data_json);
  return r;
}

std::optional<mcp_reply> unknown_cursor(const mcp::message& msg) {
  if (!find_member(msg.params, "cursor"))
    return std::nullopt;
  return method_error(msg, mcp::rpc::invalid_params,
                      "Invalid params: unknown cursor");
}

void audit_call(const mcp_endpoint::impl& ep, const mcp_context& ctx,
                const grant_account* account, std::string action,
                std::string outcome,
                std::chrono::steady_clock::time_point started) {
  if (!ep.auditor)
    return;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::steady_clock::now() - started)
              .count();
  audit_event event;
  event.time_ms = unix_millis();
  event.user = ctx.grant.grant.user;
  event.actor = ctx.grant.grant.actor();
  event.action = std::move(action);
  // The id, not the label: the activity page names it as it is named then.
  event.target = (account ? "account " + account->id.value + ", "
                          : std::string{})
                 + "grant " + ctx.grant.grant.id.value;
  // audit_event has no duration field: it rides along with the outcome.
  event.outcome = outcome + " (" + std::to_string(ms) + " ms)";
  event.address = ctx.client_address;
  ep.audit(std::move(event));
}

mcp_reply insufficient_scope(const mcp_endpoint::impl& ep,
                             const mcp_context& ctx, const mcp::message& msg,
                             scope needed, std::string_view what) {
  auto all = format_scopes(ctx.grant.scopes | bit(needed));
  auto sentence = "Forbidden: this token lacks the scope "
                  + std::string{to_string(needed)} + " that "
                  + std::string{what} + " needs";
  mcp_reply r = method_error(msg, mcp::rpc::forbidden, sentence);
  r.status = bhttp::status::forbidden;
  r.headers.emplace_back("WWW-Authenticate",
                         "Bearer error=\"insufficient_scope\", scope=\""
                           + all + "\", resource_metadata=\""
                           + ep.settings.resource_metadata()
                           + "\", error_description=\"" + sentence + "\"");
  return r;
}

void run_tool(const endpoint_ptr& ep, caf::event_based_actor* self,
              const mcp_context& ctx, const mcp::message& msg,
              std::string action, const grant_account& account,
              run_starter begin,
              std::chrono::steady_clock::time_point started,
              const mcp_reply_fn& reply, call_answer_fn answer) {
  auto id = msg.id;
  auto c = ctx; // the run outlives this frame
  auto acc = account;
  // Set by whichever comes first: the answer, or the client hanging up.
  auto settled = std::make_shared<std::atomic<bool>>(false);
  // Filled by the run when a sending tool's message waits for a yes.
  auto held = std::make_shared<held_for_yes>();
  auto done = [ep, c, acc, id, action, started, reply, settled, held,
               answer = std::move(answer),
               msg](tool_answer ended) {
    if (settled->exchange(true))
      return;
    audit_call(*ep, c, &acc, action, ended.outcome, started);
    if (answer)
      return reply(answer(ended, c, msg));
    auto body = mcp::make_result(id, ended.result, c.result_fields);
    if (c.url_elicitation && !held->outbox_id.empty())
      return reply(with_approval_request(*held, acc, body));
    mcp_reply r;
    r.body = std::move(body);
    reply(std::move(r));
  };
  auto start
    = [ep, c, acc, action, started, settled,
       target = tool_target{
         mailbox_ref{ctx.grant.grant.user, account.id},
         ctx.grant.accounts.size() > 1 ? account.label : std::string{},
         ctx.grant.grant.send, ctx.grant.grant.id,
         ctx.grant.grant.client_name, account.label, held},
       done = std::move(done),
       begin = std::move(begin)](caf::event_based_actor* actor) {
        begin(actor, target, done);
        if (!c.cancelled_by_hang_up)
          return;
        // The client closed its stream (modern era): end the actor running the
        // call. Its answers are dropped, and the ACCOUNT abandons what it still
        // had queued for it; an IMAP command already sent runs to its end, so
        // the connection stays usable. (The subscriber must not hold the
        // signal itself: that would be a cycle.)
        auto for_audit = c;
        for_audit.cancelled_by_hang_up.reset();
        c.cancelled_by_hang_up->subscribe([ep, for_audit, acc, action,
                                           started, settled,
                                           addr = actor->address()] {
          if (settled->exchange(true))
            return;
          audit_call(*ep, for_audit, &acc, action, "cancelled", started);
          if (auto hdl = caf::actor_cast<caf::actor>(addr))
            caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
        });
      };
  if (self)
    start(self);
  else
    ep->sys->spawn(std::move(start));
}

void write_server_identity(mcp::json_writer& w) {
  w.begin_object()
    .key("name")
    .string("postern")
    .key("title")
    .string("Postern")
    .key("version")
    .string(postern::version)
    .end_object();
}

void dispatch_mcp(const endpoint_ptr& ep, caf::event_based_actor* self,
                  mcp_context ctx, mcp::message msg, mcp_reply_fn reply) {
  using kind = mcp::message_kind;
  if (msg.kind != kind::request) {
    // Notifications and responses are accepted without a body.
    if (msg.kind == kind::notification) {
      if (msg.method == "notifications/initialized")
        ep->sessions.mark_initialized(ctx.session_id, ctx.grant_key);
      // notifications/cancelled: every request is answered on its own POST
      // and tools run to completion on the mail server; nothing to stop.
    }
    mcp_reply r;
    r.status = bhttp::status::accepted;
    return reply(std::move(r));
  }
  auto& table = methods();
  auto i = table.find(msg.method);
  if (i == table.end())
    return reply(
      error(msg, mcp::rpc::method_not_found,
            "Method not found: "
              + mcp::quote(std::string_view{msg.method}.substr(0, 100))));
  if (msg.params && !msg.params->IsObject())
    return reply(error(msg, mcp::rpc::invalid_params,
                       "Invalid params: params must be an object"));
  i->second(ep, self, ctx, msg, reply);
}

} // namespace postern::http
