#include "cdp/frame_splitter.hpp"

#include <cstring>

namespace belay::cdp {

bool FrameSplitter::feed(std::string_view bytes,
                         const std::function<bool(std::string_view)>& on_message,
                         const std::function<bool(size_t)>& on_oversized) {
  while (!bytes.empty()) {
    const size_t nul = bytes.find('\0');
    const std::string_view chunk = bytes.substr(0, nul);
    if (skipping_) {
      skipped_ += chunk.size();
    } else if (partial_.size() + chunk.size() > max_) {
      skipping_ = true;
      skipped_ = partial_.size() + chunk.size();
      partial_.clear();
      partial_.shrink_to_fit();
    } else if (nul != std::string_view::npos && partial_.empty()) {
      if (!on_message(chunk)) return false;  // the common case: whole frame, no copy
    } else {
      partial_.append(chunk);
      if (nul != std::string_view::npos) {
        std::string message;
        message.swap(partial_);
        if (!on_message(message)) return false;
      }
    }
    if (nul == std::string_view::npos) return true;
    bytes.remove_prefix(nul + 1);
    if (skipping_) {
      skipping_ = false;
      const size_t size = skipped_;
      skipped_ = 0;
      if (!on_oversized(size)) return false;
    }
  }
  return true;
}

}  // namespace belay::cdp
