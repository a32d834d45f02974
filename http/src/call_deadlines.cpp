// SPDX-License-Identifier: Apache-2.0
#include "postern/http/call_deadlines.hpp"

#include <algorithm>

namespace postern::http {

call_deadlines::call_deadlines(clock::duration allowed,
                               clock::duration granularity)
  : allowed_(allowed), granularity_(granularity) {
  // nop
}

call_deadlines::added call_deadlines::add(caf::actor_addr call,
                                          clock::time_point now) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (closed_)
    return added::closed;
  // Threads read the clock before the lock, so a later call may come in
  // with an earlier `now`; it waits the microseconds more that keep the
  // queue in order.
  auto deadline = now + allowed_;
  if (!calls_.empty())
    deadline = std::max(deadline, calls_.back().first);
  calls_.emplace_back(deadline, std::move(call));
  if (watching_)
    return added::watched;
  watching_ = true;
  return added::wake_watcher;
}

std::vector<caf::actor_addr> call_deadlines::close() {
  std::vector<caf::actor_addr> result;
  std::lock_guard<std::mutex> guard{mtx_};
  closed_ = true;
  for (auto& entry : calls_)
    result.push_back(std::move(entry.second));
  calls_.clear();
  return result;
}

std::vector<caf::actor_addr>
call_deadlines::due(clock::time_point now,
                    std::optional<clock::time_point>& next) {
  std::vector<caf::actor_addr> result;
  std::lock_guard<std::mutex> guard{mtx_};
  // Deadlines only grow (one allowance for all), so the due calls are a
  // prefix of the queue.
  while (!calls_.empty() && calls_.front().first <= now) {
    result.push_back(std::move(calls_.front().second));
    calls_.pop_front();
  }
  if (calls_.empty()) {
    watching_ = false;
    next.reset();
  } else {
    next = std::max(calls_.front().first, now + granularity_);
  }
  return result;
}

size_t call_deadlines::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return calls_.size();
}

} // namespace postern::http
