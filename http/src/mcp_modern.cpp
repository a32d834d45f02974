// SPDX-License-Identifier: Apache-2.0
// The modern era of /mcp (protocol 2026-07-28): every request carries its
// version and capabilities in `_meta`, the transport mirrors method and
// name into headers, there is no handshake and no session. This file only
// validates and shapes answers; tools and resources go through
// dispatch_mcp, the same code (scope check, rate limit, audit) as the
// legacy era.

#include "mcp_era.hpp"
#include "mcp_internal.hpp"
#include "postern/mcp/json.hpp"
#include "postern/mime/transfer_encoding.hpp"
#include "postern/text.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>

namespace postern::http {

namespace {

using mcp::find_member;
using mcp::string_of;

using endpoint_ptr = std::shared_ptr<mcp_endpoint::impl>;

/// Error codes the 2026-07-28 specification defines.
constexpr int header_mismatch = -32020;
constexpr int unsupported_protocol_version = -32022;

/// How long clients may keep a tools/list or the resource templates (they
/// only change with a new release) and a server/discover answer.
constexpr int64_t catalogue_ttl_ms = 300000;
constexpr int64_t discover_ttl_ms = 3600000;

mcp_reply failure(bhttp::status status, const mcp::message& msg, int code,
                  std::string_view text, std::string_view data_json = {}) {
  mcp_reply r;
  r.status = status;
  r.body = mcp::make_error(msg.id, code, text, data_json);
  return r;
}

mcp_reply bad_request(const mcp::message& msg, int code, std::string_view text,
                      std::string_view data_json = {}) {
  return failure(bhttp::status::bad_request, msg, code, text, data_json);
}

std::string clip(std::string_view s) {
  return mcp::quote(s.substr(0, 100));
}

/// The versions a modern request may name, as a JSON array.
std::string supported_json() {
  mcp::json_writer w;
  w.begin_array();
  for (auto v : modern_mcp_versions)
    w.string(v);
  w.end_array();
  return w.take();
}

/// A header value that permits the Base64 sentinel (`=?base64?...?=`),
/// decoded; nullopt when the sentinel's content is not valid Base64 or the
/// plain value is not visible ASCII.
std::optional<std::string> decode_sentinel(std::string_view value) {
  constexpr std::string_view prefix = "=?base64?";
  constexpr std::string_view suffix = "?=";
  if (value.size() >= prefix.size() + suffix.size()
      && value.compare(0, prefix.size(), prefix) == 0
      && value.compare(value.size() - suffix.size(), suffix.size(), suffix)
           == 0) {
    auto inner = value.substr(prefix.size(),
                              value.size() - prefix.size() - suffix.size());
    return mime::decode_base64_strict(inner);
  }
  for (auto ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c > 0x7e)
      return std::nullopt;
  }
  return std::string{value};
}

/// Where a method mirrors its target into Mcp-Name, or nullptr.
const char* name_field(std::string_view method) {
  if (method == "tools/call" || method == "prompts/get")
    return "name";
  if (method == "resources/read")
    return "uri";
  return nullptr;
}

/// The request's `_meta`: protocol version, client capabilities, log level.
std::optional<mcp_reply> check_meta(const mcp::message& msg) {
  auto meta = msg.meta();
  if (!meta)
    return bad_request(msg, mcp::rpc::invalid_params,
                       "Invalid params: protocol 2026-07-28 needs "
                       "params._meta with "
                       "io.modelcontextprotocol/protocolVersion and "
                       "io.modelcontextprotocol/clientCapabilities");
  auto version = find_member(meta, meta_protocol_version);
  if (!version || !version->IsString() || version->GetStringLength() == 0)
    return bad_request(msg, mcp::rpc::invalid_params,
                       "Invalid params: _meta needs the string "
                       "io.modelcontextprotocol/protocolVersion");
  auto caps = find_member(meta, "io.modelcontextprotocol/clientCapabilities");
  if (!caps || !caps->IsObject())
    return bad_request(msg, mcp::rpc::invalid_params,
                       "Invalid params: _meta needs the object "
                       "io.modelcontextprotocol/clientCapabilities");
  if (auto level = find_member(meta, "io.modelcontextprotocol/logLevel")) {
    static constexpr std::string_view levels[]
      = {"debug", "info",     "notice", "warning",
         "error", "critical", "alert",  "emergency"};
    if (!level->IsString()
        || std::find(std::begin(levels), std::end(levels), string_of(*level))
             == std::end(levels))
      return bad_request(msg, mcp::rpc::invalid_params,
                         "Invalid params: io.modelcontextprotocol/logLevel "
                         "must be a log level such as \"info\"");
  }
  return std::nullopt;
}

/// The MCP-Protocol-Version header against the body's version, then the
/// version itself.
std::optional<mcp_reply> check_version(const mcp_call& c,
                                       const mcp::message& msg,
                                       std::string_view requested) {
  if (!c.has_protocol_version)
    return bad_request(msg, header_mismatch,
                       "Header mismatch: the MCP-Protocol-Version header is "
                       "missing");
  if (c.protocol_version != requested)
    return bad_request(msg, header_mismatch,
                       "Header mismatch: MCP-Protocol-Version header value "
                         + clip(c.protocol_version)
                         + " does not match body value " + clip(requested));
  if (!supported_modern_version(requested)) {
    mcp::json_writer data;
    data.begin_object()
      .key("supported")
      .raw(supported_json())
      .key("requested")
      .string(mcp::to_valid_utf8(requested.substr(0, 100)))
      .end_object();
    return bad_request(msg, unsupported_protocol_version,
                       "Unsupported protocol version " + clip(requested)
                         + "; this endpoint serves 2026-07-28 per request "
                           "and 2025-11-25, 2025-06-18, 2025-03-26 after "
                           "initialize",
                       data.str());
  }
  return std::nullopt;
}

/// The Mcp-Method and Mcp-Name headers against the body.
std::optional<mcp_reply> check_mirrored_headers(const mcp_call& c,
                                                const mcp::message& msg) {
  if (!c.has_mcp_method)
    return bad_request(msg, header_mismatch,
                       "Header mismatch: the Mcp-Method header is missing");
  if (c.mcp_method != msg.method)
    return bad_request(msg, header_mismatch,
                       "Header mismatch: Mcp-Method header value "
                         + clip(c.mcp_method) + " does not match body value "
                         + clip(msg.method));
  if (auto field = name_field(msg.method)) {
    auto body_name = find_member(msg.params, field);
    bool has_body_name = body_name && body_name->IsString();
    if (has_body_name && !c.has_mcp_name)
      return bad_request(msg, header_mismatch,
                         "Header mismatch: the Mcp-Name header is missing");
    if (c.has_mcp_name) {
      auto decoded = decode_sentinel(c.mcp_name);
      if (!decoded)
        return bad_request(msg, header_mismatch,
                           "Header mismatch: the Mcp-Name header is not "
                           "visible ASCII or valid =?base64?...?=");
      if (!has_body_name || *decoded != string_of(*body_name))
        return bad_request(msg, header_mismatch,
                           "Header mismatch: Mcp-Name header value "
                             + clip(*decoded) + " does not match body value "
                             + (has_body_name ? clip(string_of(*body_name))
                                              : std::string{"(none)"}));
    }
  }
  return std::nullopt;
}

/// Checks `_meta` and the mirrored headers (in the order the spec lists
/// its errors); returns the refusal, or nullopt when the request may go on.
std::optional<mcp_reply> validate(const mcp_call& c, const mcp::message& msg) {
  if (auto refusal = check_meta(msg))
    return refusal;
  auto requested = string_of(*find_member(msg.meta(), meta_protocol_version));
  if (auto refusal = check_version(c, msg, requested))
    return refusal;
  return check_mirrored_headers(c, msg);
}

/// The server's identity in a result's `_meta`.
void server_info(mcp::json_writer& w) {
  w.key("_meta").begin_object().key("io.modelcontextprotocol/serverInfo");
  write_server_identity(w);
  w.end_object();
}

mcp_reply discover(const mcp::message& msg) {
  mcp::json_writer w;
  w.begin_object()
    .key("resultType")
    .string("complete")
    .key("supportedVersions")
    .raw(supported_json())
    .key("capabilities")
    .begin_object()
    .key("tools")
    .begin_object()
    .end_object()
    .key("resources")
    .begin_object()
    .end_object()
    .end_object()
    .key("instructions")
    .string(mcp_instructions);
  server_info(w);
  // The same answer for every caller: the tools themselves are filtered
  // by tools/list, which is private.
  w.key("ttlMs").integer(discover_ttl_ms).key("cacheScope").string("public");
  w.end_object();
  mcp_reply r;
  r.body = mcp::make_result(msg.id, w.str());
  return r;
}

/// The methods the modern era hands to dispatch_mcp, the legacy era's
/// table (scope checks, rate limits and audit in one place).
bool served_by_dispatch(std::string_view method) {
  return method == "tools/list" || method == "tools/call"
         || method == "resources/list" || method == "resources/templates/list"
         || method == "resources/read";
}

bool accepts_event_stream(std::string_view accept) {
  if (accept.empty())
    return true;
  auto lowered = ascii_lower(accept);
  return lowered.find("text/event-stream") != std::string::npos
         || lowered.find("*/*") != std::string::npos;
}

/// One SSE event carrying a JSON-RPC message.
void add_event(std::string& out, std::string_view json) {
  out += "event: message\ndata: ";
  out += json;
  out += "\n\n";
}

/// An SSE answer: headers that keep proxies from buffering it.
mcp_reply event_stream(std::string body) {
  mcp_reply r;
  r.body = std::move(body);
  r.headers.emplace_back("Content-Type", "text/event-stream");
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Accel-Buffering", "no");
  return r;
}

/// subscriptions/listen: Postern sends no change notifications (its tool
/// list never changes while it runs, it lists no resources and has no
/// prompts), so
/// it acknowledges an empty filter and ends the subscription gracefully
/// with the listen result right away, instead of holding a stream open
/// that would never carry anything.
mcp_reply listen(const mcp_call& c, const mcp::message& msg) {
  if (!accepts_event_stream(c.accept))
    return failure(bhttp::status::not_acceptable, msg, mcp::rpc::server_error,
                   "Not Acceptable: subscriptions/listen answers with "
                   "text/event-stream");
  auto notifications = find_member(msg.params, "notifications");
  if (!notifications || !notifications->IsObject())
    return failure(bhttp::status::ok, msg, mcp::rpc::invalid_params,
                   "Invalid params: subscriptions/listen needs a "
                   "notifications filter object");
  mcp::json_writer ack;
  ack.begin_object()
    .key("jsonrpc")
    .string("2.0")
    .key("method")
    .string("notifications/subscriptions/acknowledged")
    .key("params")
    .begin_object()
    .key("_meta")
    .begin_object()
    .key("io.modelcontextprotocol/subscriptionId")
    .raw(msg.id)
    .end_object()
    .key("notifications")
    .begin_object()
    .end_object()
    .end_object()
    .end_object();
  mcp::json_writer done;
  done.begin_object()
    .key("resultType")
    .string("complete")
    .key("_meta")
    .begin_object()
    .key("io.modelcontextprotocol/subscriptionId")
    .raw(msg.id)
    .end_object()
    .end_object();
  std::string body;
  add_event(body, ack.str());
  add_event(body, mcp::make_result(msg.id, done.str()));
  return event_stream(std::move(body));
}

/// A tools/call answer as SSE: one notifications/message (info) saying how
/// long the tool took, then the response.
mcp_reply with_log(mcp_reply r, const std::string& tool,
                   std::chrono::steady_clock::time_point started) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::steady_clock::now() - started)
              .count();
  mcp::json_writer note;
  note.begin_object()
    .key("jsonrpc")
    .string("2.0")
    .key("method")
    .string("notifications/message")
    .key("params")
    .begin_object()
    .key("level")
    .string("info")
    .key("logger")
    .string("postern")
    .key("data")
    .string(tool + " answered in " + std::to_string(ms) + " ms")
    .end_object()
    .end_object();
  std::string body;
  add_event(body, note.str());
  add_event(body, r.body);
  auto headers = std::move(r.headers);
  auto out = event_stream(std::move(body));
  out.status = r.status;
  for (auto& h : headers)
    out.headers.push_back(std::move(h));
  return out;
}

} // namespace

void serve_modern(const endpoint_ptr& ep, caf::event_based_actor* self,
                  const mcp_call& c, mcp_context ctx, mcp::message msg,
                  const responder& respond) {
  auto send = [&respond](mcp_reply r) { respond(to_http(std::move(r))); };
  using kind = mcp::message_kind;
  if (msg.kind == kind::response)
    return send(bad_request(msg, mcp::rpc::invalid_request,
                            "Invalid Request: in protocol 2026-07-28 clients "
                            "send no JSON-RPC responses"));
  if (msg.kind == kind::notification) {
    // None are defined for Streamable HTTP in 2026-07-28 (closing the
    // stream cancels); accepted and ignored.
    mcp_reply r;
    r.status = bhttp::status::accepted;
    return send(std::move(r));
  }
  if (auto refusal = validate(c, msg))
    return send(std::move(*refusal));
  // An Mcp-Session-Id the client still sends is ignored: nothing here
  // looks at sessions, and none is ever created.
  ctx.session_id.clear();
  ctx.protocol_version = c.protocol_version;
  if (msg.params && !msg.params->IsObject())
    return send(failure(bhttp::status::ok, msg, mcp::rpc::invalid_params,
                        "Invalid params: params must be an object"));
  if (msg.method == "server/discover")
    return send(discover(msg));
  if (msg.method == "subscriptions/listen")
    return send(listen(c, msg));
  if (!served_by_dispatch(msg.method))
    // Unknown, and removed ones (initialize, ping, logging/setLevel,
    // resources/subscribe): 404, so clients can tell a modern server.
    return send(failure(bhttp::status::not_found, msg,
                        mcp::rpc::method_not_found,
                        "Method not found: " + clip(msg.method)));
  // With logLevel debug or info (and SSE accepted), a tool call reports
  // itself in one notifications/message before its result; never without.
  bool log = false;
  if (msg.method == "tools/call")
    if (auto level = find_member(msg.meta(),
                                 "io.modelcontextprotocol/logLevel"))
      log = (string_of(*level) == "debug" || string_of(*level) == "info")
            && accepts_event_stream(c.accept);
  std::string tool;
  if (auto name = find_member(msg.params, "name"); name && name->IsString())
    tool = std::string{string_of(*name).substr(0, 100)};
  std::string fields = R"("resultType":"complete")";
  if (msg.method == "tools/list" || msg.method == "resources/list")
    // Filtered by the token's scopes: never shared across tokens.
    fields += R"(,"ttlMs":)" + std::to_string(catalogue_ttl_ms)
              + R"(,"cacheScope":"private")";
  else if (msg.method == "resources/templates/list")
    // The same two templates for every caller.
    fields += R"(,"ttlMs":)" + std::to_string(catalogue_ttl_ms)
              + R"(,"cacheScope":"public")";
  else if (msg.method == "resources/read")
    // A message can be moved or deleted at any moment: read it afresh.
    fields += R"(,"ttlMs":0,"cacheScope":"private")";
  ctx.result_fields = std::move(fields);
  auto started = std::chrono::steady_clock::now();
  dispatch_mcp(ep, self, std::move(ctx), std::move(msg),
               [respond, log, tool, started](mcp_reply r) {
                 if (log && r.status == bhttp::status::ok)
                   r = with_log(std::move(r), tool, started);
                 respond(to_http(std::move(r)));
               });
}

} // namespace postern::http
