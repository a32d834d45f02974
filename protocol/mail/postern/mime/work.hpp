// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>

// A count of the work the decoders do, for the growth tests (issue 14):
// every loop that scans input or output adds the bytes or items it looked
// at, so a test can check that work grows linearly with the input without
// measuring time. One add per loop step; nothing reads it in production.

namespace postern::mime::detail {

/// Bytes and items the decoders looked at on this thread.
inline thread_local uint64_t work_done = 0;

inline void count_work(size_t n) noexcept {
  work_done += n;
}

} // namespace postern::mime::detail
