// SPDX-License-Identifier: Apache-2.0
#define CAF_SUITE actors.node

#include "postern/actors/node.hpp"

#include "caf_test.hpp"
#include "postern/version.hpp"

using namespace postern;

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
  CAF_CHECK_GREATER_OR_EQUAL(st.uptime_seconds, 0);
}

CAF_TEST_FIXTURE_SCOPE_END()
