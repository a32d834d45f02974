// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postern::http {

/// Decodes %XX escapes (and '+' as a space when `plus_is_space`, as in
/// form bodies and query strings). Malformed escapes are kept literally.
std::string url_decode(std::string_view text, bool plus_is_space = true);

/// Percent-encodes everything but unreserved characters (RFC 3986).
std::string url_encode(std::string_view text);

/// The fields of an application/x-www-form-urlencoded body or a query
/// string, in order. Repeated names keep every value.
class form_data {
public:
  form_data() = default;

  /// Parses `a=1&b=two+words`; at most `max_fields` fields are kept.
  static form_data parse(std::string_view encoded, size_t max_fields = 200);

  /// The first value of `name`, or empty.
  std::string get(std::string_view name) const;

  /// The first value of `name`, or nullopt when absent.
  std::optional<std::string> find(std::string_view name) const;

  /// True when `name` is present (even with an empty value).
  bool has(std::string_view name) const;

  /// Every value of `name`.
  std::vector<std::string> all(std::string_view name) const;

  const std::vector<std::pair<std::string, std::string>>& fields() const {
    return fields_;
  }

private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

} // namespace postern::http
