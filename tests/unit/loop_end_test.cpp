// A command's loop at exit: a handle an owner forgot must not turn the end
// of `belay run` into a process spinning at 100% CPU.

#include "core/loop_end.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace belay {
namespace {

TEST(LoopEnd, AForgottenRepeatingTimerIsClosedAndNamedNotSpunOn) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  // Draining with UV_RUN_NOWAIT until the loop is not alive never ended
  // with this timer in it.
  auto* timer = new uv_timer_t;
  uv_timer_init(&loop, timer);
  uv_timer_start(
      timer, [](uv_timer_t*) {}, 1000, 1000);
  testing::internal::CaptureStderr();
  EXPECT_EQ(end_loop(&loop, "belay test"), 1u);
  const std::string said = testing::internal::GetCapturedStderr();
  EXPECT_THAT(said, ::testing::HasSubstr("belay test left 1 libuv handle(s) open at exit (timer)"))
      << said;
  delete timer;
}

TEST(LoopEnd, HandlesBeingClosedAreNoLeakAndTheirCallbacksRun) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  static int closed = 0;
  closed = 0;
  auto* idle = new uv_idle_t;
  uv_idle_init(&loop, idle);
  uv_idle_start(idle, [](uv_idle_t*) {});
  uv_close(reinterpret_cast<uv_handle_t*>(idle), [](uv_handle_t* h) {
    ++closed;
    delete reinterpret_cast<uv_idle_t*>(h);
  });
  testing::internal::CaptureStderr();
  EXPECT_EQ(end_loop(&loop, "belay test"), 0u);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(closed, 1);
}

}  // namespace
}  // namespace belay
