// SPDX-License-Identifier: Apache-2.0
#include "postern/http/call_deadlines.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>

#include <gtest/gtest.h>

using namespace postern::http;
using namespace std::chrono_literals;

namespace {

struct call_deadlines_test : ::testing::Test {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  call_deadlines::clock::time_point t0 = call_deadlines::clock::now();

  caf::actor_addr some_call() {
    calls.push_back(sys.spawn([] { return caf::behavior{[](int) {}}; }));
    return calls.back().address();
  }

  ~call_deadlines_test() override {
    for (auto& c : calls)
      caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
  }

  std::vector<caf::actor> calls;
};

} // namespace

TEST_F(call_deadlines_test, calls_come_due_in_order_after_their_allowance) {
  call_deadlines d{30s, 100ms};
  auto a = some_call();
  auto b = some_call();
  EXPECT_EQ(d.add(a, t0).what, call_deadlines::added::wake_watcher);
  EXPECT_EQ(d.add(b, t0 + 1s).what, call_deadlines::added::watched);
  std::optional<call_deadlines::clock::time_point> next;
  EXPECT_TRUE(d.due(t0 + 29s, next).empty());
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, t0 + 30s);
  auto due = d.due(t0 + 30s, next);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0], a);
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, t0 + 31s);
  due = d.due(t0 + 40s, next);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0], b);
  // Nothing left: the watch stops, and the next call wakes it again.
  EXPECT_FALSE(next);
  EXPECT_EQ(d.running(), 0u);
  EXPECT_EQ(d.add(some_call(), t0 + 41s).what,
            call_deadlines::added::wake_watcher);
}

TEST_F(call_deadlines_test, the_watcher_wakes_at_most_once_per_granularity) {
  call_deadlines d{1s, 100ms};
  for (int i = 0; i < 50; ++i)
    d.add(some_call(), t0 + std::chrono::milliseconds(i));
  std::optional<call_deadlines::clock::time_point> next;
  auto due = d.due(t0 + 1s, next);
  EXPECT_EQ(due.size(), 1u);
  // The next deadline is 1 ms away, but the watcher looks again only after
  // the granularity, and then takes every call due by then at once.
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, t0 + 1s + 100ms);
  due = d.due(*next, next);
  EXPECT_EQ(due.size(), 49u);
  EXPECT_FALSE(next);
}

TEST_F(call_deadlines_test, a_call_that_reads_the_clock_late_keeps_the_order) {
  // Threads read the clock before they take the lock: a call added after
  // another with an earlier time still comes due after it.
  call_deadlines d{10s, 100ms};
  auto a = some_call();
  auto b = some_call();
  d.add(a, t0 + 5s);
  d.add(b, t0 + 4s);
  std::optional<call_deadlines::clock::time_point> next;
  EXPECT_TRUE(d.due(t0 + 14s, next).empty());
  auto due = d.due(t0 + 15s, next);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0], a);
  EXPECT_EQ(due[1], b);
}

TEST_F(call_deadlines_test, closing_hands_over_every_waiting_call) {
  // The watcher ends with the server and must end the calls still waiting
  // (their mail requests may never be answered), and those that start
  // after it.
  call_deadlines d{30s, 100ms};
  auto a = some_call();
  auto b = some_call();
  d.add(a, t0);
  d.add(b, t0);
  auto left = d.close();
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0], a);
  EXPECT_EQ(left[1], b);
  EXPECT_EQ(d.running(), 0u);
  auto late = d.add(some_call(), t0);
  EXPECT_EQ(late.what, call_deadlines::added::closed);
  EXPECT_EQ(late.id, 0u);
}

TEST_F(call_deadlines_test, a_call_that_answered_is_let_go_at_once) {
  // An address keeps an ended actor's memory allocated: with TOOL_TIMEOUT
  // at 150 s and thousands of calls a second, holding each until its
  // deadline would hold hundreds of MB.
  call_deadlines d{30s, 100ms};
  auto a = d.add(some_call(), t0);
  auto b = d.add(some_call(), t0);
  auto c = some_call();
  auto tc = d.add(c, t0 + 1s);
  d.finished(a.id);
  d.finished(b.id);
  EXPECT_EQ(d.running(), 1u);
  std::optional<call_deadlines::clock::time_point> next;
  EXPECT_TRUE(d.due(t0 + 30s, next).empty()); // a and b answered
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, t0 + 31s);
  // Once nothing runs, the queue of numbers is dropped too.
  d.finished(tc.id);
  EXPECT_TRUE(d.due(t0 + 30s + 100ms, next).empty());
  EXPECT_FALSE(next);
  EXPECT_EQ(d.queued(), 0u);
  EXPECT_EQ(d.running(), 0u);
}
