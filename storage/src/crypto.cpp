// SPDX-License-Identifier: Apache-2.0
#include "postern/storage/crypto.hpp"

#include "postern/error.hpp"
#include "postern/text.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <argon2.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace postern::storage {

namespace {

constexpr size_t nonce_size = 12;
constexpr size_t tag_size = 16;

struct cipher_ctx_deleter {
  void operator()(EVP_CIPHER_CTX* p) const {
    EVP_CIPHER_CTX_free(p);
  }
};
using cipher_ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, cipher_ctx_deleter>;

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

unsigned char* bytes_of(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}

int int_size(size_t n) {
  return static_cast<int>(n);
}

caf::error crypto_error(const char* what) {
  return caf::make_error(ec::unspecified, std::string{"crypto: "} + what);
}

} // namespace

std::string random_bytes(size_t n) {
  std::string result(n, '\0');
  if (n > 0 && RAND_bytes(bytes_of(result), int_size(n)) != 1) {
    std::fputs("postern: the random generator failed\n", stderr);
    std::abort();
  }
  return result;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string result;
  result.reserve(bytes.size() * 2);
  for (auto c : bytes) {
    auto b = static_cast<uint8_t>(c);
    result += digits[b >> 4];
    result += digits[b & 0xF];
  }
  return result;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0)
    return std::nullopt;
  std::string result;
  result.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    auto hi = hex_digit(hex[i]);
    auto lo = hex_digit(hex[i + 1]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    result += static_cast<char>((hi << 4) | lo);
  }
  return result;
}

std::string base64url(std::string_view bytes) {
  static constexpr char alphabet[]
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string result;
  result.reserve((bytes.size() * 4 + 2) / 3);
  size_t i = 0;
  auto at = [&](size_t k) {
    return static_cast<uint32_t>(static_cast<uint8_t>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    auto n = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    result += alphabet[(n >> 18) & 63];
    result += alphabet[(n >> 12) & 63];
    result += alphabet[(n >> 6) & 63];
    result += alphabet[n & 63];
  }
  if (bytes.size() - i == 1) {
    auto n = at(i) << 16;
    result += alphabet[(n >> 18) & 63];
    result += alphabet[(n >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    auto n = (at(i) << 16) | (at(i + 1) << 8);
    result += alphabet[(n >> 18) & 63];
    result += alphabet[(n >> 12) & 63];
    result += alphabet[(n >> 6) & 63];
  }
  return result;
}

std::string random_token(size_t n) {
  auto raw = random_bytes(n);
  auto result = base64url(raw);
  OPENSSL_cleanse(raw.data(), raw.size());
  return result;
}

std::string new_uuid() {
  auto b = random_bytes(16);
  b[6] = static_cast<char>((static_cast<uint8_t>(b[6]) & 0x0F) | 0x40);
  b[8] = static_cast<char>((static_cast<uint8_t>(b[8]) & 0x3F) | 0x80);
  auto hex = to_hex(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4)
         + "-" + hex.substr(16, 4) + "-" + hex.substr(20);
}

std::string sha256(std::string_view data) {
  std::string out(32, '\0');
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), bytes_of(out), &len, EVP_sha256(),
             nullptr);
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::string out(32, '\0');
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), int_size(key.size()), bytes_of(data),
       data.size(), bytes_of(out), &len);
  return out;
}

secret hkdf_sha256(std::string_view input_key, std::string_view salt,
                   std::string_view info, size_t length) {
  std::string out(length, '\0');
  std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf{
    EVP_KDF_fetch(nullptr, "HKDF", nullptr), EVP_KDF_free};
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx{
    kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr, EVP_KDF_CTX_free};
  if (!ctx) {
    std::fputs("postern: HKDF is unavailable in this OpenSSL\n", stderr);
    std::abort();
  }
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
    OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                      const_cast<char*>(input_key.data()),
                                      input_key.size()),
    OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()), salt.size()),
    OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size()),
    OSSL_PARAM_construct_end(),
  };
  if (EVP_KDF_derive(ctx.get(), bytes_of(out), out.size(), params) != 1) {
    std::fputs("postern: HKDF failed\n", stderr);
    std::abort();
  }
  return secret{std::move(out)};
}

caf::expected<std::string> seal(const secret& key, std::string_view plaintext,
                                std::string_view aad) {
  if (key.size() != 32)
    return crypto_error("AES-256-GCM needs a 32-byte key");
  auto nonce = random_bytes(nonce_size);
  cipher_ctx_ptr ctx{EVP_CIPHER_CTX_new()};
  std::string out = nonce;
  out.resize(nonce_size + plaintext.size() + tag_size);
  int len = 0;
  if (!ctx
      || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr,
                            nullptr)
           != 1
      || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN,
                             int_size(nonce_size), nullptr)
           != 1
      || EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, bytes_of(key.reveal()),
                            bytes_of(nonce))
           != 1
      || EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes_of(aad),
                           int_size(aad.size()))
           != 1
      || EVP_EncryptUpdate(ctx.get(), bytes_of(out) + nonce_size, &len,
                           bytes_of(plaintext), int_size(plaintext.size()))
           != 1
      || EVP_EncryptFinal_ex(ctx.get(), bytes_of(out) + nonce_size + len, &len)
           != 1
      || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG,
                             int_size(tag_size),
                             bytes_of(out) + nonce_size + plaintext.size())
           != 1)
    return crypto_error("encryption failed");
  return out;
}

caf::expected<secret> open_sealed(const secret& key, std::string_view sealed,
                                  std::string_view aad) {
  if (key.size() != 32)
    return crypto_error("AES-256-GCM needs a 32-byte key");
  if (sealed.size() < nonce_size + tag_size)
    return crypto_error("sealed value too short");
  auto nonce = sealed.substr(0, nonce_size);
  auto body = sealed.substr(nonce_size, sealed.size() - nonce_size - tag_size);
  std::string tag{sealed.substr(sealed.size() - tag_size)};
  std::string out(body.size(), '\0');
  cipher_ctx_ptr ctx{EVP_CIPHER_CTX_new()};
  int len = 0;
  int final_len = 0;
  auto ok = ctx
            && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                                  nullptr, nullptr)
                 == 1
            && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN,
                                   int_size(nonce_size), nullptr)
                 == 1
            && EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr,
                                  bytes_of(key.reveal()), bytes_of(nonce))
                 == 1
            && EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes_of(aad),
                                 int_size(aad.size()))
                 == 1
            && EVP_DecryptUpdate(ctx.get(), bytes_of(out), &len, bytes_of(body),
                                 int_size(body.size()))
                 == 1
            // The tag must be set before Final, which verifies it.
            && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG,
                                   int_size(tag_size), bytes_of(tag))
                 == 1
            && EVP_DecryptFinal_ex(ctx.get(), bytes_of(out) + len, &final_len)
                 == 1;
  if (!ok) {
    OPENSSL_cleanse(out.data(), out.size());
    return crypto_error("decryption failed: wrong key or tampered data");
  }
  return secret{std::move(out)};
}

caf::expected<std::string> hash_password(const secret& password,
                                         const password_hash_params& p) {
  auto salt = random_bytes(16);
  constexpr size_t hash_len = 32;
  auto encoded_len = argon2_encodedlen(p.time_cost, p.memory_kib, p.parallelism,
                                       static_cast<uint32_t>(salt.size()),
                                       hash_len, Argon2_id);
  std::string encoded(encoded_len, '\0');
  auto rc = argon2id_hash_encoded(p.time_cost, p.memory_kib, p.parallelism,
                                  password.reveal().data(),
                                  password.reveal().size(), salt.data(),
                                  salt.size(), hash_len, encoded.data(),
                                  encoded.size());
  if (rc != ARGON2_OK)
    return caf::make_error(ec::unspecified,
                           std::string{"password hashing failed: "}
                             + argon2_error_message(rc));
  encoded.resize(std::char_traits<char>::length(encoded.c_str()));
  return encoded;
}

bool verify_password(const secret& password, const std::string& encoded) {
  // argon2_verify recomputes the hash and compares in constant time.
  return argon2id_verify(encoded.c_str(), password.reveal().data(),
                         password.reveal().size())
         == ARGON2_OK;
}

} // namespace postern::storage
