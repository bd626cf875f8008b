#pragma once
// One phase of the soak: a fixture server, the campaign, one state
// directory, the host(s) run on it, and the figures at the end.
//   chaos      one host run while the chaos driver works on its browsers;
//   host-kill  the host itself SIGKILLed at seeded points (after a seeded
//              number of items, plus a seeded delay so that it lands
//              mid-item) and `belay run` restarted on the same state until
//              a run ends by itself. Runs alternate the --transport given
//              and ws, whose browsers outlive a killed host, so that the
//              restarted host has orphans to reap.

#include <chrono>
#include <csignal>
#include <functional>
#include <string>

#include "chaos_driver.hpp"
#include "figures.hpp"

namespace belay::soak {

struct PhaseSetup {
  std::string mode;       // "chaos" or "host-kill"
  std::string dir;        // the phase's own directory (campaign/, state/, belay-N.out/.err)
  std::string belay;      // the binary
  std::string chrome;     // --chrome for belay run; empty: belay's default
  std::string transport;  // pipe or ws
  int items = 0;
  int profiles = 0;
  int host_kills = 0;
  ChaosTiming timing;
  uint64_t seed = 0;
  std::chrono::steady_clock::time_point deadline;  // give up then
  const volatile std::sig_atomic_t* interrupted = nullptr;
};

using Log = std::function<void(const std::string&)>;

PhaseFigures run_phase(const PhaseSetup& setup, const Log& log);

}  // namespace belay::soak
