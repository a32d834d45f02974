// SPDX-License-Identifier: Apache-2.0
#include "postern/outbox.hpp"

namespace postern {

std::string_view to_string(outbox_status s) {
  switch (s) {
    case outbox_status::pending:
      return "pending";
    case outbox_status::sent:
      return "sent";
    case outbox_status::discarded:
      return "discarded";
    case outbox_status::expired:
      return "expired";
  }
  return "pending";
}

} // namespace postern
