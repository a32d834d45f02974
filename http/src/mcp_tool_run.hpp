// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "mcp_internal.hpp"
#include "postern/actors/mail_actor.hpp"
#include "postern/mcp/resources.hpp"
#include "postern/mcp/tools.hpp"

#include <caf/event_based_actor.hpp>

#include <functional>
#include <memory>
#include <string>

namespace postern::http {

/// How a run ended.
struct tool_answer {
  /// The CallToolResult (JSON) of a tool call, or the ReadResourceResult of
  /// a resource read that succeeded.
  std::string result;
  /// The short reason in the audit log ("ok", "no_such_message", ...).
  std::string outcome;
  /// When the call failed: the sentence saying why (`result` is then the
  /// tool error carrying it); empty on success.
  std::string failure;
  /// A failed resource read's error data when it holds more than the uri
  /// (a JSON object: the download link of a part too large to read inline).
  std::string failure_data;
};

/// Receives how a run ended, once.
using tool_done_fn = std::function<void(tool_answer)>;

/// Where a message held for the person's yes waits (set by the run).
struct held_for_yes {
  std::string outbox_id;
  std::string approve_url;
};

/// The mailbox a tool call works on, as its connection sees it.
struct tool_target {
  mailbox_ref ref;
  /// Prefixes failures ("Account "Work": ..."); empty when the connection
  /// reaches one account only.
  std::string account_label;
  /// The connection's rules for the sending tools.
  send_rules send;
  /// Who is asking, for messages held in the person's outbox.
  grant_id grant;
  std::string client_name;
  /// The account's label, always (account_label is only set to prefix).
  std::string label;
  /// Filled when a sending tool's message was held; may be null.
  std::shared_ptr<held_for_yes> held;
};

/// Runs one checked tool call on `self` against the MAIL ROUTER for
/// `target` and calls `done` once.
void start_tool_run(const std::shared_ptr<mcp_endpoint::impl>& ep,
                    caf::event_based_actor* self, const tool_target& target,
                    const mcp::tool_args& args, const tool_done_fn& done);

/// Reads one message or part (resources/read) on `self` for `target`,
/// with the limits of read_message and get_attachment, and calls `done`
/// once with the ReadResourceResult or the failure.
void start_resource_read(const std::shared_ptr<mcp_endpoint::impl>& ep,
                         caf::event_based_actor* self,
                         const tool_target& target,
                         const mcp::mail_resource& resource,
                         const tool_done_fn& done);

} // namespace postern::http
