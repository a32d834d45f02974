// SPDX-License-Identifier: Apache-2.0
// postern-bench: the capacity benchmark operators size deployments with.
//
//   postern-bench setup  --users N --tokens FILE [--postern BIN] [account
//   flags] postern-bench run    --url URL --tokens FILE --clients C
//                        [--duration S | --requests N] [--mix SPEC]
//                        [--json FILE] [--svg FILE] [--threads T]
//                        [--era legacy|legacy-padded|modern] [--pid PID]
//                        (server CPU per call)
//                        [--flood-loops L [--flood-after S] [--flood-user U]
//                         [--flood-spoof 1]]   (wrong-password logins
//                         meanwhile)
//   postern-bench sessions --url URL --tokens FILE --sessions S --pid PID
//   postern-bench imap   --host H --port P --user U --password-file F
//                        --clients C --duration S   (direct-IMAP baseline)
//   postern-bench raw-imap --host H --port P --user U --password-file F
//                        --clients C --duration S [--pages N]
//                        [--operation list_messages|read_message]
//                        [--cpu-of imap,imap-login]  (the floor: one FETCH
//                        per call from a hand-written client)
//   postern-bench imap-fill --host H --port P --user U --password-file F
//                        --messages N  (INBOX up to N messages, for raw-imap
//                        and run)
//   postern-bench responder --port P [--body-bytes N] [--duration S]
//                        (a trivial server: the load generator's ceiling)
//
// Everything talks to loopback only, and every loop is bounded by a count
// and a time limit. See bench/README.md.

#include "bench_support.hpp"
#include "side_loads.hpp"

#include <algorithm>
#include <iostream>
#include <string>

using namespace postern::bench;

namespace {

// What --help prints: every mode with its flags, in the words of
// bench/README.md (which explains each number it reports).
constexpr const char* usage_text = R"(usage: postern-bench MODE [--name value]...

Modes:
  setup      --users N --tokens FILE [--postern BIN] [account flags]
             create N users with an account and a token each (admin commands)
  run        --url URL --tokens FILE --clients C [--duration S | --requests N]
             [--mix SPEC] [--json FILE] [--svg FILE] [--threads T]
             [--era legacy|legacy-padded|modern] [--pid PID]
             [--flood-loops L [--flood-after S] [--flood-user U] [--flood-spoof 1]]
             load the server with MCP calls; --pid adds server CPU per call
  sessions   --url URL --tokens FILE --sessions S --pid PID
             open S MCP sessions and report the server's memory per session
  imap       --host H --port P --user U --password-file F --clients C --duration S
             direct-IMAP baseline through libetpan
  raw-imap   --host H --port P --user U --password-file F --clients C --duration S
             [--pages N] [--operation list_messages|read_message]
             [--cpu-of imap,imap-login]
             the floor: one FETCH per call from a hand-written client
  imap-fill  --host H --port P --user U --password-file F --messages N
             fill INBOX up to N messages (for raw-imap and run)
  responder  --port P [--body-bytes N] [--duration S]
             a trivial HTTP server: the load generator's own ceiling

Everything talks to loopback only; every loop is bounded by a count and a
time limit. See bench/README.md.
)";

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << usage_text;
    return 2;
  }
  std::string first = argv[1];
  if (first == "--help" || first == "-h" || first == "help") {
    std::cout << usage_text;
    return 0;
  }
  std::string mode = argv[1];
  auto opts = parse_options(argc, argv, 2);
  if (mode == "setup")
    return setup(opts);
  if (mode == "run")
    return run(opts);
  if (mode == "sessions")
    return sessions(opts);
  if (mode == "imap")
    return imap_baseline(opts);
  if (mode == "raw-imap")
    return raw_imap_floor(opts);
  if (mode == "imap-fill")
    return imap_fill(opts);
  if (mode == "responder")
    return trivial_responder(
      static_cast<uint16_t>(opts.number("port", 0)),
      static_cast<size_t>(opts.number("body-bytes", 14000)),
      static_cast<unsigned>(std::min<long>(opts.number("duration", 60), 600)));
  std::cerr << "postern-bench: unknown mode \"" << mode << "\"\n\n"
            << usage_text;
  return 2;
}
