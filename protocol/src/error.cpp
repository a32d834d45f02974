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
  }
  return "invalid_ec";
}

namespace {

// Contexts are made with make_error(code, "sentence", ...): print the strings
// as they are instead of CAF's quoted tuple syntax.
std::string render_context(const caf::message& ctx) {
  std::string result;
  for (size_t i = 0; i < ctx.size(); ++i) {
    if (!result.empty())
      result += ": ";
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
    result += ": " + render_context(err.context());
  return result;
}

std::string describe(const caf::error& err) {
  if (err && err.category() == caf::atom("postern") && !err.context().empty())
    return render_context(err.context());
  return render(err);
}

} // namespace postern
