#include "core/timer.hpp"

namespace belay {

void Timer::after(uint64_t ms, std::function<void()> fn) {
  if (!handle_.initialized()) {
    uv_timer_init(loop_, handle_.get());
  }
  handle_->data = this;
  fn_ = std::move(fn);
  pending_ = true;
  uv_timer_start(
      handle_.get(),
      [](uv_timer_t* t) {
        auto* self = static_cast<Timer*>(t->data);
        if (self == nullptr) return;
        self->pending_ = false;
        // The function may re-arm or destroy this timer: run a moved-out copy.
        std::function<void()> fn = std::move(self->fn_);
        fn();
      },
      ms, 0);
}

void Timer::cancel() {
  pending_ = false;
  fn_ = nullptr;
  if (handle_.initialized()) uv_timer_stop(handle_.get());
}

}  // namespace belay
