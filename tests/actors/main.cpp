// SPDX-License-Identifier: Apache-2.0
// The CAF test runner: one binary, one suite per file (tests/actors/*.cpp).
#define CAF_TEST_NO_MAIN
#include <caf/test/unit_test_impl.hpp>

int main(int argc, char** argv) {
  return caf::test::main(argc, argv);
}
