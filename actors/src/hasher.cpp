// SPDX-License-Identifier: Apache-2.0
#include "postern/actors/hasher.hpp"

#include <caf/result.hpp>

namespace postern {

hasher_actor::behavior_type
hasher(hasher_actor::stateful_pointer<hasher_state> self,
       storage::password_hash_params params) {
  self->state.params = params;
  return {
    [=](atom::hash, const secret& password) -> caf::result<std::string> {
      auto encoded = storage::hash_password(password, self->state.params);
      if (!encoded)
        return encoded.error();
      return std::move(*encoded);
    },
    [=](atom::verify, const secret& password, const std::string& encoded) {
      return storage::verify_password(password, encoded);
    },
  };
}

std::vector<hasher_actor>
spawn_hashers(caf::actor_system& sys, size_t n,
              storage::password_hash_params params) {
  std::vector<hasher_actor> result;
  for (size_t i = 0; i < n; ++i)
    result.push_back(sys.spawn<caf::detached>(hasher, params));
  return result;
}

} // namespace postern
