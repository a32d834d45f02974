// SPDX-License-Identifier: Apache-2.0
#pragma once

// A libetpan mailstream over bytes in memory, for the IMAP and SMTP targets:
// reads hand out the server's bytes (in pieces of at most `chunk` bytes,
// as a socket would), writes are kept (the first 64 KiB of them, in
// client_said(), for promises about what was sent), and the end of the
// bytes is the server closing the connection. No socket, no thread, no
// clock.

#include <libetpan/libetpan.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace postern::fuzz {

/// What the client wrote to the stream opened last (first 64 KiB).
inline std::string& client_said() {
  static std::string said;
  return said;
}

struct memory_source {
  std::string_view bytes;
  size_t chunk = 4096;
};

namespace detail {

inline memory_source* source_of(mailstream_low* s) {
  return static_cast<memory_source*>(s->data);
}

inline ssize_t memory_read(mailstream_low* s, void* buf, size_t count) {
  auto* src = source_of(s);
  auto n = std::min({count, src->bytes.size(), src->chunk});
  std::memcpy(buf, src->bytes.data(), n);
  src->bytes.remove_prefix(n);
  return static_cast<ssize_t>(n); // 0: the server closed the connection
}

inline ssize_t memory_write(mailstream_low*, const void* buf, size_t count) {
  auto& said = client_said();
  auto room = std::min(count, size_t{64 * 1024}
                                - std::min(said.size(), size_t{64 * 1024}));
  said.append(static_cast<const char*>(buf), room);
  return static_cast<ssize_t>(count);
}

inline int memory_close(mailstream_low*) {
  return 0;
}

inline int memory_get_fd(mailstream_low*) {
  return -1;
}

inline void memory_free(mailstream_low* s) {
  delete source_of(s);
  std::free(s); // allocated by mailstream_low_new
}

inline void memory_cancel(mailstream_low*) {
}

inline struct mailstream_cancel* memory_get_cancel(mailstream_low*) {
  return nullptr;
}

inline carray* memory_certificate_chain(mailstream_low*) {
  return nullptr;
}

inline int memory_no_idle(mailstream_low*) {
  return -1;
}

inline mailstream_low_driver memory_driver = {
  memory_read,    memory_write,   memory_close,      memory_get_fd,
  memory_free,    memory_cancel,  memory_get_cancel, memory_certificate_chain,
  memory_no_idle, memory_no_idle, memory_no_idle,
};

} // namespace detail

/// A stream whose server says `bytes` (which must outlive it), or null.
inline mailstream* open_memory_stream(std::string_view bytes,
                                      size_t chunk = 4096) {
  client_said().clear();
  auto* src = new memory_source{bytes, chunk == 0 ? 1 : chunk};
  auto* low = mailstream_low_new(src, &detail::memory_driver);
  if (low == nullptr) {
    delete src;
    return nullptr;
  }
  auto* stream = mailstream_new(low, 8192);
  if (stream == nullptr)
    mailstream_low_free(low);
  return stream;
}

} // namespace postern::fuzz
