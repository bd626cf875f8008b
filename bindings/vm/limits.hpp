#pragma once
// The quotas a LuaState enforces and where its print() goes: plain types,
// apart from the LuaState class, so the layers under it (quota, guards) can
// see them without seeing the class.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

namespace belay::lua {

struct Limits {
  size_t memory_bytes = 256u << 20;
  uint64_t slice_instructions = 200'000'000;
  uint64_t top_level_instructions = 20'000'000;
  int hook_every = 1000;
};

// Where print() goes (one line per call, without the newline).
using LogFunction = std::function<void(std::string_view line)>;

}  // namespace belay::lua
