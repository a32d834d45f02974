// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <caf/meta/type_name.hpp>

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace postern {

/// A string that must never be printed: keys, passwords, tokens.
///
/// It has no stream operator, and its fmt formatter (used by the logger)
/// prints `[redacted]`, so `POSTERN_INFO("{}", key)` cannot leak. The bytes
/// are wiped when the object dies, and equality is constant-time.
class secret {
public:
  secret() = default;
  explicit secret(std::string value) : value_(std::move(value)) {
    // nop
  }
  secret(const secret&) = default;
  secret(secret&& other) noexcept : value_(std::move(other.value_)) {
    other.wipe();
  }
  secret& operator=(const secret& other);
  secret& operator=(secret&& other) noexcept;
  ~secret();

  /// Access for the few places that need the plaintext (crypto, login).
  /// The name makes every use easy to find in review.
  const std::string& reveal() const noexcept {
    return value_;
  }

  bool empty() const noexcept {
    return value_.empty();
  }

  size_t size() const noexcept {
    return value_.size();
  }

  /// Overwrites the bytes with zeros and empties the string.
  void wipe() noexcept;

  /// Constant-time comparison (CRYPTO_memcmp); differing lengths are unequal.
  friend bool operator==(const secret& x, const secret& y) noexcept;
  friend bool operator!=(const secret& x, const secret& y) noexcept {
    return !(x == y);
  }

private:
  std::string value_;
};

/// Constant-time equality of two byte strings of possibly different length.
bool constant_time_equal(std::string_view x, std::string_view y) noexcept;

/// Prints as [redacted] and never serializes the plaintext: Postern's
/// messages stay inside one process, and a log of a message must not leak.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, secret& x) {
  std::string placeholder = "[redacted]";
  (void) x;
  return f(caf::meta::type_name("secret"), placeholder);
}

} // namespace postern

/// Logging a secret prints a placeholder, never its value.
template <>
struct fmt::formatter<postern::secret> : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(const postern::secret&, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format("[redacted]", ctx);
  }
};
