// SPDX-License-Identifier: Apache-2.0
#include "postern/secret.hpp"

#include <openssl/crypto.h>

namespace postern {

secret& secret::operator=(const secret& other) {
  if (this != &other) {
    wipe();
    value_ = other.value_;
  }
  return *this;
}

secret& secret::operator=(secret&& other) noexcept {
  if (this != &other) {
    wipe();
    value_ = std::move(other.value_);
    other.wipe();
  }
  return *this;
}

secret::~secret() {
  wipe();
}

void secret::wipe() noexcept {
  // Cleanse the whole capacity, not just size(): a string that shrank, or a
  // short string whose bytes a move left behind in the object, still holds
  // old bytes there. resize() within capacity never reallocates.
  value_.resize(value_.capacity());
  OPENSSL_cleanse(value_.data(), value_.size());
  value_.clear();
}

bool operator==(const secret& x, const secret& y) noexcept {
  return constant_time_equal(x.value_, y.value_);
}

bool constant_time_equal(std::string_view x, std::string_view y) noexcept {
  // The length of a secret is not itself secret here (keys and token hashes
  // have fixed lengths), so an early exit on size is fine.
  if (x.size() != y.size())
    return false;
  if (x.empty())
    return true;
  return CRYPTO_memcmp(x.data(), y.data(), x.size()) == 0;
}

} // namespace postern
