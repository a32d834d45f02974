// SPDX-License-Identifier: Apache-2.0
#include "postern/actors/hasher.hpp"

#include <caf/result.hpp>

#include <openssl/crypto.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

namespace postern {

namespace {

/// Password hashing is slow on purpose (Argon2id, ~100 ms of CPU each), so
/// a flood of wrong-password logins from many addresses could take every
/// core from the MCP clients. A HASHER's thread therefore runs under
/// SCHED_IDLE: it gets the CPU only when no normal thread wants it, so
/// logins wait under load and requests do not (with a nice value of +10 a
/// flood still doubled the p99 of tools/list on two cores; postern-bench
/// --flood-loops). Where SCHED_IDLE is refused, the lowest nice value.
/// Called in every handler, as CAF gives no hook on a detached actor's own
/// thread.
void lower_priority_of_this_thread() {
  thread_local bool lowered = false;
  if (lowered)
    return;
  lowered = true;
  sched_param none{};
  if (::pthread_setschedparam(::pthread_self(), SCHED_IDLE, &none) == 0)
    return;
  // On Linux, a thread id here changes only this thread's nice value.
  auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  ::setpriority(PRIO_PROCESS, tid, 19);
}

} // namespace

hasher_actor::behavior_type
hasher(hasher_actor::stateful_pointer<hasher_state> self,
       storage::password_hash_params params, bool background) {
  self->state.params = params;
  self->state.background = background;
  // Salts come from OpenSSL's RNG, which keeps per-thread state (a DRBG).
  // A process that exits right after a hash (an admin command) may end
  // before this detached thread has run its cleanup or its thread-local
  // destructors (CAF's shutdown does not wait for them): LeakSanitizer
  // then reports the DRBG as leaked, about once in a few hundred runs
  // under load (reproduced with fast_unwind_on_malloc=0: EVP_RAND_CTX_new
  // from hash_password on this thread). So the state is freed after each
  // hash, on this thread, before the answer goes out; re-creating it
  // costs microseconds against ~100 ms of Argon2.
  auto free_thread_state = [] { OPENSSL_thread_stop(); };
  self->attach_functor(free_thread_state);
  return {
    [=](atom::hash, const secret& password) -> caf::result<std::string> {
      if (self->state.background)
        lower_priority_of_this_thread();
      auto encoded = storage::hash_password(password, self->state.params);
      free_thread_state();
      if (!encoded)
        return encoded.error();
      return std::move(*encoded);
    },
    [=](atom::verify, const secret& password, const std::string& encoded) {
      if (self->state.background)
        lower_priority_of_this_thread();
      auto ok = storage::verify_password(password, encoded);
      free_thread_state();
      return ok;
    },
  };
}

std::vector<hasher_actor> spawn_hashers(caf::actor_system& sys, size_t n,
                                        storage::password_hash_params params,
                                        bool background) {
  std::vector<hasher_actor> result;
  for (size_t i = 0; i < n; ++i)
    result.push_back(sys.spawn<caf::detached>(hasher, params, background));
  return result;
}

} // namespace postern
