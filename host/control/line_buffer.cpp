#include "control/line_buffer.hpp"

namespace belay::control {

std::vector<std::string> LineBuffer::feed(std::string_view bytes) {
  std::vector<std::string> lines;
  if (overflowed_) return lines;
  size_t start = 0;
  while (start < bytes.size()) {
    const size_t newline = bytes.find('\n', start);
    if (newline == std::string_view::npos) {
      pending_.append(bytes.substr(start));
      break;
    }
    pending_.append(bytes.substr(start, newline - start));
    if (pending_.size() > max_line_) break;
    lines.push_back(std::move(pending_));
    pending_.clear();
    start = newline + 1;
  }
  if (pending_.size() > max_line_) {
    overflowed_ = true;
    pending_.clear();
  }
  return lines;
}

}  // namespace belay::control
