#pragma once
// Runs a function on the next turn of the loop. For the moments when the
// natural place to act is inside a callback of the very object that must go
// (destroying a browser from its own close callback).

#include <uv.h>

#include <cstdint>
#include <functional>

namespace belay {

void defer(uv_loop_t* loop, std::function<void()> fn);

// Runs a function after `ms` milliseconds of loop time. Nothing cancels it:
// the function checks for itself whether what it acts on still exists.
void defer_after(uv_loop_t* loop, uint64_t ms, std::function<void()> fn);

}  // namespace belay
