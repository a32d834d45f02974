// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <caf/meta/type_name.hpp>

#include <string>

namespace postern {

/// Strong id types: an interface cannot mix up a user and an account.
#define POSTERN_STRONG_ID(name)                                                \
  struct name {                                                                \
    std::string value;                                                         \
    bool empty() const noexcept {                                              \
      return value.empty();                                                    \
    }                                                                          \
    friend bool operator==(const name& x, const name& y) {                     \
      return x.value == y.value;                                               \
    }                                                                          \
    friend bool operator!=(const name& x, const name& y) {                     \
      return x.value != y.value;                                               \
    }                                                                          \
    friend bool operator<(const name& x, const name& y) {                      \
      return x.value < y.value;                                                \
    }                                                                          \
  };                                                                           \
  template <class Inspector>                                                   \
  typename Inspector::result_type inspect(Inspector& f, name& x) {             \
    return f(caf::meta::type_name(#name), x.value);                            \
  }

/// A user of Postern (a person with a dashboard login).
POSTERN_STRONG_ID(user_id)
/// One email account (IMAP + optional SMTP settings) of a user.
POSTERN_STRONG_ID(account_id)
/// One grant of access: a user's consent that a client may use one account
/// with some scopes (the TOKEN AUTHORITY's unit of revocation).
POSTERN_STRONG_ID(grant_id)

#undef POSTERN_STRONG_ID

} // namespace postern
