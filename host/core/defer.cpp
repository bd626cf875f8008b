#include "core/defer.hpp"

#include <memory>

namespace belay {
namespace {

struct Deferred {
  uv_idle_t idle;
  std::function<void()> fn;
};

struct DeferredAfter {
  uv_timer_t timer;
  std::function<void()> fn;
};

}  // namespace

void defer(uv_loop_t* loop, std::function<void()> fn) {
  auto deferred = std::make_unique<Deferred>();
  deferred->fn = std::move(fn);
  deferred->idle.data = deferred.get();
  uv_idle_init(loop, &deferred->idle);
  uv_idle_start(&deferred->idle, [](uv_idle_t* idle) {
    auto* d = static_cast<Deferred*>(idle->data);
    uv_idle_stop(idle);
    std::function<void()> fn = std::move(d->fn);
    // The handle is freed by its close callback, after fn has run.
    uv_close(reinterpret_cast<uv_handle_t*>(idle), [](uv_handle_t* h) {
      std::unique_ptr<Deferred> owned(static_cast<Deferred*>(h->data));
    });
    if (fn) fn();
  });
  deferred.release();  // owned by the handle until its close callback
}

void defer_after(uv_loop_t* loop, uint64_t ms, std::function<void()> fn) {
  auto deferred = std::make_unique<DeferredAfter>();
  deferred->fn = std::move(fn);
  deferred->timer.data = deferred.get();
  uv_timer_init(loop, &deferred->timer);
  uv_timer_start(
      &deferred->timer,
      [](uv_timer_t* timer) {
        auto* d = static_cast<DeferredAfter*>(timer->data);
        std::function<void()> fn = std::move(d->fn);
        uv_close(reinterpret_cast<uv_handle_t*>(timer), [](uv_handle_t* h) {
          std::unique_ptr<DeferredAfter> owned(static_cast<DeferredAfter*>(h->data));
        });
        if (fn) fn();
      },
      ms, 0);
  deferred.release();  // owned by the handle until its close callback
}

}  // namespace belay
