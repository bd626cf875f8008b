#include "cdp/command_text.hpp"

namespace belay::cdp {
namespace {

using nlohmann::json;

// Method names and session ids are plain ASCII in practice: written as
// they are. Anything else (a quote, a control byte, non-ASCII from a
// script's page:cdp) goes through nlohmann's escaping.
void append_string(std::string& out, const std::string& s) {
  for (const char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f || c == '"' || c == '\\') {
      out += json(s).dump(-1, ' ', false, json::error_handler_t::replace);
      return;
    }
  }
  out += '"';
  out += s;
  out += '"';
}

}  // namespace

std::string command_text(uint64_t id, const std::string& method, const json& params,
                         const std::string& session_id) {
  std::string out;
  out.reserve(64 + method.size() + session_id.size());
  out += "{\"id\":";
  out += std::to_string(id);
  out += ",\"method\":";
  append_string(out, method);
  out += ",\"params\":";
  out += params.dump(-1, ' ', false, json::error_handler_t::replace);
  if (!session_id.empty()) {
    out += ",\"sessionId\":";
    append_string(out, session_id);
  }
  out += '}';
  return out;
}

}  // namespace belay::cdp
