#include "core/loop_end.hpp"

#include <cstdio>
#include <string>

namespace belay {
namespace {

// Enough rounds for close callbacks that close further handles.
constexpr int kSettleRounds = 16;

}  // namespace

size_t end_loop(uv_loop_t* loop, const char* program) {
  for (int round = 0; round < kSettleRounds && uv_run(loop, UV_RUN_NOWAIT) != 0; ++round) {
  }
  struct Leaks {
    size_t count = 0;
    std::string names;
  } leaks;
  uv_walk(
      loop,
      [](uv_handle_t* handle, void* arg) {
        if (uv_is_closing(handle) != 0) return;
        auto* found = static_cast<Leaks*>(arg);
        ++found->count;
        if (!found->names.empty()) found->names += ", ";
        found->names += uv_handle_type_name(uv_handle_get_type(handle));
        uv_close(handle, nullptr);
      },
      &leaks);
  if (leaks.count > 0) {
    std::fprintf(stderr, "belay: internal: %s left %zu libuv handle(s) open at exit (%s); closed\n",
                 program, leaks.count, leaks.names.c_str());
  }
  // With every handle closing, only requests in flight (thread-pool work)
  // keep the loop alive, and they end by themselves.
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  return leaks.count;
}

}  // namespace belay
