#pragma once
// Splits a byte stream into newline-terminated lines (the control socket
// speaks one JSON message a line), with a cap on a line's length so a
// client that never sends a newline cannot make the host hold unbounded data.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace belay::control {

class LineBuffer {
 public:
  explicit LineBuffer(size_t max_line = 1u << 20) : max_line_(max_line) {}
  // Adds bytes; returns the lines they completed (without the newline).
  // Past the cap, overflowed() turns true and nothing more is returned.
  std::vector<std::string> feed(std::string_view bytes);
  bool overflowed() const { return overflowed_; }

 private:
  size_t max_line_;
  std::string pending_;
  bool overflowed_ = false;
};

}  // namespace belay::control
