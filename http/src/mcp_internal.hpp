// SPDX-License-Identifier: Apache-2.0
#pragma once

// Shared by the MCP transport (mcp_endpoint.cpp) and the MCP methods
// (mcp_methods.cpp); not part of the http library's interface.

#include "postern/directory_types.hpp"
#include "postern/http/call_deadlines.hpp"
#include "postern/grant.hpp"
#include "postern/http/mcp_endpoint.hpp"
#include "postern/http/mcp_sessions.hpp"
#include "postern/http/message.hpp"
#include "postern/http/token_memo.hpp"
#include "postern/mcp/json.hpp"
#include "postern/mcp/jsonrpc.hpp"

#include <caf/event_based_actor.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace postern::http {

struct mcp_endpoint::impl {
  caf::actor_system* sys = nullptr;
  mcp_actors actors;
  mcp_settings settings;
  std::vector<std::string> origins;
  mcp_session_table sessions;
  rate_limiter limiter;
  /// Recent answers of the TOKEN AUTHORITY (the fast path of every POST).
  token_memo tokens;
  /// Collects tool-call audit events and hands them to the DIRECTORY in
  /// batches (one LMDB transaction, one fsync, per batch): a busy server
  /// would otherwise queue audit writes faster than the disk syncs them.
  caf::actor auditor;
  /// The events waiting for the auditor's next batch. Calls append here
  /// under the lock instead of sending each event, so a tool call wakes no
  /// actor for its audit line: only the first event of a batch (which asks
  /// for a flush after audit_delay) and a full batch send a message.
  struct audit_queue {
    std::mutex lock;
    std::vector<audit_event> events;
  };
  std::shared_ptr<audit_queue> audit_events = std::make_shared<audit_queue>();

  /// Queues one event for the auditor (see audit_events).
  void audit(audit_event event) const;

  /// When each running tool call must have answered (TOOL_TIMEOUT after
  /// it started), and the CALL WATCHER that ends the late ones: one timer
  /// for all calls instead of one per request.
  std::shared_ptr<call_deadlines> deadlines;
  caf::actor watcher;

  /// Ends the tool call running on `call` once TOOL_TIMEOUT has passed:
  /// it gets an exit message with reason sec::request_timeout (its exit
  /// handler answers with the timeout sentence). Returns the ticket the
  /// call hands to `deadlines->finished` when it has answered (0: the
  /// server is stopping and the call was ended at once).
  uint64_t watch(const caf::actor_addr& call) const;

  impl(caf::actor_system& s, mcp_actors a, mcp_settings st);
  ~impl();
};

/// Who is calling and in which session: everything a method may depend on
/// besides its params. The legacy transport fills it from the session; a
/// stateless (2026-07-28) transport would fill it from `_meta`.
struct mcp_context {
  access_grant grant;
  /// "user/grant": the key of sessions and rate limits.
  std::string grant_key;
  /// Empty for initialize (the session is created there).
  std::string session_id;
  std::string protocol_version;
  std::string client_address;
  /// Set in the modern era only, where a client cancels a call by closing
  /// its response stream (in the 2025 revisions a disconnect is not a
  /// cancellation): a tool call subscribes to abandon its mail work.
  std::shared_ptr<client_gone> cancelled_by_hang_up;
  /// The client takes URL-mode elicitation requests in the stream of its
  /// call (declared at initialize, 2025-11-25, and it accepts
  /// text/event-stream): a held message also asks through it.
  bool url_elicitation = false;
  /// Members every successful result starts with (`"k":v,...`): the modern
  /// era's resultType and caching hints; empty in the legacy era.
  std::string result_fields;
};

/// What a method answers: a JSON-RPC response (status 200) or, for
/// authorization problems, another status with headers.
struct mcp_reply {
  bhttp::status status = bhttp::status::ok;
  /// The JSON-RPC response; empty for 202 Accepted.
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using mcp_reply_fn = std::function<void(mcp_reply)>;

/// What the transport copies out of a POST for the actor side.
struct mcp_call {
  std::string body;
  std::string accept;
  std::string content_type;
  /// MCP-Protocol-Version, read by collapse_header_value.
  std::string protocol_version;
  bool has_protocol_version = false;
  std::string session_id;
  bool has_session_id = false;
  /// Mcp-Method and Mcp-Name (2026-07-28), blanks around them dropped.
  std::string mcp_method;
  bool has_mcp_method = false;
  std::string mcp_name;
  bool has_mcp_name = false;
  std::string client_address;
  std::string digest;
  std::shared_ptr<client_gone> gone;
};

/// An mcp_reply as an HTTP response (application/json when it has a body).
response_type to_http(mcp_reply reply);

/// Writes the server's name, title and version as one object (the
/// serverInfo of initialize and of the modern era's _meta).
void write_server_identity(mcp::json_writer& w);

/// Serves one POST of the modern era (2026-07-28): checks `_meta` and the
/// mirrored headers, answers server/discover and subscriptions/listen, and
/// hands tools/list and tools/call to dispatch_mcp like the legacy era.
void serve_modern(const std::shared_ptr<mcp_endpoint::impl>& ep,
                  caf::event_based_actor* self, const mcp_call& call,
                  mcp_context ctx, mcp::message msg, const responder& respond);

/// What initialize and server/discover tell the model about Postern
/// (under 2 KB: Claude Code cuts longer instructions).
inline constexpr std::string_view mcp_instructions
  = "Postern gives access to the email accounts a person connected. "
    "list_accounts names them; with several, pass one's label or address as "
    "`account` to the other tools. Use list_folders to see the folders, "
    "list_messages or search_messages to find messages (UIDs), and "
    "read_message to read them. Long texts come in windows: pass nextOffset "
    "as offset to read on. get_attachment fetches a file read_message lists. "
    "Tools outside the granted scopes are not listed.";

/// Answers one JSON-RPC request or notification, on the calling thread:
/// the connection's (when the token was remembered) or the short-lived
/// actor's that asked the TOKEN AUTHORITY (`self`, else nullptr). Only a
/// tool call needs an actor; it spawns one when `self` is null.
void dispatch_mcp(const std::shared_ptr<mcp_endpoint::impl>& ep,
                  caf::event_based_actor* self, mcp_context ctx,
                  mcp::message msg, mcp_reply_fn reply);

/// The key of a grant in sessions and rate limits.
inline std::string grant_key_of(const grant_info& g) {
  return g.user.value + "/" + g.id.value;
}

} // namespace postern::http
