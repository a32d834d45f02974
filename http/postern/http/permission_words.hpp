// SPDX-License-Identifier: Apache-2.0
// What each permission (OAuth scope) lets an agent do, in the words the
// consent page and the dashboard show a person.
#pragma once

#include "postern/grant.hpp"

#include <string_view>

namespace postern::http {

struct permission_words {
  /// A short name in the person's terms ("Read your messages").
  std::string_view title;
  /// One sentence with everything the permission allows, the tools it
  /// opens included, so that nobody approves more than they read.
  std::string_view detail;
  /// True for the permission whose misuse reaches other people (sending
  /// as the person): the consent page sets it apart.
  bool powerful = false;
};

/// The words for one scope.
permission_words describe_permission(scope s);

} // namespace postern::http
