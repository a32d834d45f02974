// SPDX-License-Identifier: Apache-2.0
#define CAF_SUITE actors.node

#include "postern/actors/node.hpp"

#include "caf_test.hpp"
#include "postern/version.hpp"
#include "support/test_clock.hpp"

using namespace postern;
using namespace std::chrono_literals;

namespace {

struct fixture : test_coordinator_fixture<postern::test::configuration> {
  fixture() {
    aut = sys.spawn(node, std::vector<caf::actor>{});
    run();
  }

  ~fixture() override {
    anon_send_exit(aut, caf::exit_reason::user_shutdown);
    run();
  }

  /// Set before the NODE starts: its uptime counts on this clock.
  test::test_clock clock;
  node_actor aut;
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(node_tests, fixture)

CAF_TEST(status reports version and uptime) {
  self->send(aut, atom::status_v);
  expect((atom::status), from(self).to(aut));
  expect((node_status), from(aut).to(self));
  auto st = request<node_status>(aut, atom::status_v);
  CAF_CHECK_EQUAL(st.version, std::string{version});
  CAF_CHECK_EQUAL(st.uptime_seconds, 0);
  CAF_CHECK_EQUAL(st.components, 0);
  // Whole seconds since the start, rounded down.
  clock.advance(90'999ms);
  st = request<node_status>(aut, atom::status_v);
  CAF_CHECK_EQUAL(st.uptime_seconds, 90);
  clock.advance(1ms);
  st = request<node_status>(aut, atom::status_v);
  CAF_CHECK_EQUAL(st.uptime_seconds, 91);
}

CAF_TEST_FIXTURE_SCOPE_END()
