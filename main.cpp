// SPDX-License-Identifier: Apache-2.0
// Postern: parse the configuration, then run the server until SIGINT/SIGTERM.
#include "postern/error.hpp"
#include "postern/log.hpp"
#include "postern/process/admin_commands.hpp"
#include "postern/process/command_line.hpp"
#include "postern/process/logging.hpp"
#include "postern/process/run_server.hpp"
#include "postern/version.hpp"

#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <iostream>

int main(int argc, char** argv) {
  // Block the stop signals before any thread starts, so every thread
  // inherits the mask and only sigwait() below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = postern::parse_command_line(args,
                                            postern::process_environment());
  if (!parsed) {
    std::cerr << "postern: " << postern::describe(parsed.error()) << "\n";
    return 2;
  }
  switch (parsed->what) {
    case postern::command::help:
      std::cout << postern::usage();
      return 0;
    case postern::command::version:
      std::cout << "postern " << postern::version << "\n";
      return 0;
    case postern::command::admin:
      // Quiet by default: the output is for scripts.
      if (auto err = postern::init_logging("warn", parsed->cfg.log_format))
        return 2;
      return postern::run_admin(std::move(parsed->cfg), parsed->admin_args,
                                std::cin, std::cout, std::cerr);
    case postern::command::serve:
      break;
  }
  if (auto err = postern::init_logging(parsed->cfg.log_level,
                                       parsed->cfg.log_format)) {
    std::cerr << "postern: " << postern::describe(err) << "\n";
    return 2;
  }
  auto rc = postern::run_server(std::move(parsed->cfg), [&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    POSTERN_INFO("received {}", sig == SIGINT ? "SIGINT" : "SIGTERM");
  });
  if (rc == 0)
    POSTERN_INFO("stopped");
  return rc;
}
