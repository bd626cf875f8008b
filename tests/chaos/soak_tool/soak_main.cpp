// belay-soak: the soak of tests/chaos/soak (see tests/chaos/README.md). A
// campaign over N items on the fixture server, run by the real belay while
// the soak breaks what it can by PID (chaos mode), or kills the host itself
// and restarts it (host-kill mode); then the figures, and exit 0 only when
// nothing was lost, failed, wrong or left running.

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "soak_phase.hpp"

namespace {

using belay::soak::PhaseFigures;
using belay::soak::PhaseSetup;
using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t g_interrupted = 0;  // set by SIGINT/SIGTERM

constexpr const char* kUsage = R"(usage: belay-soak [options]
  --items N        items in the campaign, per mode (default 40)
  --profiles P     browser profiles run at once (default 2)
  --mode M         chaos, host-kill or both (default both)
  --seconds T      give up after T s in all, reporting what happened
                   (default (120 + 3 N) per mode)
  --seed S         the chaos schedule (default: from the clock; printed)
  --host-kills K   host kills in host-kill mode (default 3 + N/250)
  --gap-ms A:B     chaos mode: A..B ms between actions (default 1000:3000)
  --transport T    pipe or ws for chaos mode and odd host runs (default pipe)
  --belay PATH     the belay binary (default: the one built beside this)
  --chrome PATH    the browser (default: $BELAY_CHROME, else belay's default)
  --json FILE      also write the figures as JSON
  --keep           keep the soak's directory (it is kept anyway on failure)
)";

struct Options {
  int items = 40;
  int profiles = 2;
  std::string mode = "both";
  double seconds = 0;
  std::optional<uint64_t> seed;
  int host_kills = -1;
  uint64_t gap_min_ms = 1000;
  uint64_t gap_max_ms = 3000;
  std::string transport = "pipe";
  std::string belay = std::string(BELAY_BINARY_DIR) + "/belay";
  std::string chrome;
  std::string json;
  bool keep = false;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "belay-soak: %s\n%s", message.c_str(), kUsage);
  std::exit(2);
}

uint64_t number(const std::string& name, const char* text) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-') {
    usage_error(name + " needs a number, got '" + text + "'");
  }
  return value;
}

Options parse(int argc, char** argv) {
  Options o;
  if (const char* chrome = std::getenv("BELAY_CHROME"); chrome != nullptr) o.chrome = chrome;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (arg == "--keep") {
      o.keep = true;
      continue;
    }
    static const std::set<std::string> kValued = {
        "--items",  "--profiles",  "--mode",  "--seconds", "--seed", "--host-kills",
        "--gap-ms", "--transport", "--belay", "--chrome",  "--json"};
    if (kValued.count(arg) == 0) usage_error("unknown option " + arg);
    if (i + 1 >= argc) usage_error(arg + " needs a value");
    const char* value = argv[++i];
    if (arg == "--items") {
      o.items = static_cast<int>(number(arg, value));
    } else if (arg == "--profiles") {
      o.profiles = static_cast<int>(number(arg, value));
    } else if (arg == "--mode") {
      o.mode = value;
    } else if (arg == "--seconds") {
      o.seconds = static_cast<double>(number(arg, value));
    } else if (arg == "--seed") {
      o.seed = number(arg, value);
    } else if (arg == "--host-kills") {
      o.host_kills = static_cast<int>(number(arg, value));
    } else if (arg == "--gap-ms") {
      const std::string gap = value;
      const size_t colon = gap.find(':');
      if (colon == std::string::npos) usage_error("--gap-ms needs MIN:MAX");
      o.gap_min_ms = number(arg, gap.substr(0, colon).c_str());
      o.gap_max_ms = number(arg, gap.substr(colon + 1).c_str());
    } else if (arg == "--transport") {
      o.transport = value;
    } else if (arg == "--belay") {
      o.belay = value;
    } else if (arg == "--chrome") {
      o.chrome = value;
    } else if (arg == "--json") {
      o.json = value;
    }
  }
  if (o.items < 1) usage_error("--items must be at least 1");
  if (o.profiles < 1) usage_error("--profiles must be at least 1");
  if (o.mode != "chaos" && o.mode != "host-kill" && o.mode != "both") {
    usage_error("--mode must be chaos, host-kill or both");
  }
  if (o.transport != "pipe" && o.transport != "ws") usage_error("--transport must be pipe or ws");
  if (o.gap_min_ms == 0 || o.gap_max_ms < o.gap_min_ms)
    usage_error("--gap-ms needs 0 < MIN <= MAX");
  if (::access(o.belay.c_str(), X_OK) != 0) usage_error("no belay binary at " + o.belay);
  return o;
}

void on_signal(int) { g_interrupted = 1; }

std::string make_root() {
  std::string templ = (std::filesystem::temp_directory_path() / "belay-soak-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) {
    std::fprintf(stderr, "belay-soak: mkdtemp: %s\n", std::strerror(errno));
    std::exit(2);
  }
  return templ;
}

// The command that runs this soak again: the same arguments, this seed.
std::string again(int argc, char** argv, uint64_t seed) {
  std::string command = "tests/chaos/soak";
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--seed" && i + 1 < argc) {
      ++i;
      continue;
    }
    command += std::string(" ") + argv[i];
  }
  return command + " --seed " + std::to_string(seed);
}

struct Soak {
  Options options;
  uint64_t seed = 0;
  std::vector<std::string> modes;
  double bound = 0;  // seconds, for all modes
  std::string root;
  Clock::time_point started;
};

std::vector<PhaseFigures> run_phases(const Soak& soak, const belay::soak::Log& log) {
  const Options& o = soak.options;
  std::vector<PhaseFigures> figures;
  for (size_t i = 0; i < soak.modes.size(); ++i) {
    PhaseSetup setup;
    setup.mode = soak.modes[i];
    setup.dir = soak.root + "/" + soak.modes[i];
    setup.belay = o.belay;
    setup.chrome = o.chrome;
    setup.transport = o.transport;
    setup.items = o.items;
    setup.profiles = o.profiles;
    setup.host_kills = o.host_kills >= 0 ? o.host_kills : 3 + o.items / 250;
    // A stopped process is held past the heartbeat's detection and the
    // supervisor's 3 s SIGTERM grace.
    setup.timing = {o.gap_min_ms, o.gap_max_ms,
                    belay::soak::kHealthIntervalMs + belay::soak::kHealthTimeoutMs + 5000};
    setup.seed = soak.seed * 2 + i;
    // Each phase may use its share of the bound and what the ones before it left.
    const double share =
        soak.bound * static_cast<double>(i + 1) / static_cast<double>(soak.modes.size());
    setup.deadline = soak.started + std::chrono::milliseconds(static_cast<int64_t>(share * 1000));
    setup.interrupted = &g_interrupted;
    figures.push_back(belay::soak::run_phase(setup, log));
    if (g_interrupted) break;
  }
  return figures;
}

// Prints the figures (and writes --json); true when every mode passed.
bool report(const Soak& soak, const std::vector<PhaseFigures>& figures) {
  bool ok = figures.size() == soak.modes.size();
  nlohmann::json phases = nlohmann::json::array();
  std::printf("\n");
  for (const auto& f : figures) {
    f.print(stdout);
    ok = ok && f.ok();
    phases.push_back(f.to_json());
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - soak.started).count();
  std::printf("\nbelay-soak: %s in %.1f s (seed %llu)\n", ok ? "PASS" : "FAIL", seconds,
              static_cast<unsigned long long>(soak.seed));
  if (!soak.options.json.empty()) {
    std::ofstream out(soak.options.json);
    out << nlohmann::json{{"seed", soak.seed},
                          {"items", soak.options.items},
                          {"profiles", soak.options.profiles},
                          {"mode", soak.options.mode},
                          {"seconds", seconds},
                          {"ok", ok},
                          {"dir", soak.root},
                          {"phases", phases}}
               .dump(2)
        << "\n";
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  Soak soak;
  soak.options = parse(argc, argv);
  const Options& o = soak.options;
  soak.seed = o.seed.value_or(static_cast<uint64_t>(
      std::chrono::system_clock::now().time_since_epoch().count() % 1000000007));
  if (o.mode != "host-kill") soak.modes.emplace_back("chaos");
  if (o.mode != "chaos") soak.modes.emplace_back("host-kill");
  soak.bound =
      o.seconds > 0 ? o.seconds : (120.0 + 3.0 * o.items) * static_cast<double>(soak.modes.size());
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);  // a closed stdout (| head) must not skip the clean-up
  soak.root = make_root();
  soak.started = Clock::now();
  std::printf("belay-soak: seed %llu, %d items x %d profiles, mode %s, bound %.0f s\n",
              static_cast<unsigned long long>(soak.seed), o.items, o.profiles, o.mode.c_str(),
              soak.bound);
  std::printf("belay-soak: again: %s\n", again(argc, argv, soak.seed).c_str());
  std::printf("belay-soak: dir %s\n", soak.root.c_str());
  std::fflush(stdout);
  const belay::soak::Log log = [started = soak.started](const std::string& line) {
    const double t = std::chrono::duration<double>(Clock::now() - started).count();
    std::printf("[%7.1fs] %s\n", t, line.c_str());
    std::fflush(stdout);
  };
  const bool ok = report(soak, run_phases(soak, log));
  if (o.keep || !ok) {
    std::printf("belay-soak: kept %s (per mode: campaign/, state/, belay-N.out/.err)\n",
                soak.root.c_str());
  } else {
    std::error_code ec;
    std::filesystem::remove_all(soak.root, ec);
  }
  return ok ? 0 : 1;
}
