// `belay repl` with stdin not a terminal: chunks read from stdin, results
// printed, so the console can be scripted.

#include "support/belay_process.hpp"
#include "support/fixture_server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace belay::test {
namespace {

TEST(ReplScripted, ReadsChunksFromStdinAndPrintsResults) {
  TempDir dir("belay-repl-scripted-");
  BackgroundFixtureServer fixture;
  dir.write("input.lua",
            "=1+1\n"
            "page:navigate('" +
                fixture.url("/page2") +
                "')\n"
                "=page:title()\n"
                "for i = 1, 2 do\n"
                "  print('n' .. i)\n"
                "end\n"
                "t = { 1, 2, { x = 'y' } }\n"
                "t.self = t\n"
                "=t\n"
                "error('boom')\n"
                "=#belay.json.encode({ a = 1 })\n");
  BelayOptions options;
  options.stdin_path = dir.file("input.lua");
  const BelayRun run = run_belay({"repl", "--state", dir.file("state")}, dir.path(),
                                 std::chrono::seconds(120), options);
  const std::string& out = run.out;
  const std::string& err = run.err;
  EXPECT_EQ(run.exit_code, 1) << "a failed chunk makes the exit code 1\n" << out << err;
  EXPECT_THAT(out, ::testing::HasSubstr("2\n")) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("\"Page 2\"\n")) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("n1\nn2\n")) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("{ 1, 2, { x = \"y\" }, self = <cycle> }")) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("\n7\n")) << "chunks after an error still run\n" << out;
  EXPECT_THAT(err, ::testing::HasSubstr("script: stdin:1: boom")) << err;
}

}  // namespace
}  // namespace belay::test
