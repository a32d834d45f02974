// SPDX-License-Identifier: Apache-2.0
#pragma once

// The DIRECTORY's rules for users and email accounts. The DIRECTORY
// enforces them on every change; the dashboard calls the same functions
// first, only to mark every faulty field of a form at once. Each failure is
// a field error (make_field_error) whose field is the form's input name.

#include "postern/account.hpp"
#include "postern/host_policy.hpp"
#include "postern/secret.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace postern {

/// Checks a username (3 to 64 of letters, digits and . _ - @ +, starting
/// with a letter or digit). Field `username`.
caf::error validate_username(const std::string& username);

/// Checks a new password (10 to 1024 bytes, no NUL, not the username).
/// Field `password`; callers with another input name rename it.
caf::error validate_password(const std::string& username,
                             const secret& password);

/// Checks account settings and the passwords typed with them, the host
/// policy included. Fields `label`, `imap_host` … `smtp_password`,
/// `aliases` (each a plain address, not the account's own, none twice, at
/// most max_account_aliases).
caf::error validate_account(const account_settings& settings,
                            const account_credentials& creds, bool is_new,
                            const host_policy& hosts);

/// Splits the aliases a person typed (separated by commas, spaces or
/// line breaks) into addresses, in their order; validate_account checks
/// them.
std::vector<std::string> split_aliases(std::string_view text);

/// A saved password only ever goes to the server and login name it was
/// typed for: an edit (`updated` of `stored`) that changes the IMAP or SMTP
/// server or login name must bring the password again, or a stolen session
/// could send it anywhere ("Test connection", or saving and reading mail).
/// Fails with forbidden, field `imap_password` or `smtp_password`.
caf::error check_passwords_follow_servers(const account_settings& stored,
                                          const account_settings& updated,
                                          const account_credentials& typed);

/// The passwords an edit is to use: each one typed, else the stored one
/// (`current`); the SMTP password only when SMTP has its own. Fails with
/// invalid_argument (field `smtp_password`) when SMTP has its own password
/// and none is typed or stored. Check the rule above first.
caf::expected<account_credentials>
merge_credentials(const account_settings& updated,
                  const account_credentials& typed,
                  const account_credentials& current);

} // namespace postern
