// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/actors/mail_actor.hpp"
#include "postern/fwd.hpp"
#include "postern/imap/types.hpp"
#include "postern/mime/attachment.hpp"
#include "postern/mime/compose.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace postern {

/// The IMAP CONNECTION actor interface: one detached actor owns one IMAP
/// session (libetpan blocks) and runs one operation at a time for its
/// ACCOUNT. It logs in on its first request and exits when its connection
/// dies, so the ACCOUNT replaces it.
using imap_connection_actor = caf::typed_actor<
  caf::replies_to<atom::folders, bool>::with<std::vector<imap::folder>>,
  caf::replies_to<atom::messages, std::string,
                  imap::page_request>::with<imap::message_page>,
  caf::replies_to<atom::read, std::string, std::vector<uint32_t>,
                  imap::read_options>::with<std::vector<imap::read_outcome>>,
  caf::replies_to<atom::search, std::string,
                  imap::search_query>::with<imap::search_result>,
  caf::replies_to<atom::move, std::string, uint32_t,
                  std::string>::with<imap::move_result>,
  caf::replies_to<atom::flag, std::string, uint32_t,
                  imap::flag_change>::with<imap::flag_result>,
  caf::replies_to<atom::thread, std::string,
                  uint32_t>::with<imap::thread_result>,
  caf::replies_to<atom::bulk, imap::bulk_request>::with<imap::bulk_result>,
  caf::replies_to<atom::folder_op, imap::folder_change>::with<imap::folder>,
  caf::replies_to<atom::search_all,
                  imap::search_query>::with<imap::multi_search_result>,
  // Appends a copy of a sent message (RFC 5322 bytes) to the special-use
  // Sent folder with \Seen.
  caf::replies_to<atom::save_sent, std::string>::with<imap::append_result>,
  // Fetches and decodes one attachment (args: folder, uid, part id,
  // limits); fails with no_such_message, no_such_part or too_large.
  caf::replies_to<atom::attachment, std::string, uint32_t, std::string,
                  mime::attachment_limits>::with<mime::attachment_content>,
  // Reads the original of a reply or forward (args: folder, uid, with the
  // attachments' bytes, their most bytes together).
  caf::replies_to<atom::original, std::string, uint32_t, bool,
                  uint64_t>::with<mime::original_message>,
  // Appends a draft (RFC 5322 bytes) to the special-use Drafts folder with
  // \Draft and \Seen.
  caf::replies_to<atom::save_draft, std::string>::with<imap::append_result>,
  // Checks an idle connection (NOOP) before the ACCOUNT reuses it.
  caf::replies_to<atom::ping>::with<atom::ok>>;

} // namespace postern
