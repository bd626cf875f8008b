// TaskScope and the runtime's scopes: what a task registers is undone when
// the host's task that owns the scope ends, and the handler tasks started
// in it are cancelled (DESIGN.md "Lua API": subscriptions end with the item).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vm/error_value.hpp"
#include "vm/runtime.hpp"
#include "vm/sandbox.hpp"

namespace {

using belay::Kind;
using belay::lua::ResumeResult;
using belay::lua::ResumeStatus;
using belay::lua::Runtime;
using belay::lua::TaskScope;

TEST(TaskScope, UndoesRunOnceNewestFirstAndDroppedOnesNever) {
  std::vector<std::string> ran;
  auto scope = std::make_shared<TaskScope>();
  scope->on_end([&] { ran.push_back("first"); });
  const uint64_t dropped = scope->on_end([&] { ran.push_back("dropped"); });
  scope->on_end([&] { ran.push_back("last"); });
  scope->drop(dropped);
  scope->end();
  scope->end();
  EXPECT_EQ(ran, (std::vector<std::string>{"last", "first"}));
  EXPECT_TRUE(scope->ended());
  scope->on_end([&] { ran.push_back("late"); });
  EXPECT_EQ(ran.back(), "late") << "an undo registered after the end runs at once";
}

// A call that never completes by itself: only a cancel ends it. The slot
// lives in a frame of its own: the yield longjmps (Debian's Lua is C) past
// wait_forever's frame, whose C++ objects would never be destroyed.
bool start_wait_forever(lua_State* L) {
  return Runtime::from(L).begin_call(L, "wait_forever").has_value();
}

int wait_forever(lua_State* L) {
  if (!start_wait_forever(L)) return lua_error(L);
  return Runtime::yield_call(L);
}

class RuntimeScopes : public ::testing::Test {
 protected:
  void SetUp() override {
    uv_loop_init(&loop_);
    runtime_ = std::make_unique<Runtime>(&loop_);
    lua_pushcfunction(runtime_->main(), wait_forever);
    belay::lua::add_sandbox_global(runtime_->main(), "wait_forever");
  }
  void TearDown() override {
    runtime_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  }

  // A task running `source` (a chunk in the sandbox).
  lua_State* task_of(const std::string& source) {
    lua_State* task = runtime_->new_task();
    EXPECT_EQ(belay::lua::load_sandboxed(task, source, "=test"), LUA_OK);
    return task;
  }

  uv_loop_t loop_{};
  std::unique_ptr<Runtime> runtime_;
};

// The host's task ends; the handler it started, still waiting, is cancelled
// and may start no further call.
TEST_F(RuntimeScopes, AHandlerIsCancelledWhenItsHostTaskEnds) {
  std::shared_ptr<TaskScope> scope;
  bool owner_done = false;
  std::optional<belay::Error> child_error;
  lua_State* owner = task_of("wait_forever()");
  runtime_->start(owner, 0, [&](lua_State*, const ResumeResult&) { owner_done = true; });
  uv_run(&loop_, UV_RUN_NOWAIT);
  scope = runtime_->scope_of(owner);
  ASSERT_TRUE(scope);
  lua_State* child = task_of("wait_forever()");
  runtime_->start_child(scope, child, 0, [&](lua_State* t, const ResumeResult& r) {
    if (r.status == ResumeStatus::error) child_error = belay::lua::to_error(t, -1);
  });
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(runtime_->scope_of(child), scope);
  EXPECT_FALSE(child_error);
  runtime_->cancel_call(owner, belay::Error{Kind::cancelled, "item over", "", {}});
  for (int i = 0; i < 10 && !child_error; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_TRUE(owner_done);
  EXPECT_TRUE(scope->ended());
  ASSERT_TRUE(child_error);
  EXPECT_EQ(child_error->kind, Kind::cancelled);
  EXPECT_EQ(runtime_->running_tasks(), 0u);

  // A handler for a scope that has ended is never started.
  bool started = false;
  runtime_->start_child(scope, task_of("return 1"), 0,
                        [&](lua_State*, const ResumeResult&) { started = true; });
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_FALSE(started);
}

// A task that joins a scope its host owns (the console's) leaves it open.
TEST_F(RuntimeScopes, ATaskInAScopeItDoesNotOwnLeavesItOpen) {
  auto console = std::make_shared<TaskScope>();
  bool done = false;
  runtime_->start(
      task_of("return 1"), 0, [&](lua_State*, const ResumeResult&) { done = true; }, console);
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_TRUE(done);
  EXPECT_FALSE(console->ended());
}

}  // namespace
