#include "store/store.hpp"

#include <array>

namespace belay::store {
namespace {

// The names the `status` column stores: changing one orphans every state file.
constexpr std::array<std::string_view, 5> kStatusNames = {"pending", "running", "done", "failed",
                                                          "skipped"};

}  // namespace

std::string_view status_name(ItemStatus status) {
  return kStatusNames[static_cast<size_t>(status)];
}

std::optional<ItemStatus> status_from_name(std::string_view name) {
  for (size_t i = 0; i < kStatusNames.size(); ++i) {
    if (kStatusNames[i] == name) return static_cast<ItemStatus>(i);
  }
  return std::nullopt;
}

}  // namespace belay::store
