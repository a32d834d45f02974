// SPDX-License-Identifier: Apache-2.0
#include "postern/http/file_links.hpp"

#include "postern/mime/transfer_encoding.hpp"
#include "postern/storage/crypto.hpp"
#include "postern/storage/record.hpp"

namespace postern::http {

namespace {

constexpr std::string_view hkdf_info = "postern file links v1";
/// Authenticated with each link, so a sealed value of another purpose
/// never opens as a link.
constexpr std::string_view aad = "postern file link";
constexpr uint8_t record_version = 1;
/// Far above what seal makes of any real link; refused before decoding.
constexpr size_t max_opaque_chars = 4096;

/// Reverses storage::base64url (unpadded, RFC 4648 §5).
std::optional<std::string> from_base64url(std::string_view text) {
  std::string standard;
  standard.reserve(text.size() + 3);
  for (char c : text) {
    if (c == '+' || c == '/' || c == '=')
      return std::nullopt;
    standard += c == '-' ? '+' : c == '_' ? '/' : c;
  }
  while (standard.size() % 4 != 0)
    standard += '=';
  return mime::decode_base64_strict(standard);
}

} // namespace

file_links::file_links()
  : key_(storage::hkdf_sha256(storage::random_bytes(32), "", hkdf_info)) {
  // nop
}

file_links::file_links(const secret& session_secret)
  : key_(storage::hkdf_sha256(session_secret.reveal(), "", hkdf_info)) {
  // nop
}

std::string file_links::seal(const file_link& link) const {
  storage::record_writer w{record_version};
  w.bytes(link.user.value)
    .bytes(link.grant.value)
    .bytes(link.account.value)
    .bytes(link.folder)
    .u64(link.uid)
    .bytes(link.part_id)
    .i64(link.expires_at);
  auto sealed = storage::seal(key_, w.str(), aad);
  // Sealing fails only when OpenSSL does; an empty link is then refused
  // by open, never served.
  return sealed ? storage::base64url(*sealed) : std::string{};
}

std::optional<file_link> file_links::open(std::string_view opaque) const {
  if (opaque.empty() || opaque.size() > max_opaque_chars)
    return std::nullopt;
  auto sealed = from_base64url(opaque);
  if (!sealed)
    return std::nullopt;
  auto plain = storage::open_sealed(key_, *sealed, aad);
  if (!plain)
    return std::nullopt;
  try {
    storage::record_reader r{plain->reveal()};
    if (r.version() != record_version)
      return std::nullopt;
    file_link link;
    link.user.value = r.bytes();
    link.grant.value = r.bytes();
    link.account.value = r.bytes();
    link.folder = r.bytes();
    auto uid = r.u64();
    link.part_id = r.bytes();
    link.expires_at = r.i64();
    if (uid == 0 || uid > UINT32_MAX || !r.at_end())
      return std::nullopt;
    link.uid = static_cast<uint32_t>(uid);
    return link;
  } catch (const std::exception&) {
    // Only this key seals links: a malformed one is a bug, never served.
    return std::nullopt;
  }
}

std::string loggable_path(std::string_view path) {
  constexpr std::string_view files = "/files/";
  if (path.substr(0, files.size()) == files && path.size() > files.size())
    return std::string{files} + "…";
  return std::string{path};
}

} // namespace postern::http
