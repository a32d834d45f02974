// SPDX-License-Identifier: Apache-2.0
#pragma once

// Internal: what session::fetch_summaries and fetch_flags return for one
// message, shared by the listing (messages.cpp) and the organizing
// (organize.cpp) code.

#include "postern/imap/message_cache.hpp"
#include "postern/imap/session.hpp"
#include "postern/mime/structure.hpp"

namespace postern::imap {

struct session::fetched : message_facts {
  uint32_t seq = 0;
};

/// What a cheap FETCH (UID FLAGS) tells about a message.
struct session::flagged {
  uint32_t seq = 0;
  uint32_t uid = 0;
  std::vector<std::string> flags;
};

} // namespace postern::imap
