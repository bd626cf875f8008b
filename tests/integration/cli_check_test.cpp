// `belay check FILE...` end to end: the real binary on every sample in the
// repository and on broken campaigns, each problem reported as FILE:LINE and
// exit 2 (DESIGN.md "Command line", "A campaign returns a table").

#include "support/belay_process.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace belay::test {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Every *.lua under `dir` (recursively), sorted; none if it does not exist.
std::vector<std::string> lua_files_under(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return files;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".lua") {
      files.push_back(it->path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// A campaign with `fields` spliced into its table at line 4.
std::string campaign_with(const std::string& fields) {
  return "-- line 1\n"
         "return {\n"
         "  name = \"broken\",\n" +
         fields +
         "  items = { { id = \"a\" } },\n"
         "  run = function(page, item, ctx) return { ok = true } end,\n"
         "}\n";
}

class CliCheck : public ::testing::Test {
 protected:
  BelayRun check(const std::vector<std::string>& files) {
    std::vector<std::string> args = {"check"};
    args.insert(args.end(), files.begin(), files.end());
    return run_belay(args, dir_.path(), seconds(30));
  }

  TempDir dir_;
};

TEST_F(CliCheck, EverySampleInTheRepositoryPasses) {
  std::vector<std::string> files = lua_files_under(source_path("scripts"));
  const std::vector<std::string> ladders = lua_files_under(source_path("recovery-ladders"));
  files.insert(files.end(), ladders.begin(), ladders.end());
  const std::string demo = fs::path(source_path("scripts/demo/campaign.lua")).lexically_normal();
  ASSERT_TRUE(fs::exists(demo));
  bool has_demo = false;
  for (const auto& f : files) has_demo = has_demo || fs::path(f).lexically_normal() == demo;
  ASSERT_TRUE(has_demo) << "the glob missed " << demo;

  for (const auto& file : files) {
    SCOPED_TRACE(file);
    const BelayRun r = check({file});
    EXPECT_EQ(r.exit_code, 0) << r.describe;
    EXPECT_THAT(r.out, ::testing::HasSubstr(file + ": ok")) << r.describe;
  }
  // And all of them at once, as a pre-commit hook would.
  const BelayRun all = check(files);
  EXPECT_EQ(all.exit_code, 0) << all.describe;
  std::cout << "[ checked  ] " << files.size() << " sample file(s)\n";
}

TEST_F(CliCheck, DemoCampaignIsReportedAsACampaign) {
  const BelayRun r = check({source_path("scripts/demo/campaign.lua")});
  EXPECT_EQ(r.exit_code, 0) << r.describe;
  EXPECT_THAT(r.out, ::testing::HasSubstr("campaign 'demo'")) << r.describe;
  EXPECT_THAT(r.out, ::testing::HasSubstr("8 items")) << r.describe;
}

TEST_F(CliCheck, SyntaxErrorIsExitTwoWithFileAndLine) {
  const std::string file = dir_.write("syntax.lua",
                                      "return {\n"
                                      "  name = \"x\",\n"
                                      "  items = { { id = \"a\" } },\n"
                                      "  run = function(page, item, ctx)\n"
                                      "    local x = = 1\n"  // line 5
                                      "  end,\n"
                                      "}\n");
  const BelayRun r = check({file});
  EXPECT_EQ(r.exit_code, 2) << r.describe;
  EXPECT_TRUE(starts_with(r.err, file + ":5:")) << r.describe;
  EXPECT_TRUE(r.out.empty()) << r.describe;
}

TEST_F(CliCheck, UnknownFieldIsExitTwoNamingItAndItsLine) {
  const std::string file = dir_.write("unknown.lua", campaign_with("  retyr = {},\n"));
  const BelayRun r = check({file});
  EXPECT_EQ(r.exit_code, 2) << r.describe;
  EXPECT_TRUE(starts_with(r.err, file + ":4:")) << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr("'retyr'")) << r.describe;
}

TEST_F(CliCheck, IllTypedFieldIsExitTwoNamingTheDottedField) {
  const std::string file =
      dir_.write("illtyped.lua", campaign_with("  retry = { attempts = \"3\" },\n"));
  const BelayRun r = check({file});
  EXPECT_EQ(r.exit_code, 2) << r.describe;
  EXPECT_TRUE(starts_with(r.err, file + ":4:")) << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr("retry.attempts")) << r.describe;
}

// The supervisor's tables may be functions, or hold them; anything else
// there is named with its line.
TEST_F(CliCheck, PolicyFunctionsAreCheckedForTheirType) {
  const struct {
    const char* field;
    const char* message;
  } cases[] = {
      {"  supervisor = 5,\n", "field 'supervisor' must be a table or a function, got number"},
      {"  pause = { decide = 3 },\n", "field 'pause.decide' must be a function, got number"},
      {"  pause = { ended = \"later\" },\n", "field 'pause.ended' must be a function, got string"},
      {"  soft_restart = { decide = true },\n",
       "field 'soft_restart.decide' must be a function, got boolean"},
      {"  supervisor = { ended = function() end },\n",
       "field 'supervisor.ended' is not a known field"},
  };
  for (const auto& c : cases) {
    const std::string file = dir_.write("policy.lua", campaign_with(c.field));
    const BelayRun r = check({file});
    EXPECT_EQ(r.exit_code, 2) << r.describe;
    EXPECT_TRUE(starts_with(r.err, file + ":4:")) << r.describe;
    EXPECT_THAT(r.err, ::testing::HasSubstr(c.message)) << r.describe;
  }
  const std::string good = dir_.write(
      "good.lua", campaign_with("  supervisor = function(facts, options) end, pause = { ms = 5, "
                                "decide = function() end, ended = function() end },\n"));
  const BelayRun ok = check({good});
  EXPECT_EQ(ok.exit_code, 0) << ok.describe;
}

TEST_F(CliCheck, MissingRunIsExitTwo) {
  const std::string file = dir_.write("norun.lua",
                                      "return {\n"
                                      "  name = \"norun\",\n"
                                      "  items = { { id = \"a\" } },\n"
                                      "}\n");
  const BelayRun r = check({file});
  EXPECT_EQ(r.exit_code, 2) << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr("'run'")) << r.describe;
  EXPECT_TRUE(starts_with(r.err, file + ":")) << r.describe;
}

TEST_F(CliCheck, RunThatIsNotAFunctionIsExitTwo) {
  const std::string file = dir_.write("badrun.lua",
                                      "return {\n"
                                      "  name = \"badrun\",\n"
                                      "  items = { { id = \"a\" } },\n"
                                      "  run = \"go\",\n"
                                      "}\n");
  const BelayRun r = check({file});
  EXPECT_EQ(r.exit_code, 2) << r.describe;
  EXPECT_TRUE(starts_with(r.err, file + ":4:")) << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr("'run'")) << r.describe;
}

TEST_F(CliCheck, MissingItemsFileIsExitTwoNamingIt) {
  const std::string file = dir_.write("noitems.lua",
                                      "return {\n"
                                      "  name = \"noitems\",\n"
                                      "  items = \"no-such-items.jsonl\",\n"
                                      "  run = function(page, item, ctx) end,\n"
                                      "}\n");
  const BelayRun r = check({file});
  EXPECT_EQ(r.exit_code, 2) << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr("no-such-items.jsonl")) << r.describe;
}

TEST_F(CliCheck, RuntimeErrorAtTopLevelIsExitTwoWithFileAndLine) {
  const std::string file = dir_.write("runtime.lua",
                                      "local t = nil\n"
                                      "local y = 1\n"
                                      "local z = t.field\n"  // line 3
                                      "return { items = {}, run = function() end }\n");
  const BelayRun r = check({file});
  EXPECT_EQ(r.exit_code, 2) << r.describe;
  EXPECT_TRUE(starts_with(r.err, file + ":3:")) << r.describe;
}

TEST_F(CliCheck, SandboxViolationAtTopLevelIsExitTwo) {
  const std::string file = dir_.write("sandbox.lua",
                                      "local a = 1\n"
                                      "os.execute(\"touch " +
                                          dir_.file("escaped") +
                                          "\")\n"
                                          "return { items = {}, run = function() end }\n");
  const BelayRun r = check({file});
  EXPECT_EQ(r.exit_code, 2) << r.describe;
  EXPECT_TRUE(starts_with(r.err, file + ":2:")) << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr("sandbox")) << r.describe;
  EXPECT_FALSE(fs::exists(dir_.file("escaped"))) << "os.execute ran";
}

TEST_F(CliCheck, EndlessLoopAtTopLevelHitsTheBudgetQuickly) {
  const std::string file = dir_.write("loop.lua",
                                      "local n = 0\n"
                                      "while true do n = n + 1 end\n"
                                      "return { items = {}, run = function() end }\n");
  const BelayRun r = check({file});
  EXPECT_FALSE(r.timed_out) << r.describe;
  EXPECT_EQ(r.exit_code, 2) << r.describe;
  EXPECT_LT(r.seconds, 10.0) << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr("quota")) << r.describe;
  // With several files checked the report must say which one ran away.
  EXPECT_THAT(r.err, ::testing::HasSubstr(file)) << r.describe;
  std::cout << "[ budget   ] top-level loop stopped after " << r.seconds << " s\n";
}

TEST_F(CliCheck, SeveralFilesStopAtTheFirstBadOne) {
  const std::string good1 = dir_.write("good1.lua", campaign_with(""));
  const std::string bad = dir_.write("bad.lua", campaign_with("  retyr = {},\n"));
  const std::string good2 = dir_.write("good2.lua", campaign_with(""));
  const BelayRun r = check({good1, bad, good2});
  EXPECT_EQ(r.exit_code, 2) << r.describe;
  EXPECT_THAT(r.out, ::testing::HasSubstr(good1 + ": ok")) << r.describe;
  EXPECT_THAT(r.out, ::testing::Not(::testing::HasSubstr(good2))) << r.describe;
  EXPECT_TRUE(starts_with(r.err, bad + ":4:")) << r.describe;

  const BelayRun both_good = check({good1, good2});
  EXPECT_EQ(both_good.exit_code, 0) << both_good.describe;
  EXPECT_THAT(both_good.out, ::testing::HasSubstr(good2 + ": ok")) << both_good.describe;
}

TEST_F(CliCheck, UnreadableFileAndNoFilesAreExitTwo) {
  const BelayRun missing = check({dir_.file("does-not-exist.lua")});
  EXPECT_EQ(missing.exit_code, 2) << missing.describe;
  EXPECT_THAT(missing.err, ::testing::HasSubstr("does-not-exist.lua")) << missing.describe;

  const BelayRun none = check({});
  EXPECT_EQ(none.exit_code, 2) << none.describe;
}

}  // namespace
}  // namespace belay::test
