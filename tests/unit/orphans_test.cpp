// Finding belay's browsers by their marker (chrome/host_marker, orphans)
// with stand-in processes: `sleep` started by this test with or without a
// marker in its environment. Which ones are found, and which are ended,
// must follow the marker and the host's liveness, never the name.

#include "chrome/orphans.hpp"
#include "chrome/host_marker.hpp"
#include "chrome/proc_table.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace belay::chrome {
namespace {

// A `sleep 60` with `extra` added to this process's environment.
class Sleeper {
 public:
  explicit Sleeper(const std::vector<std::string>& extra) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
    env.insert(env.end(), extra.begin(), extra.end());
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    char sleep_path[] = "/bin/sleep";
    char seconds[] = "60";
    char* argv[] = {sleep_path, seconds, nullptr};
    EXPECT_EQ(posix_spawn(&pid_, argv[0], nullptr, nullptr, argv, envp.data()), 0);
    // Until sleep has exec'd, /proc shows the test's own environment.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < until) {
      auto cmdline = read_proc_strings(pid_, "cmdline");
      if (!cmdline.empty() && cmdline[0] == "/bin/sleep") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  ~Sleeper() {
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  pid_t pid() const { return pid_; }
  bool running() const {
    auto info = read_proc(pid_);
    return info && info->state != 'Z';
  }

 private:
  pid_t pid_ = 0;
};

bool contains(const std::vector<MarkedProcess>& found, pid_t pid) {
  return std::any_of(found.begin(), found.end(), [pid](const auto& p) { return p.pid == pid; });
}

std::vector<std::string> as_env(const std::vector<std::pair<std::string, std::string>>& vars) {
  std::vector<std::string> out;
  for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
  return out;
}

class Orphans : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/belay-orphans-XXXXXX";
    state_ = mkdtemp(templ);
  }
  void TearDown() override { std::filesystem::remove_all(state_); }

  // A marker naming a host that is gone: PID 1 with a start time it never had.
  std::vector<std::string> dead_host_marker(const std::string& state) const {
    return {"BELAY_HOST=1:999999999", "BELAY_STATE=" + canonical_state_dir(state),
            "BELAY_PROFILE=p1"};
  }

  std::string state_;
};

TEST_F(Orphans, MarkerOfThisHostReadsBackAndTheHostIsAlive) {
  Sleeper marked(as_env(marker_env(state_ + "/", "p7")));
  auto marker = read_marker(marked.pid());
  ASSERT_TRUE(marker.has_value());
  EXPECT_EQ(marker->host_pid, ::getpid());
  EXPECT_EQ(marker->host_start_time, process_start_time(::getpid()));
  EXPECT_EQ(marker->state_dir, canonical_state_dir(state_));
  EXPECT_EQ(marker->profile, "p7");
  EXPECT_TRUE(host_alive(*marker));
}

TEST_F(Orphans, AReusedHostPidIsNotTheHost) {
  HostMarker marker;
  marker.host_pid = ::getpid();
  marker.host_start_time = process_start_time(::getpid()) + 1;
  EXPECT_FALSE(host_alive(marker));
  marker.host_pid = 0x3fffffff;  // no such process
  EXPECT_FALSE(host_alive(marker));
}

TEST_F(Orphans, OnlyMarkedProcessesOfThisStateWithADeadHostAreOrphans) {
  Sleeper orphan(dead_host_marker(state_));
  Sleeper live_hosts(as_env(marker_env(state_, "p2")));
  Sleeper other_state(dead_host_marker(state_ + "-other"));
  Sleeper unmarked({});
  Sleeper half_marked({"BELAY_STATE=" + canonical_state_dir(state_)});
  Sleeper garbled({"BELAY_HOST=abc", "BELAY_STATE=" + canonical_state_dir(state_)});

  const auto marked = find_marked_processes(state_);
  EXPECT_TRUE(contains(marked, orphan.pid()));
  EXPECT_TRUE(contains(marked, live_hosts.pid()));
  EXPECT_FALSE(contains(marked, other_state.pid()));
  EXPECT_FALSE(contains(marked, unmarked.pid()));
  EXPECT_FALSE(contains(marked, half_marked.pid()));
  EXPECT_FALSE(contains(marked, garbled.pid()));

  const auto orphans = find_orphans(state_);
  ASSERT_EQ(orphans.size(), 1u);
  EXPECT_EQ(orphans[0].pid, orphan.pid());
  EXPECT_FALSE(orphans[0].host_alive);
  EXPECT_EQ(orphans[0].marker.profile, "p1");

  EXPECT_TRUE(end_processes(orphans, 2000).empty());
  EXPECT_FALSE(orphan.running());
  EXPECT_TRUE(live_hosts.running());
  EXPECT_TRUE(other_state.running());
  EXPECT_TRUE(unmarked.running());
}

// A stopped process holds SIGTERM pending: it must still end.
TEST_F(Orphans, AStoppedOrphanIsEndedToo) {
  Sleeper orphan(dead_host_marker(state_));
  ASSERT_EQ(::kill(orphan.pid(), SIGSTOP), 0);
  const auto orphans = find_orphans(state_);
  ASSERT_EQ(orphans.size(), 1u);
  EXPECT_TRUE(end_processes(orphans, 2000).empty());
  EXPECT_FALSE(orphan.running());
}

// The PID of a process found earlier may belong to another by the time it
// is signalled: a process whose marker no longer matches is spared.
TEST_F(Orphans, AProcessWhoseMarkerChangedIsNotSignalled) {
  Sleeper innocent({});
  MarkedProcess stale;
  stale.pid = innocent.pid();
  stale.marker.host_pid = 1;
  stale.marker.state_dir = canonical_state_dir(state_);
  EXPECT_TRUE(end_processes({stale}, 500).empty());
  EXPECT_TRUE(innocent.running());
}

}  // namespace
}  // namespace belay::chrome
