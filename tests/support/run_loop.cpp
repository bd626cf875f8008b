#include "support/run_loop.hpp"

namespace belay::test {

bool run_until(uv_loop_t* loop, const std::function<bool()>& done, uint64_t timeout_ms) {
  uv_update_time(loop);
  const uint64_t deadline = uv_now(loop) + timeout_ms;
  // A timer keeps the loop from returning early while waiting for an event
  // that has no handle of its own yet.
  uv_timer_t tick;
  uv_timer_init(loop, &tick);
  uv_timer_start(
      &tick, [](uv_timer_t*) {}, 10, 10);
  bool ok = true;
  while (!done()) {
    if (uv_now(loop) >= deadline) {
      ok = false;
      break;
    }
    uv_run(loop, UV_RUN_ONCE);
    uv_update_time(loop);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
  uv_run(loop, UV_RUN_NOWAIT);
  return ok;
}

int drain_and_close(uv_loop_t* loop, uint64_t timeout_ms) {
  uv_update_time(loop);
  const uint64_t deadline = uv_now(loop) + timeout_ms;
  while (uv_loop_alive(loop) && uv_now(loop) < deadline) {
    uv_run(loop, UV_RUN_ONCE);
    uv_update_time(loop);
  }
  return uv_loop_close(loop);
}

}  // namespace belay::test
