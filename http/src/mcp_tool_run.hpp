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

/// Runs one checked tool call on `self` against the MAIL ROUTER for the
/// mailbox `ref` and calls `done` once. `account_label` prefixes failures
/// ("Account "Work": ...") and is empty when the connection has one account.
void start_tool_run(const std::shared_ptr<mcp_endpoint::impl>& ep,
                    caf::event_based_actor* self, const mailbox_ref& ref,
                    const std::string& account_label,
                    const mcp::tool_args& args, const tool_done_fn& done);

} // namespace postern::http
