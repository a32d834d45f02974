// SPDX-License-Identifier: Apache-2.0
#include "postern/http/csrf.hpp"

#include "postern/storage/crypto.hpp"

namespace postern::http {

namespace {

constexpr std::string_view hkdf_info = "postern csrf v1";

} // namespace

csrf_keys::csrf_keys()
  : key_(storage::hkdf_sha256(storage::random_bytes(32), "", hkdf_info)) {
  // nop
}

csrf_keys::csrf_keys(const secret& session_secret)
  : key_(storage::hkdf_sha256(session_secret.reveal(), "", hkdf_info)) {
  // nop
}

std::string csrf_keys::token(std::string_view binding) const {
  return storage::base64url(storage::hmac_sha256(key_.reveal(), binding));
}

bool csrf_keys::check(std::string_view binding, std::string_view token) const {
  if (binding.empty() || token.empty() || token.size() > 128)
    return false;
  return constant_time_equal(this->token(binding), token);
}

std::string session_binding(std::string_view session_token) {
  if (session_token.empty())
    return {};
  return "session\n" + std::string{session_token};
}

std::string pre_session_binding(std::string_view pre_session_token) {
  if (pre_session_token.empty())
    return {};
  return "pre\n" + std::string{pre_session_token};
}

} // namespace postern::http
