// SPDX-License-Identifier: Apache-2.0
#pragma once

// Internal: a mailstream_low driver that wraps the real one (plain socket or
// TLS) and passes every received byte through a budget_tracker before
// libetpan sees it. A read over budget fails (-1), which libetpan reports as
// a stream error; the owner then asks the tracker why and drops the
// connection.

#include "postern/imap/budget.hpp"

#include <memory>

struct _mailstream;

namespace postern::imap::detail {

/// Wraps the current low-level driver of `stream` (again after STARTTLS
/// swapped it). The wrapper forwards everything else (fd, cancel, timeouts,
/// certificates, idle) and frees the wrapped driver with itself. False when
/// out of memory (the stream is left as it was).
bool install_budget(_mailstream* stream,
                    std::shared_ptr<budget_tracker> tracker);

} // namespace postern::imap::detail
