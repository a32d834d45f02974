// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <caf/actor_addr.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace postern::http {

/// When each running tool call must have answered: the one clock of every
/// call, instead of a CAF request timeout per request.
///
/// Why: each request timeout is a timer in CAF's clock thread, set and
/// woken once per call (about one context switch in ten of a mail call,
/// and a lock every worker meets). Every call here has the same time
/// allowed (TOOL_TIMEOUT), so deadlines arrive in the order calls start
/// and a queue holds them; one watcher wakes at most once per `granularity`
/// to end the calls that are past theirs, and not at all while no call is
/// running.
///
/// A call that answers says so (finished): its actor's address is let go
/// at once, since an address keeps the ended actor's memory allocated.
/// The queue then keeps only its number until the deadline passes (16
/// bytes per call started within TOOL_TIMEOUT), and is emptied whenever no
/// call is running.
///
/// Thread-safe: calls start on HTTP threads and CAF workers.
class call_deadlines {
public:
  using clock = std::chrono::steady_clock;

  /// What add() asks of its caller.
  enum class added {
    /// Noted; a watch is running.
    watched,
    /// Noted, and no watch was running: wake the watcher.
    wake_watcher,
    /// The watcher has ended (the server is stopping): not noted; end the
    /// call now, nothing would.
    closed,
  };

  struct ticket {
    added what = added::closed;
    /// For finished(); 0 when closed.
    uint64_t id = 0;
  };

  call_deadlines(clock::duration allowed, clock::duration granularity);

  /// Notes that `call` must have answered `allowed` after `now`.
  ticket add(caf::actor_addr call, clock::time_point now);

  /// The call of ticket `id` has answered (or ended): forget it.
  void finished(uint64_t id);

  /// Takes the running calls whose deadline is at or before `now`; sets
  /// `next` to when the watcher should look again (never sooner than
  /// `granularity` after `now`), or to nothing when no call is running
  /// (the watch stops until the next add).
  std::vector<caf::actor_addr> due(clock::time_point now,
                                   std::optional<clock::time_point>& next);

  /// Takes every running call and refuses new ones: the watcher is ending
  /// and must end them too, or a call waiting on a mail server that
  /// stopped with the server would keep it from stopping.
  std::vector<caf::actor_addr> close();

  /// Calls running (added, not finished, not yet due).
  size_t running() const;

  /// Entries in the deadline queue (running or not yet past their
  /// deadline).
  size_t queued() const;

private:
  clock::duration allowed_;
  clock::duration granularity_;
  mutable std::mutex mtx_;
  std::deque<std::pair<clock::time_point, uint64_t>> order_;
  std::unordered_map<uint64_t, caf::actor_addr> running_;
  uint64_t next_id_ = 1;
  bool watching_ = false;
  bool closed_ = false;
};

} // namespace postern::http
