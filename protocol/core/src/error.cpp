// SPDX-License-Identifier: Apache-2.0
#include "postern/error.hpp"

#include <caf/atom.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace postern {

std::string to_string(ec x) {
  switch (x) {
    case ec::unspecified:
      return "unspecified";
    case ec::invalid_configuration:
      return "invalid_configuration";
    case ec::filesystem_failure:
      return "filesystem_failure";
    case ec::storage_failure:
      return "storage_failure";
    case ec::invalid_request:
      return "invalid_request";
    case ec::tls_failure:
      return "tls_failure";
    case ec::imap_failure:
      return "imap_failure";
    case ec::smtp_failure:
      return "smtp_failure";
    case ec::shutting_down:
      return "shutting_down";
    case ec::no_such_user:
      return "no_such_user";
    case ec::no_such_account:
      return "no_such_account";
    case ec::invalid_credentials:
      return "invalid_credentials";
    case ec::invalid_argument:
      return "invalid_argument";
    case ec::already_exists:
      return "already_exists";
    case ec::forbidden:
      return "forbidden";
    case ec::no_such_session:
      return "no_such_session";
    case ec::authentication_failed:
      return "authentication_failed";
    case ec::connection_failed:
      return "connection_failed";
    case ec::timed_out:
      return "timed_out";
    case ec::no_such_folder:
      return "no_such_folder";
    case ec::no_such_message:
      return "no_such_message";
    case ec::server_refused:
      return "server_refused";
    case ec::not_supported:
      return "not_supported";
    case ec::protocol_violation:
      return "protocol_violation";
    case ec::recipient_rejected:
      return "recipient_rejected";
    case ec::cancelled:
      return "cancelled";
    case ec::too_busy:
      return "too_busy";
    case ec::invalid_token:
      return "invalid_token";
    case ec::invalid_grant:
      return "invalid_grant";
    case ec::invalid_scope:
      return "invalid_scope";
    case ec::invalid_target:
      return "invalid_target";
    case ec::invalid_client:
      return "invalid_client";
    case ec::no_such_part:
      return "no_such_part";
    case ec::too_large:
      return "too_large";
    case ec::send_rate_limited:
      return "send_rate_limited";
    case ec::over_budget:
      return "over_budget";
    case ec::signin_required:
      return "signin_required";
  }
  return "invalid_ec";
}

namespace {

constexpr auto field_tag = caf::atom("field");

/// Whether a context starts with (field_tag, name): see make_field_error.
bool names_field(const caf::message& ctx) {
  return ctx.size() >= 2 && ctx.match_element<caf::atom_value>(0)
         && ctx.get_as<caf::atom_value>(0) == field_tag
         && ctx.match_element<std::string>(1);
}

// Contexts are made with make_error(code, "sentence", ...): print the strings
// as they are instead of CAF's quoted tuple syntax. A field tag is printed
// as "[name]" when `with_field`, else left out.
std::string render_context(const caf::message& ctx, bool with_field) {
  std::string result;
  size_t first = 0;
  if (names_field(ctx)) {
    first = 2;
    if (with_field)
      result = "[" + ctx.get_as<std::string>(1) + "]";
  }
  for (size_t i = first; i < ctx.size(); ++i) {
    if (!result.empty())
      result += i == first ? " " : ": ";
    if (ctx.match_element<std::string>(i))
      result += ctx.get_as<std::string>(i);
    else
      result += ctx.stringify(i);
  }
  return result;
}

} // namespace

std::string render(const caf::error& err) {
  if (!err)
    return "";
  std::string result;
  switch (caf::atom_uint(err.category())) {
    case caf::atom_uint("postern"):
      result = to_string(static_cast<ec>(err.code()));
      break;
    case caf::atom_uint("system"):
      result = to_string(static_cast<caf::sec>(err.code()));
      break;
    default:
      result = to_string(err.category()) + ":" + std::to_string(err.code());
  }
  if (!err.context().empty())
    result += ": " + render_context(err.context(), true);
  return result;
}

std::string describe(const caf::error& err) {
  if (err && err.category() == caf::atom("postern") && !err.context().empty())
    return render_context(err.context(), false);
  return render(err);
}

caf::error make_field_error(ec code, std::string field, std::string sentence) {
  return caf::make_error(code, field_tag, std::move(field),
                         std::move(sentence));
}

std::string error_field(const caf::error& err) {
  if (err && err.category() == caf::atom("postern")
      && names_field(err.context()))
    return err.context().get_as<std::string>(1);
  return {};
}

} // namespace postern
