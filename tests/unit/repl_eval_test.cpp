// The console's evaluator without a browser: the `lua` REPL's chunk rules,
// the pretty printer, completion, errors, the budget and cancel.

#include "repl/repl.hpp"
#include "support/run_loop.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace belay::lua {
namespace {

TEST(ReplChunk, ExpressionsStatementsAndIncompleteChunks) {
  EXPECT_EQ(plan_chunk("=1+1").source, "return 1+1");
  EXPECT_TRUE(plan_chunk("1+1").expression);
  EXPECT_FALSE(plan_chunk("x = 1").expression);
  EXPECT_EQ(plan_chunk("x = 1").status, ChunkStatus::ready);
  EXPECT_EQ(plan_chunk("for i = 1, 3 do").status, ChunkStatus::incomplete);
  EXPECT_EQ(plan_chunk("for i = 1, 3 do\nprint(i)\nend").status, ChunkStatus::ready);
  EXPECT_EQ(plan_chunk("s = [[long").status, ChunkStatus::incomplete);
  EXPECT_EQ(plan_chunk("f(").status, ChunkStatus::incomplete);
  const ChunkPlan bad = plan_chunk("x = = 1");
  EXPECT_EQ(bad.status, ChunkStatus::syntax_error);
  EXPECT_THAT(bad.message, ::testing::HasSubstr("stdin:1:")) << bad.message;
}

class ReplEval : public ::testing::Test {
 protected:
  void SetUp() override {
    uv_loop_init(&loop_);
    ReplOptions options;
    options.instruction_budget = 5'000'000;  // a runaway stops fast
    options.print = [this](std::string_view line) { printed_.emplace_back(line); };
    auto made = Repl::create(&loop_, options);
    ASSERT_TRUE(made.ok()) << made.error().to_string();
    repl_ = std::move(made.value());
  }
  void TearDown() override {
    repl_.reset();
    EXPECT_EQ(test::drain_and_close(&loop_), 0);
  }
  ReplReply eval(const std::string& text) {
    std::optional<ReplReply> reply;
    repl_->evaluate(text, [&](ReplReply r) { reply = std::move(r); });
    EXPECT_FALSE(reply.has_value()) << "replies come from the loop";
    EXPECT_TRUE(test::run_until(
        &loop_, [&] { return reply.has_value(); }, 10000));
    return reply.value_or(ReplReply{false, "no reply"});
  }

  uv_loop_t loop_{};
  std::unique_ptr<Repl> repl_;
  std::vector<std::string> printed_;
};

TEST_F(ReplEval, ValuesPrintAndGlobalsPersist) {
  EXPECT_EQ(eval("=1+1").text, "2");
  EXPECT_EQ(eval("1, 'a', nil").text, "1\t\"a\"\tnil");
  EXPECT_TRUE(eval("x = 40").ok);
  EXPECT_EQ(eval("=x + 2").text, "42");
  EXPECT_EQ(eval("print('hi')").text, "");
  EXPECT_EQ(printed_, std::vector<std::string>{"hi"});
}

TEST_F(ReplEval, TablesNestCyclesAreMarkedLongListsCut) {
  EXPECT_EQ(eval("={ 1, 2, { a = 1, ['b c'] = true } }").text,
            "{ 1, 2, { [\"b c\"] = true, a = 1 } }");
  EXPECT_EQ(eval("t = {}; t.me = t; return t").text, "{ me = <cycle> }");
  const std::string list = eval("local t = {} for i = 1, 200 do t[i] = i end return t").text;
  EXPECT_THAT(list, ::testing::HasSubstr("... (150 more)")) << list;
  const std::string deep = eval("={ {{{{{{{{ 1 }}}}}}}} }").text;
  EXPECT_THAT(deep, ::testing::HasSubstr("{...}")) << deep;
  const std::string wide =
      eval("={ alpha = string.rep('a', 40), beta = string.rep('b', 40) }").text;
  EXPECT_THAT(wide, ::testing::HasSubstr("{\n  alpha = ")) << "a long table goes multi-line\n"
                                                           << wide;
  EXPECT_THAT(eval("=belay.json").text, ::testing::HasSubstr("encode = builtin"))
      << "a read-only proxy shows its table";
}

TEST_F(ReplEval, ErrorsPrintAsKindMessageOp) {
  const ReplReply thrown = eval("belay.error('timeout', 'too slow')");
  EXPECT_FALSE(thrown.ok);
  EXPECT_EQ(thrown.text.rfind("timeout: too slow (", 0), 0u) << thrown.text;
  EXPECT_EQ(eval("error('boom')").text, "script: stdin:1: boom");
  EXPECT_EQ(eval("x = = 1").text.rfind("script: stdin:1:", 0), 0u);
  EXPECT_EQ(eval("io.open('x')").text.rfind("sandbox: ", 0), 0u);
  EXPECT_EQ(eval("=1").text, "1") << "the console goes on after errors";
}

TEST_F(ReplEval, RunawayChunkIsStoppedByTheBudget) {
  const ReplReply r = eval("while true do end");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.text.rfind("sandbox: instruction quota exceeded", 0), 0u) << r.text;
  EXPECT_EQ(eval("=2").text, "2");
}

TEST_F(ReplEval, CancelEndsOnlyTheWaitingCall) {
  std::optional<ReplReply> reply;
  repl_->evaluate("belay.sleep(60000)", [&](ReplReply r) { reply = std::move(r); });
  test::run_until(
      &loop_, [&] { return repl_->busy(); }, 1000);
  test::run_until(
      &loop_, [] { return false; }, 100);
  EXPECT_TRUE(repl_->cancel("stop it"));
  EXPECT_TRUE(test::run_until(
      &loop_, [&] { return reply.has_value(); }, 5000));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->text, "cancelled: stop it (at stdin:1) (belay.sleep)");
  EXPECT_FALSE(repl_->cancel("nothing runs"));
  EXPECT_EQ(eval("=3").text, "3");
}

TEST_F(ReplEval, CompletesGlobalsFieldsAndMethods) {
  EXPECT_EQ(repl_->complete("belay.lo"), std::vector<std::string>{"belay.log"});
  EXPECT_EQ(repl_->complete("string.for"), std::vector<std::string>{"string.format"});
  eval("breaker = belay.circuit{}");
  const auto methods = repl_->complete("breaker:st");
  EXPECT_EQ(methods, std::vector<std::string>{"breaker:state"});
  const auto globals = repl_->complete("pa");
  EXPECT_NE(std::find(globals.begin(), globals.end(), "pairs"), globals.end());
  EXPECT_NE(std::find(globals.begin(), globals.end(), "page_of"), globals.end());
  EXPECT_TRUE(repl_->complete("io.o").empty()) << "no completion into forbidden names";
  EXPECT_TRUE(repl_->complete("nothing.here").empty());
}

TEST_F(ReplEval, HostFunctionsTakeAndReturnJson) {
  repl_->define("twice", [](const nlohmann::json& args) -> Result<nlohmann::json> {
    if (args.empty() || !args[0].is_number()) return Error{Kind::config, "a number", "twice", {}};
    return nlohmann::json{{"value", args[0].get<double>() * 2}};
  });
  EXPECT_EQ(eval("=twice(21).value").text, "42.0");
  EXPECT_EQ(eval("twice('x')").text, "config: a number (twice)");
}

}  // namespace
}  // namespace belay::lua
