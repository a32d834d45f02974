// SPDX-License-Identifier: Apache-2.0
#include "mcp_era.hpp"

#include "postern/text.hpp"

#include <algorithm>

namespace postern::http {

bool supported_modern_version(std::string_view v) {
  return std::find(std::begin(modern_mcp_versions),
                   std::end(modern_mcp_versions), v)
         != std::end(modern_mcp_versions);
}

std::string collapse_header_value(std::string_view raw) {
  auto whole = trim_blanks(raw);
  auto comma = whole.find(',');
  if (comma == std::string_view::npos)
    return std::string{whole};
  auto first = trim_blanks(whole.substr(0, comma));
  auto rest = whole.substr(comma + 1);
  while (true) {
    auto next = rest.find(',');
    if (trim_blanks(rest.substr(0, next)) != first)
      return std::string{whole};
    if (next == std::string_view::npos)
      return std::string{first};
    rest.remove_prefix(next + 1);
  }
}

mcp_era era_of(const mcp::message& msg, bool has_header,
               std::string_view header_version) {
  if (auto meta = msg.meta())
    if (meta->FindMember(meta_protocol_version) != meta->MemberEnd())
      return mcp_era::modern;
  return era_of_header(has_header, header_version);
}

mcp_era era_of_header(bool has_header, std::string_view header_version) {
  // Only a version we serve: an unknown one without `_meta` stays legacy
  // (and gets the legacy 400 naming every version).
  return has_header && supported_modern_version(header_version)
           ? mcp_era::modern
           : mcp_era::legacy;
}

} // namespace postern::http
