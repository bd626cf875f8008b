#pragma once
// Ending a command's loop. Its owners close their handles as they go, so
// what is left at the end is a close callback or two; a handle still active
// there is a leak, and draining with UV_RUN_NOWAIT until the loop is not
// alive would spin on it forever at 100% CPU. Here such a handle is closed
// and told on stderr, and the command exits.

#include <uv.h>

#include <cstddef>

namespace belay {

// Runs LOOP's pending close callbacks, closes any handle still open (naming
// each on stderr as a bug of `program`), waits for requests in flight, and
// closes LOOP. Returns the number of handles it had to close.
size_t end_loop(uv_loop_t* loop, const char* program);

}  // namespace belay
