#pragma once
// A restartable one-shot timer that calls a std::function. Destroying it or
// calling cancel() guarantees the function is not called afterwards.

#include "core/uv_handle.hpp"

#include <cstdint>
#include <functional>

namespace belay {

class Timer {
 public:
  explicit Timer(uv_loop_t* loop) : loop_(loop) {}
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Replaces any pending call.
  void after(uint64_t ms, std::function<void()> fn);
  void cancel();
  bool pending() const { return pending_; }

 private:
  uv_loop_t* loop_;
  UvHandle<uv_timer_t> handle_;
  std::function<void()> fn_;
  bool pending_ = false;
};

}  // namespace belay
