// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <caf/fwd.hpp>
#include <caf/type_id.hpp>

#include <cstdint>

namespace postern {

enum class ec : uint8_t;
struct node_status;

} // namespace postern

// -- atoms --------------------------------------------------------------------

namespace postern::atom {

// Re-export CAF's built-in atoms instead of redefining them (VAST/Broker).
using get = caf::get_atom;
constexpr auto get_v = caf::get_atom_v;
using put = caf::put_atom;
constexpr auto put_v = caf::put_atom_v;
using ok = caf::ok_atom;
constexpr auto ok_v = caf::ok_atom_v;

} // namespace postern::atom

// The one place where Postern's atoms and message types get their type IDs.
// Atom text: at most 10 characters, and only [0-9A-Za-z_ ] survive (CAF 0.17
// maps anything else silently), so never carry protocol strings in atoms.
CAF_BEGIN_TYPE_ID_BLOCK(postern, caf::first_custom_type_id)

  CAF_ADD_ATOM(postern, postern::atom, status, "status")

  CAF_ADD_TYPE_ID(postern, (postern::ec))
  CAF_ADD_TYPE_ID(postern, (postern::node_status))

CAF_END_TYPE_ID_BLOCK(postern)
