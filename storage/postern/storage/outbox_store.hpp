// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/outbox.hpp"
#include "postern/storage/environment.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// Messages held for their person's yes. Layout (U user id, O outbox id):
//
//   outbox       U/O -> entry (who asked, status, times, what to show)
//   outbox_mail  U/O -> the bytes and the SMTP envelope, while pending
//
// The bytes go the moment the entry is decided, so only pending messages
// take space; decided entries stay (for get_send_status and the dashboard)
// until `sweep_outbox` drops them after the retention.

namespace postern::storage {

/// A new random outbox id (18 bytes, base64url: 24 characters). It is the
/// capability of the approval URL's path, so it is long and unguessable
/// (the URL still needs the owner's web session).
std::string new_outbox_id();

/// Stores a new pending entry with its message (entry.message.data and its
/// envelope go to outbox_mail; the entry keeps the rest).
void put_outbox_entry(txn& t, const outbox_entry& entry);

/// One entry without its bytes, or nullopt.
std::optional<outbox_entry>
find_outbox_entry(const txn& t, const user_id& user, const std::string& id);

/// One pending entry with its bytes and envelope, or nullopt when absent
/// or decided.
std::optional<outbox_entry>
load_held_message(const txn& t, const user_id& user, const std::string& id);

/// A user's entries without bytes, newest first.
std::vector<outbox_entry> list_outbox(const txn& t, const user_id& user);

/// How many of a user's entries are pending.
size_t count_pending(const txn& t, const user_id& user);

/// Decides a pending entry: sent, discarded or expired, at `now`; drops
/// its bytes. Returns the decided entry, or nullopt when it is absent or
/// was decided already (single winner: the caller's write transaction).
std::optional<outbox_entry>
decide_outbox_entry(txn& t, const user_id& user, const std::string& id,
                    outbox_status to, int64_t now,
                    const std::string& sent_folder = {});

/// Records why sending a pending entry failed (it stays pending).
void note_outbox_failure(txn& t, const user_id& user, const std::string& id,
                         const std::string& error);

/// What one sweep did.
struct outbox_sweep {
  /// Pending entries whose time ran out, now expired.
  std::vector<outbox_entry> expired;
  /// Decided entries dropped after the retention.
  size_t dropped = 0;
};

/// Expires pending entries with `expires <= now` and drops entries decided
/// before `forget_before`; at most `limit` of each per call.
outbox_sweep sweep_outbox(txn& t, int64_t now, int64_t forget_before,
                          size_t limit = 1000);

/// Removes the entries (pending or not) held from one account.
void erase_outbox_of_account(txn& t, const user_id& user,
                             const account_id& account);

/// Removes every entry of a user.
void erase_outbox_of_user(txn& t, const user_id& user);

} // namespace postern::storage
