// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the MCP methods share (mcp_methods.cpp: lifecycle and tools;
// mcp_resources.cpp: resources): replies, the audit record of a call, the
// scope challenge and the run of a checked call against the mail service.

#include "mcp_internal.hpp"
#include "mcp_tool_run.hpp"
#include "postern/mcp/tools.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace postern::http {

using mcp_method_fn = void (*)(const std::shared_ptr<mcp_endpoint::impl>&,
                               caf::event_based_actor*, mcp_context&,
                               mcp::message&, mcp_reply_fn&);

/// A successful response carrying `result_json`.
mcp_reply method_result(const mcp_context& ctx, const mcp::message& msg,
                        std::string_view result_json);

/// A JSON-RPC error response (status 200).
mcp_reply method_error(const mcp::message& msg, int code,
                       std::string_view text, std::string_view data_json = {});

/// The refusal of a list method's `cursor`: every list fits in one page,
/// so any cursor is one Postern never gave out. nullopt without a cursor.
std::optional<mcp_reply> unknown_cursor(const mcp::message& msg);

/// Records one call in the audit log as `action` ("tool.read_message",
/// "resource.read"); `account` is the one it worked in (nullptr when it
/// did not get that far).
void audit_call(const mcp_endpoint::impl& ep, const mcp_context& ctx,
                const grant_account* account, std::string action,
                std::string outcome,
                std::chrono::steady_clock::time_point started);

/// 403 with a step-up challenge naming every scope the client needs: what
/// it has plus `needed`, which `what` ("read_message", "resources/read")
/// requires.
mcp_reply insufficient_scope(const mcp_endpoint::impl& ep,
                             const mcp_context& ctx, const mcp::message& msg,
                             scope needed, std::string_view what);

/// Starts the mail work of a checked call on `actor` (start_tool_run or
/// start_resource_read) with the call's target and where to report.
using run_starter = std::function<void(caf::event_based_actor* actor,
                                       const tool_target& target,
                                       const tool_done_fn& done)>;

/// Turns how a run ended into the reply (by default: the CallToolResult as
/// the result).
using call_answer_fn = std::function<mcp_reply(
  const tool_answer&, const mcp_context&, const mcp::message&)>;

/// Runs a checked call on `self` (a fresh actor when null), audits it as
/// `action` and replies once: with `answer` of the run's end, or not at all
/// when the client hung up first (modern era), in which case the actor
/// running the call is ended.
void run_tool(const std::shared_ptr<mcp_endpoint::impl>& ep,
              caf::event_based_actor* self, const mcp_context& ctx,
              const mcp::message& msg, std::string action,
              const grant_account& account, run_starter begin,
              std::chrono::steady_clock::time_point started,
              const mcp_reply_fn& reply, call_answer_fn answer = {});

// -- resources (mcp_resources.cpp) --------------------------------------------

/// resources/list: empty (messages are found with the tools, whose answers
/// name them by URI).
void resources_list(const std::shared_ptr<mcp_endpoint::impl>& ep,
                    caf::event_based_actor* self, mcp_context& ctx,
                    mcp::message& msg, mcp_reply_fn& reply);

/// resources/templates/list: the message and part URI templates.
void resources_templates_list(const std::shared_ptr<mcp_endpoint::impl>& ep,
                              caf::event_based_actor* self, mcp_context& ctx,
                              mcp::message& msg, mcp_reply_fn& reply);

/// resources/read of a postern:// message or part URI.
void resources_read(const std::shared_ptr<mcp_endpoint::impl>& ep,
                    caf::event_based_actor* self, mcp_context& ctx,
                    mcp::message& msg, mcp_reply_fn& reply);

} // namespace postern::http
