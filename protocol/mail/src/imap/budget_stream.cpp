// SPDX-License-Identifier: Apache-2.0
#include "budget_stream.hpp"

#include <libetpan/libetpan.h>

#include <cstdlib>
#include <new>

namespace postern::imap::detail {

namespace {

struct budget_low {
  mailstream_low* inner;
  std::shared_ptr<budget_tracker> tracker;
  // The peer closed the connection (a read returned 0).
  bool closed = false;
};

budget_low* data_of(mailstream_low* s) {
  return static_cast<budget_low*>(s->data);
}

mailstream_low* inner_of(mailstream_low* s) {
  auto* inner = data_of(s)->inner;
  // libetpan sets timeouts on the stream's (outer) driver, e.g. for
  // LOGOUT; the wrapped driver is the one that waits.
  if (s->timeout != 0)
    inner->timeout = s->timeout;
  return inner;
}

ssize_t budget_read(mailstream_low* s, void* buf, size_t count) {
  auto* data = data_of(s);
  auto& tracker = *data->tracker;
  // A read after the end of the stream fails: libetpan 1.9.4 reads a
  // literal in a loop that takes 0 for "nothing yet", so a server that
  // announced {66} and closed after fewer bytes kept it reading forever at
  // full CPU (found by tests/fuzz imap; over a socket until the operation's
  // deadline). The first 0 still reaches libetpan as the end of the stream.
  if (tracker.violation() || data->closed)
    return -1;
  auto* inner = inner_of(s);
  auto n = inner->driver->mailstream_read(inner, buf, count);
  if (n == 0)
    data->closed = true;
  // Also defuses what would crash libetpan's parser (consume_and_defuse).
  if (n > 0
      && !tracker.consume_and_defuse(static_cast<char*>(buf),
                                     static_cast<size_t>(n)))
    return -1; // none of it reaches libetpan
  return n;
}

ssize_t budget_write(mailstream_low* s, const void* buf, size_t count) {
  auto* inner = inner_of(s);
  return inner->driver->mailstream_write(inner, buf, count);
}

int budget_close(mailstream_low* s) {
  return mailstream_low_close(data_of(s)->inner);
}

int budget_get_fd(mailstream_low* s) {
  return mailstream_low_get_fd(data_of(s)->inner);
}

void budget_free(mailstream_low* s) {
  auto* d = data_of(s);
  mailstream_low_free(d->inner);
  delete d;
  s->data = nullptr;
  std::free(s); // allocated by mailstream_low_new
}

void budget_cancel(mailstream_low* s) {
  mailstream_low_cancel(data_of(s)->inner);
}

struct mailstream_cancel* budget_get_cancel(mailstream_low* s) {
  return mailstream_low_get_cancel(data_of(s)->inner);
}

carray* budget_certificate_chain(mailstream_low* s) {
  return mailstream_low_get_certificate_chain(data_of(s)->inner);
}

int budget_setup_idle(mailstream_low* s) {
  return mailstream_low_setup_idle(data_of(s)->inner);
}

int budget_unsetup_idle(mailstream_low* s) {
  return mailstream_low_unsetup_idle(data_of(s)->inner);
}

int budget_interrupt_idle(mailstream_low* s) {
  return mailstream_low_interrupt_idle(data_of(s)->inner);
}

mailstream_low_driver budget_driver = {
  budget_read,           budget_write,
  budget_close,          budget_get_fd,
  budget_free,           budget_cancel,
  budget_get_cancel,     budget_certificate_chain,
  budget_setup_idle,     budget_unsetup_idle,
  budget_interrupt_idle,
};

} // namespace

bool install_budget(_mailstream* stream,
                    std::shared_ptr<budget_tracker> tracker) {
  auto* inner = mailstream_get_low(stream);
  if (inner == nullptr || inner->driver == &budget_driver)
    return inner != nullptr;
  auto* d = new (std::nothrow) budget_low{inner, std::move(tracker)};
  if (d == nullptr)
    return false;
  auto* outer = mailstream_low_new(d, &budget_driver);
  if (outer == nullptr) {
    delete d;
    return false;
  }
  outer->timeout = inner->timeout;
  outer->privacy = inner->privacy;
  mailstream_set_low(stream, outer);
  return true;
}

} // namespace postern::imap::detail
