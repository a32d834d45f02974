// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "mcp_internal.hpp"
#include "postern/actors/mail_actor.hpp"
#include "postern/mcp/tools.hpp"

#include <caf/event_based_actor.hpp>

#include <functional>
#include <memory>
#include <string>

namespace postern::http {

/// Receives a tool call's CallToolResult (JSON) and its audit outcome.
using tool_done_fn = std::function<void(std::string, std::string)>;

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

} // namespace postern::http
