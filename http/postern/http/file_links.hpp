// SPDX-License-Identifier: Apache-2.0
#pragma once

// Download links to one attachment (<BASE_URL>/files/<opaque>), handed out
// by get_attachment so a large file reaches its person without passing
// through the model. A link is its own record: what it names is sealed
// into it (AES-256-GCM under a key derived from SESSION_SECRET), so no
// table grows with links, nothing needs sweeping, and every node that
// shares the secret can serve it. It names the grant it was made for: the
// route serves it only while that grant still reaches the account.

#include "postern/ids.hpp"
#include "postern/secret.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postern::http {

/// What one link names.
struct file_link {
  user_id user;
  grant_id grant;
  account_id account;
  std::string folder;
  uint32_t uid = 0;
  std::string part_id;
  /// Unix seconds; the link is refused from then on.
  int64_t expires_at = 0;
};

/// Seals and opens links under one key.
class file_links {
public:
  /// A random key: links work until the process ends (no SESSION_SECRET).
  file_links();

  explicit file_links(const secret& session_secret);

  /// The opaque, URL-safe part of the link (base64url).
  std::string seal(const file_link& link) const;

  /// What `opaque` names, if this key sealed it (any changed byte, another
  /// key or a malformed string: nothing). Expiry is the caller's to check.
  std::optional<file_link> open(std::string_view opaque) const;

private:
  secret key_;
};

/// `path` as the access log may show it: a download link's opaque part is
/// a bearer capability, so /files/<opaque> becomes /files/…; other paths
/// are unchanged.
std::string loggable_path(std::string_view path);

} // namespace postern::http
