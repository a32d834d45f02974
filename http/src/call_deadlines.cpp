// SPDX-License-Identifier: Apache-2.0
#include "postern/http/call_deadlines.hpp"

#include <algorithm>

namespace postern::http {

call_deadlines::call_deadlines(clock::duration allowed,
                               clock::duration granularity)
  : allowed_(allowed), granularity_(granularity) {
  // nop
}

call_deadlines::ticket call_deadlines::add(caf::actor_addr call,
                                           clock::time_point now) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (closed_)
    return {};
  // Threads read the clock before the lock, so a later call may come in
  // with an earlier `now`; it waits the microseconds more that keep the
  // queue in order.
  auto deadline = now + allowed_;
  if (!order_.empty())
    deadline = std::max(deadline, order_.back().first);
  auto id = next_id_++;
  order_.emplace_back(deadline, id);
  running_.emplace(id, std::move(call));
  if (watching_)
    return {added::watched, id};
  watching_ = true;
  return {added::wake_watcher, id};
}

void call_deadlines::finished(uint64_t id) {
  std::lock_guard<std::mutex> guard{mtx_};
  running_.erase(id);
}

std::vector<caf::actor_addr>
call_deadlines::due(clock::time_point now,
                    std::optional<clock::time_point>& next) {
  std::vector<caf::actor_addr> result;
  std::lock_guard<std::mutex> guard{mtx_};
  // Deadlines only grow (one allowance for all), so the due calls are a
  // prefix of the queue; most of them have answered long ago.
  while (!order_.empty() && order_.front().first <= now) {
    if (auto i = running_.find(order_.front().second); i != running_.end()) {
      result.push_back(std::move(i->second));
      running_.erase(i);
    }
    order_.pop_front();
  }
  if (running_.empty()) {
    order_.clear();
    watching_ = false;
    next.reset();
  } else {
    next = std::max(order_.front().first, now + granularity_);
  }
  return result;
}

std::vector<caf::actor_addr> call_deadlines::close() {
  std::vector<caf::actor_addr> result;
  std::lock_guard<std::mutex> guard{mtx_};
  closed_ = true;
  // In start order, as the queue has them.
  for (auto& [deadline, id] : order_)
    if (auto i = running_.find(id); i != running_.end())
      result.push_back(std::move(i->second));
  order_.clear();
  running_.clear();
  return result;
}

size_t call_deadlines::running() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return running_.size();
}

size_t call_deadlines::queued() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return order_.size();
}

} // namespace postern::http
