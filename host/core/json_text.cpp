#include "core/json_text.hpp"

namespace belay {

size_t nul_byte_at(std::string_view text) { return text.find('\0'); }

nlohmann::json parse_json_or_discard(std::string_view text) {
  if (nul_byte_at(text) != std::string_view::npos) {
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

}  // namespace belay
