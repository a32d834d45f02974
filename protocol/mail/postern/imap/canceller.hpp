// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <mutex>

struct _mailstream;

namespace postern::imap {

/// Lets another thread interrupt the blocking I/O of a connection (an IMAP
/// session or an SMTP client), e.g. to shut down an actor stuck on a stalled
/// server. cancel() is thread-safe, and safe to call after the connection is
/// gone (then it does nothing).
class canceller {
public:
  /// Interrupts the current and every later network call of the
  /// connection: they fail with `ec::cancelled` at once. Cannot be undone.
  void cancel() noexcept;

  /// Whether cancel() was called.
  bool cancelled() const noexcept {
    return cancelled_.load();
  }

  /// Like cancel(), but because an operation ran past its deadline: the
  /// call fails with `ec::timed_out`. Used by the deadline watchdog.
  void expire() noexcept;

  /// Whether expire() was called.
  bool expired() const noexcept {
    return expired_.load();
  }

  /// For the connection's owner: the socket and stream cancel() must wake
  /// (either may be absent: -1, nullptr). The owner detaches before it
  /// closes or replaces them.
  void attach(int fd, _mailstream* stream) noexcept;

  /// For the connection's owner: forget the socket and stream.
  void detach() noexcept;

  /// For the connection's owner: whether an operation deadline is armed
  /// (nested operations keep the outer deadline).
  bool armed = false;

private:
  void wake() noexcept;

  std::atomic<bool> cancelled_{false};
  std::atomic<bool> expired_{false};
  std::mutex mtx_;
  int fd_ = -1;
  _mailstream* stream_ = nullptr;
};

} // namespace postern::imap
