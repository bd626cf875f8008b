#pragma once
// Drives a libuv loop from a test until a condition holds or a deadline
// passes. The deadline is the test's own guard against hangs; it is not a
// performance assertion.

#include <uv.h>

#include <cstdint>
#include <functional>

namespace belay::test {

// Runs `loop` until `done()` is true. Returns false if `timeout_ms` passed
// first.
bool run_until(uv_loop_t* loop, const std::function<bool()>& done, uint64_t timeout_ms);

// Runs the loop until every handle is closed, then closes it; returns the
// result of uv_loop_close (0 when nothing leaked).
int drain_and_close(uv_loop_t* loop, uint64_t timeout_ms = 5000);

}  // namespace belay::test
