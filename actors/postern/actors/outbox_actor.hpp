// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/fwd.hpp"
#include "postern/ids.hpp"
#include "postern/outbox.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <string>
#include <vector>

namespace postern {

/// The OUTBOX actor interface: messages that a connection which must ask
/// first wanted to send, waiting for their person's yes. Entries are keyed
/// by user, so a person only ever reaches their own. Failures are `ec`
/// errors with a sentence: no_such_message (unknown id, or another
/// person's), invalid_request (already decided: the sentence says how),
/// too_busy (the person's outbox is full).
using outbox_actor = caf::typed_actor<
  // Keeps a built and checked message (the entry names user, account,
  // grant, who asked, and carries the message) and answers the stored
  // entry with its id and expiry, without the bytes.
  caf::replies_to<atom::hold, outbox_entry>::with<outbox_entry>,
  // A person's entries, newest first, without the bytes.
  caf::replies_to<atom::list, user_id>::with<std::vector<outbox_entry>>,
  // One entry, without the bytes.
  caf::replies_to<atom::get, user_id, std::string>::with<outbox_entry>,
  // The person says yes: sends the held bytes through the MAIL ROUTER and
  // answers the entry as sent. A failed send leaves it pending, with the
  // reason on the entry and in the error.
  caf::replies_to<atom::send, user_id, std::string>::with<outbox_entry>,
  // The person says no: the entry is discarded and its bytes dropped.
  caf::replies_to<atom::discard, user_id, std::string>::with<outbox_entry>,
  // Expires what waited too long and forgets old decisions (a timer sends
  // it). Every request above first expires its person's due entries, so
  // what anyone sees is never stale.
  caf::reacts_to<atom::tick>>;

} // namespace postern
