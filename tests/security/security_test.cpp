// What belay exposes to the rest of the machine: the sockets it and its
// browsers listen on or connect to, who may use its control socket, and who
// may read what it writes to the state directory. Each test runs the real
// binary on a real Chromium and looks at /proc, not at belay's own account.

#include "chrome/orphans.hpp"
#include "chrome/proc_table.hpp"
#include "support/belay_process.hpp"
#include "support/chaos_run.hpp"
#include "support/chromium.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

namespace belay::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

struct TcpSocket {
  std::string local;  // "7F000001:1F90", as /proc/net/tcp writes it
  std::string remote;
  int state = 0;  // 0x0A is LISTEN
};

constexpr int kTcpListen = 0x0A;

// Every TCP socket of this network namespace, by inode.
std::map<std::string, TcpSocket> tcp_sockets() {
  std::map<std::string, TcpSocket> sockets;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      if (fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode) {
        sockets[inode] = TcpSocket{local, remote, std::stoi(state, nullptr, 16)};
      }
    }
  }
  return sockets;
}

// The inodes of the sockets `pid` holds open.
std::set<std::string> socket_inodes(pid_t pid) {
  std::set<std::string> inodes;
  std::error_code ec;
  for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    const std::string target = fs::read_symlink(fd.path(), ec).string();
    if (!ec && target.rfind("socket:[", 0) == 0) {
      inodes.insert(target.substr(8, target.size() - 9));
    }
  }
  return inodes;
}

// The TCP sockets held by any of `pids`.
std::vector<TcpSocket> tcp_sockets_of(const std::vector<pid_t>& pids) {
  const auto all = tcp_sockets();
  std::vector<TcpSocket> held;
  for (pid_t pid : pids) {
    for (const auto& inode : socket_inodes(pid)) {
      const auto it = all.find(inode);
      if (it != all.end()) held.push_back(it->second);
    }
  }
  return held;
}

// "127.0.0.1:PORT" as /proc/net/tcp writes it for IPv4 (little-endian
// address, big-endian port).
std::string proc_net_address(const std::string& ws_url) {
  const auto colon = ws_url.rfind(':');
  const int port = std::stoi(ws_url.substr(colon + 1));
  char text[32];
  std::snprintf(text, sizeof text, "0100007F:%04X", port);
  return text;
}

const char* kSlowCampaign = R"(return {
  name = "exposure",
  items = "items.jsonl",
  profiles = { "p1" },
  run = function(page, item, ctx)
    page:navigate(item.url)
    belay.sleep(1500)
    return { title = page:title() }
  end,
}
)";

TEST(Security, PipeTransportListensOnNoTcpPort) {
  ChaosRun chaos;
  const std::string campaign = chaos.write_campaign(kSlowCampaign, 2);
  BelayProcess run(chaos.run_args(campaign), chaos.dir().path());
  const pid_t browser = chaos.wait_for_launch(1, seconds(60), &run);
  ASSERT_NE(browser, 0) << run.describe();

  const auto cmdline = chrome::read_proc_strings(browser, "cmdline");
  bool pipe = false;
  for (const auto& arg : cmdline) {
    pipe = pipe || arg == "--remote-debugging-pipe";
    EXPECT_EQ(arg.rfind("--remote-debugging-port", 0), std::string::npos) << arg;
  }
  EXPECT_TRUE(pipe) << "the default transport is the pipe";

  // Sampled while the items run: the host and every process of the
  // browser's group, which includes the network service.
  int samples = 0;
  while (run.running() && samples < 30) {
    std::vector<pid_t> browser_group = chrome::live_group_members(browser);
    for (const auto& socket : tcp_sockets_of(browser_group)) {
      EXPECT_NE(socket.state, kTcpListen) << "a browser process listens on " << socket.local;
    }
    EXPECT_TRUE(tcp_sockets_of({run.pid()}).empty()) << "the host holds a TCP socket";
    ++samples;
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_GE(samples, 5) << "the run ended before it could be looked at";
  EXPECT_EQ(run.wait(seconds(60)), 0) << run.describe();
}

TEST(Security, ConnectTalksOnlyToTheGivenEndpointAndLaunchesNothing) {
  ForeignChromium foreign;
  ASSERT_FALSE(foreign.ws_url().empty()) << "the test's own Chromium did not come up";
  const std::string endpoint = proc_net_address(
      foreign.ws_url().substr(0, foreign.ws_url().find('/', std::string("ws://").size())));
  ChaosRun chaos;
  const std::string campaign = chaos.write_campaign(kSlowCampaign, 2);
  BelayProcess run(chaos.run_args(campaign, {"--connect", foreign.ws_url()}), chaos.dir().path());
  ASSERT_TRUE(wait_for_event(
      chaos.events_path(), [](const json& e) { return e["event"] == "item_start"; }, seconds(60),
      &run))
      << run.describe();

  size_t seen = 0;
  while (run.running()) {
    for (const auto& socket : tcp_sockets_of({run.pid()})) {
      ++seen;
      EXPECT_EQ(socket.remote, endpoint) << "the host connected elsewhere";
      EXPECT_NE(socket.state, kTcpListen) << "the host listens on " << socket.local;
    }
    EXPECT_TRUE(chrome::find_marked_processes(chaos.state()).empty())
        << "belay launched a browser of its own";
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_GT(seen, 0u) << "the host's connection to the endpoint was never seen";
  EXPECT_EQ(run.wait(seconds(60)), 0) << run.describe();
  for (const auto& e : of_event(chaos.events(), "browser_launch")) {
    EXPECT_EQ(e["params"].value("pid", 0), 0) << e.dump();
  }
  // A Browser.close takes Chromium a moment to act on: give it one.
  std::this_thread::sleep_for(seconds(2));
  EXPECT_TRUE(foreign.alive()) << "belay ended a browser it did not start";
}

// Even with a umask of 0, every file belay creates in the state directory is
// 0600 and every directory 0700. The profiles' user-data-dirs are checked
// themselves; what Chromium writes inside them is Chromium's.
TEST(Security, StateFilesArePrivateWhateverTheUmask) {
  ChaosRun chaos;
  const std::string campaign = chaos.write_campaign(R"(return {
  name = "private",
  items = "items.jsonl",
  profiles = { "p1" },
  run = function(page, item, ctx)
    page:navigate(item.url)
    page:screenshot(item.id .. ".png")
    return { title = page:title() }
  end,
}
)",
                                                    1);
  BelayOptions options;
  options.umask = 0;
  BelayProcess run(chaos.run_args(campaign), chaos.dir().path(), options);
  ASSERT_TRUE(wait_for_event(
      chaos.events_path(), [](const json& e) { return e["event"] == "item_start"; }, seconds(60),
      &run))
      << run.describe();
  struct stat socket_stat {};
  ASSERT_EQ(::stat((chaos.state() + "/control.sock").c_str(), &socket_stat), 0);
  EXPECT_EQ(socket_stat.st_mode & 0777, 0600u) << "control.sock";
  ASSERT_EQ(run.wait(seconds(60)), 0) << run.describe();
  ASSERT_TRUE(fs::exists(chaos.state() + "/screenshots/item-1.png"));

  const fs::path state = chaos.state();
  const fs::path profiles = state / "profiles";
  size_t checked = 0;
  auto check = [&](const fs::path& path) {
    struct stat st {};
    ASSERT_EQ(::lstat(path.c_str(), &st), 0) << path;
    const mode_t mode = st.st_mode & 0777;
    if (S_ISDIR(st.st_mode)) {
      EXPECT_EQ(mode, 0700u) << path;
    } else {
      EXPECT_EQ(mode & 077, 0u) << path << " is readable by others: " << std::oct << mode;
    }
    ++checked;
  };
  check(state);
  for (auto it = fs::recursive_directory_iterator(state); it != fs::end(it); ++it) {
    check(it->path());
    if (it->path().parent_path() == profiles) it.disable_recursion_pending();
  }
  EXPECT_GE(checked, 6u) << "state, belay.db, events.jsonl, screenshots/, the shot, profiles/";
}

// The control socket serves only the user that runs the host: its mode stops
// another user first, and with the modes opened wide the peer's uid still
// does (SO_PEERCRED).
TEST(Security, ControlSocketRefusesAnotherUser) {
  ChaosRun chaos;
  const std::string campaign = chaos.write_campaign(kSlowCampaign, 3);
  BelayProcess run(chaos.run_args(campaign), chaos.dir().path());
  ASSERT_TRUE(wait_for_event(
      chaos.events_path(), [](const json& e) { return e["event"] == "item_start"; }, seconds(60),
      &run))
      << run.describe();
  const std::string socket = chaos.state() + "/control.sock";
  const std::string output = chaos.dir().file("nobody.out");
  const std::string as_nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups " +
                                belay_binary() + " attach --state " + chaos.state() +
                                " < /dev/null > " + output + " 2>&1";
  EXPECT_NE(std::system(as_nobody.c_str()), 0);
  ::chmod(chaos.dir().path().c_str(), 0755);
  ::chmod(chaos.state().c_str(), 0755);
  ::chmod(socket.c_str(), 0666);
  EXPECT_NE(std::system(as_nobody.c_str()), 0);
  std::ifstream out(output);
  std::stringstream text;
  text << out.rdbuf();
  EXPECT_NE(text.str().find("serves only its own user"), std::string::npos) << text.str();
  EXPECT_TRUE(run.running()) << "a refused client does not disturb the run";
  EXPECT_EQ(run.wait(seconds(120)), 0) << run.describe();
}

}  // namespace
}  // namespace belay::test
