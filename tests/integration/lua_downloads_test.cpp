// Downloads from Lua against real headless Chromium and the fixture
// server's /downloads page, over the pipe and over the WebSocket: where the
// file lands, what the `download` event says, and a download that fails.

#include "support/lua_harness.hpp"
#include "support/lua_matchers.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace belay::test {
namespace {

using nlohmann::json;

class LuaDownloads : public LuaTest {};
BELAY_LUA_OVER_BOTH_TRANSPORTS(LuaDownloads);

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 0777) : 0;
}

TEST_P(LuaDownloads, ExpectGivesTheSavedFileUnderTheDownloadsFolder) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "downloads")
    return page:expect("download", { timeout = 20000 }, function() page:click("#file") end)
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  const json& d = r.value();
  const std::string folder = h().state_dir() + "/downloads";
  EXPECT_EQ(d["suggested_name"], "report.json");
  EXPECT_EQ(d["url"], h().fixture().url("/echo-headers"));
  ASSERT_TRUE(d["path"].is_string()) << d.dump();
  const std::string path = d["path"];
  EXPECT_EQ(std::filesystem::path(path).parent_path(), std::filesystem::path(folder)) << path;
  EXPECT_EQ(std::filesystem::path(path).filename().string().rfind("report", 0), 0u) << path;
  // What the server sent: its echo of the request's headers.
  const std::string text = file_text(path);
  ASSERT_TRUE(json::accept(text)) << text;
  EXPECT_TRUE(json::parse(text).is_object()) << text;
  EXPECT_EQ(d["bytes"], text.size());
  // Nothing is left half-way in the browser's own folder.
  EXPECT_TRUE(std::filesystem::is_empty(folder + "/.incoming"));
  // Private, like screenshots: whatever the browser's umask.
  EXPECT_EQ(mode_of(path), 0600u) << std::oct << mode_of(path);
  EXPECT_EQ(mode_of(folder), 0700u) << std::oct << mode_of(folder);
  EXPECT_EQ(mode_of(folder + "/.incoming"), 0700u);
}

// A 5 MiB file comes in many chunks: the event waits for the whole file,
// and every byte is where the server put it.
TEST_P(LuaDownloads, AFiveMegabyteFileArrivesWholeAndUnchanged) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "downloads")
    return page:expect("download", { timeout = 30000 }, function() page:click("#big") end)
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  const json& d = r.value();
  constexpr size_t kSize = 5 * 1024 * 1024;
  EXPECT_EQ(d["suggested_name"], "data.bin");
  EXPECT_EQ(d["url"], h().fixture().url("/generated?kb=5120"));
  EXPECT_EQ(d["bytes"], kSize);
  ASSERT_TRUE(d["path"].is_string()) << d.dump();
  const std::string text = file_text(d["path"]);
  ASSERT_EQ(text.size(), kSize);
  EXPECT_TRUE(text == generated_bytes(kSize)) << "the saved file differs from what was served";
}

TEST_P(LuaDownloads, ASecondFileOfTheSameNameKeepsTheFirst) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "downloads")
    local paths = {}
    page:on("download", function(d) paths[#paths + 1] = d.path end)
    page:click("#twice")
    for _ = 1, 500 do
      if #paths == 2 then break end
      belay.sleep(20)
    end
    return paths
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  ASSERT_EQ(r.value().size(), 2u) << r.value().dump();
  const std::string first = r.value()[0];
  const std::string second = r.value()[1];
  EXPECT_NE(first, second);
  EXPECT_TRUE(std::filesystem::exists(first));
  EXPECT_TRUE(std::filesystem::exists(second));
  // Tests of a suite share a state dir: an earlier one may have saved
  // report.json already, so the two are report (n).json and report (n+1).json.
  const std::string name = std::filesystem::path(second).filename().string();
  EXPECT_EQ(name.rfind("report (", 0), 0u) << name;
  EXPECT_EQ(std::filesystem::path(second).extension(), ".json") << name;
}

TEST_P(LuaDownloads, AFailedDownloadIsNavigationFailedForExpectAndAnErrorForHandlers) {
  auto r = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "downloads")
    local seen
    page:on("download", function(d) seen = d end)
    local failed = catch(function()
      page:expect("download", { timeout = 20000 }, function() page:click("#missing") end)
    end)
    for _ = 1, 250 do
      if seen then break end
      belay.sleep(20)
    end
    return { failed = failed, seen = seen }
  )LUA"));
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_TRUE(
      LuaError(r.value()["failed"], {Kind::navigation_failed}, "page:expect", "no-such-file"));
  const json& seen = r.value()["seen"];
  EXPECT_TRUE(seen["error"].is_string()) << seen.dump();
  EXPECT_FALSE(seen.contains("path")) << seen.dump();
  EXPECT_EQ(seen["suggested_name"], "gone.txt");
}

}  // namespace
}  // namespace belay::test
