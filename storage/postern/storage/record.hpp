// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/storage/environment.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace postern::storage {

/// Builds a binary record: a version byte, then fields as LEB128 varints
/// and length-prefixed byte strings. Compact, fast, and free of text-encoding
/// traps; each record type writes a version byte first so it can evolve.
class record_writer {
public:
  explicit record_writer(uint8_t version) {
    out_ += static_cast<char>(version);
  }

  record_writer& u64(uint64_t x);
  record_writer& i64(int64_t x);
  record_writer& boolean(bool x) {
    out_ += x ? '\1' : '\0';
    return *this;
  }
  record_writer& bytes(std::string_view x);

  const std::string& str() const noexcept {
    return out_;
  }

private:
  std::string out_;
};

/// Reads what record_writer wrote. Reading past the end or a malformed
/// field throws storage_error, which aborts the transaction with a clear
/// "corrupt record" error instead of returning garbage.
class record_reader {
public:
  explicit record_reader(std::string_view in);

  uint8_t version() const noexcept {
    return version_;
  }

  uint64_t u64();
  int64_t i64();
  bool boolean();
  std::string bytes();

  /// True when every byte was consumed.
  bool at_end() const noexcept {
    return pos_ == in_.size();
  }

private:
  [[noreturn]] void corrupt() const;

  std::string_view in_;
  size_t pos_ = 0;
  uint8_t version_ = 0;
};

/// Big-endian encoding, so that keys sort numerically.
std::string big_endian(uint64_t x);

/// Reads what big_endian wrote.
uint64_t from_big_endian(std::string_view bytes);

} // namespace postern::storage
