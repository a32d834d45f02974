// SPDX-License-Identifier: Apache-2.0
#include "postern/storage/record.hpp"

#include <lmdb.h>

namespace postern::storage {

record_writer& record_writer::u64(uint64_t x) {
  do {
    auto byte = static_cast<uint8_t>(x & 0x7F);
    x >>= 7;
    if (x != 0)
      byte |= 0x80;
    out_ += static_cast<char>(byte);
  } while (x != 0);
  return *this;
}

record_writer& record_writer::i64(int64_t x) {
  // Zig-zag, so small negative numbers stay short.
  auto u = static_cast<uint64_t>(x);
  return u64((u << 1) ^ (x < 0 ? ~uint64_t{0} : uint64_t{0}));
}

record_writer& record_writer::bytes(std::string_view x) {
  u64(x.size());
  out_.append(x.data(), x.size());
  return *this;
}

record_reader::record_reader(std::string_view in) : in_(in) {
  if (in_.empty())
    corrupt();
  version_ = static_cast<uint8_t>(in_[0]);
  pos_ = 1;
}

void record_reader::corrupt() const {
  throw storage_error(MDB_CORRUPTED, "corrupt record");
}

uint64_t record_reader::u64() {
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= in_.size())
      corrupt();
    auto byte = static_cast<uint8_t>(in_[pos_++]);
    result |= uint64_t{byte & 0x7Fu} << shift;
    if ((byte & 0x80) == 0)
      return result;
  }
  corrupt();
}

int64_t record_reader::i64() {
  auto u = u64();
  return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

bool record_reader::boolean() {
  if (pos_ >= in_.size())
    corrupt();
  auto c = in_[pos_++];
  if (c != '\0' && c != '\1')
    corrupt();
  return c == '\1';
}

std::string record_reader::bytes() {
  auto n = u64();
  if (n > in_.size() - pos_)
    corrupt();
  std::string result{in_.substr(pos_, n)};
  pos_ += n;
  return result;
}

std::string big_endian(uint64_t x) {
  std::string result(8, '\0');
  for (int i = 7; i >= 0; --i) {
    result[static_cast<size_t>(i)] = static_cast<char>(x & 0xFF);
    x >>= 8;
  }
  return result;
}

uint64_t from_big_endian(std::string_view bytes) {
  uint64_t result = 0;
  for (auto c : bytes.substr(0, 8))
    result = (result << 8) | static_cast<uint8_t>(c);
  return result;
}

} // namespace postern::storage
