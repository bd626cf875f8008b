// Replays every fuzz corpus and regression input (tests/fuzz/corpus/<target>/,
// tests/fuzz/regressions/<target>/) through its target's body, so each
// build — GCC, asan — checks them without libFuzzer. A crash, sanitizer
// report or broken invariant in a body aborts; a file that no longer
// parses as intended still must not.

#include "fuzz_targets.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace belay::fuzz {
namespace {

namespace fs = std::filesystem;
using Body = int (*)(const uint8_t*, size_t);

std::vector<fs::path> inputs_of(const std::string& target) {
  std::vector<fs::path> files;
  for (const char* kind : {"corpus", "regressions"}) {
    const fs::path dir = fs::path(BELAY_SOURCE_DIR) / "tests/fuzz" / kind / target;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

size_t replay(const std::string& target, Body body) {
  const auto files = inputs_of(target);
  for (const fs::path& file : files) {
    SCOPED_TRACE(file.string());
    std::ifstream in(file, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), {}};
    EXPECT_EQ(body(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), 0);
  }
  return files.size();
}

// The seed corpus is part of the target: each has at least five inputs.
TEST(FuzzCorpus, PipeFraming) { EXPECT_GE(replay("pipe_framing", fuzz_pipe_framing), 5u); }
TEST(FuzzCorpus, WsFrames) { EXPECT_GE(replay("ws_frames", fuzz_ws_frames), 5u); }
TEST(FuzzCorpus, CdpDispatch) { EXPECT_GE(replay("cdp_dispatch", fuzz_cdp_dispatch), 5u); }
TEST(FuzzCorpus, JsonLua) { EXPECT_GE(replay("json_lua", fuzz_json_lua), 5u); }
TEST(FuzzCorpus, ItemsFile) { EXPECT_GE(replay("items_file", fuzz_items_file), 5u); }
TEST(FuzzCorpus, CampaignTable) { EXPECT_GE(replay("campaign_table", fuzz_campaign_table), 5u); }
TEST(FuzzCorpus, LuaPattern) { EXPECT_GE(replay("lua_pattern", fuzz_lua_pattern), 5u); }

}  // namespace
}  // namespace belay::fuzz
