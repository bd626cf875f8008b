// Hot reload of what a campaign requires: `belay run` on a campaign that
// requires a module beside it, while the test edits the module. The module
// is watched because the script host lists it among the files it loaded.

#include "support/belay_process.hpp"
#include "support/chromium.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

namespace belay::test {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr int kItems = 12;

std::string module_source(const std::string& version) {
  return "return { version = \"" + version + "\" }\n";
}

std::string campaign_source() {
  return "local helpers = require(\"helpers\")\n"
         "local items = {}\n"
         "for i = 1, " +
         std::to_string(kItems) +
         " do items[i] = { id = string.format(\"i%02d\", i) } end\n"
         "return {\n"
         "  name = \"reload-module\",\n"
         "  items = items,\n"
         "  run = function(page, item, ctx)\n"
         "    belay.sleep(300)\n"
         "    return { version = helpers.version }\n"
         "  end,\n"
         "}\n";
}

std::string name_of(const json& e) { return e.value("event", ""); }

std::string describe_events(const std::vector<json>& events) {
  std::string out;
  for (const auto& e : events) {
    out += name_of(e);
    if (e["item"].is_string()) out += ":" + e["item"].get<std::string>();
    if (name_of(e) == "item_ok") out += "=" + e["params"]["result"].value("version", "?");
    if (name_of(e) == "reload") out += "(" + e.value("outcome", std::string("?")) + ")";
    out += " ";
  }
  return out;
}

TEST(HotReloadModules, EditingARequiredModuleReloadsTheCampaign) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("campaign"));
  dir.write("campaign/campaign.lua", campaign_source());
  const std::string module = dir.write("campaign/helpers.lua", module_source("v1"));
  const std::string events_path = dir.file("state/events.jsonl");
  BelayProcess belay({"run", dir.file("campaign/campaign.lua"), "--state", dir.file("state"),
                      "--chrome", chrome_path()},
                     dir.path());
  ASSERT_TRUE(wait_for_event(
      events_path, [](const json& e) { return name_of(e) == "item_ok" && e["item"] == "i01"; },
      seconds(60), &belay))
      << belay.describe();

  // Saved in place, as an editor that truncates and writes does.
  const std::string v2 = module_source("v2");
  const int fd = ::open(module.c_str(), O_WRONLY | O_TRUNC);
  ASSERT_GE(fd, 0) << module;
  ASSERT_EQ(::write(fd, v2.data(), v2.size()), static_cast<ssize_t>(v2.size()));
  ::close(fd);
  auto reload = wait_for_event(
      events_path, [](const json& e) { return name_of(e) == "reload"; }, seconds(10), &belay);
  ASSERT_TRUE(reload) << "no reload event after editing the required module\n"
                      << describe_events(read_events(events_path)) << belay.describe();
  EXPECT_EQ((*reload)["outcome"], "ok") << reload->dump();
  EXPECT_EQ((*reload)["params"]["file"], module) << reload->dump();

  belay.wait(seconds(60));
  ASSERT_FALSE(belay.timed_out()) << belay.describe();
  EXPECT_EQ(belay.exit_code(), 0) << belay.describe();
  // An item that started after the reload ran the module's new value.
  const auto events = read_events(events_path);
  bool reloaded = false;
  std::set<std::string> started_after;
  size_t on_v2 = 0;
  for (const auto& e : events) {
    if (name_of(e) == "reload") reloaded = true;
    if (reloaded && name_of(e) == "item_start") started_after.insert(e["item"].get<std::string>());
    if (name_of(e) != "item_ok" || started_after.count(e["item"].get<std::string>()) == 0) continue;
    EXPECT_EQ(e["params"]["result"]["version"], "v2") << describe_events(events);
    ++on_v2;
  }
  EXPECT_GE(on_v2, 1u) << describe_events(events);
}

}  // namespace
}  // namespace belay::test
