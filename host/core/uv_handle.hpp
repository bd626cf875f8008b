#pragma once
// RAII for libuv handles. The handle's memory must outlive uv_close until the
// close callback runs, so the owner never frees it directly: reset() detaches
// the handle (data = nullptr, so late callbacks find no owner) and frees it in
// the close callback.

#include <uv.h>

#include <memory>
#include <utility>

namespace belay {

template <typename T>
class UvHandle {
 public:
  UvHandle() : handle_(std::make_unique<T>()) {}
  ~UvHandle() { reset(); }
  UvHandle(UvHandle&& other) noexcept = default;
  UvHandle& operator=(UvHandle&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::move(other.handle_);
    }
    return *this;
  }
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;

  T* get() const { return handle_.get(); }
  T* operator->() const { return handle_.get(); }
  uv_handle_t* as_handle() const { return reinterpret_cast<uv_handle_t*>(handle_.get()); }
  uv_stream_t* as_stream() const { return reinterpret_cast<uv_stream_t*>(handle_.get()); }
  // True once uv_*_init ran on it (and it was not reset since).
  bool initialized() const { return handle_ != nullptr && as_handle()->loop != nullptr; }

  // Closes the handle (if it was ever initialised) and releases ownership.
  void reset() {
    if (!handle_) return;
    T* raw = handle_.release();
    auto* h = reinterpret_cast<uv_handle_t*>(raw);
    h->data = nullptr;
    // uv_*_init sets loop; a handle never initialised has none and was never
    // registered with a loop, so it can be freed at once.
    if (h->loop == nullptr) {
      delete raw;
      return;
    }
    uv_close(h, [](uv_handle_t* closed) { delete reinterpret_cast<T*>(closed); });
  }

 private:
  std::unique_ptr<T> handle_;
};

}  // namespace belay
