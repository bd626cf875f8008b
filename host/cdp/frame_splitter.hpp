#pragma once
// Splits the pipe's byte stream into NUL-terminated messages. Pure, so the
// framing of partial and concatenated reads is tested without a browser.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace belay::cdp {

class FrameSplitter {
 public:
  explicit FrameSplitter(size_t max_message_bytes) : max_(max_message_bytes) {}

  // Calls on_message for every complete frame in `bytes`, and on_oversized
  // once for a frame that grows past the limit (its bytes are skipped up to
  // the next NUL, so the stream resynchronises). A callback returns false
  // to stop at once (its owner is going away); feed then returns false.
  bool feed(std::string_view bytes, const std::function<bool(std::string_view)>& on_message,
            const std::function<bool(size_t)>& on_oversized);

  size_t buffered() const { return partial_.size(); }

 private:
  size_t max_;
  std::string partial_;
  bool skipping_ = false;  // inside an oversized frame
  size_t skipped_ = 0;
};

}  // namespace belay::cdp
