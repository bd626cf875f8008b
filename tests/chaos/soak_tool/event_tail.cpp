#include "event_tail.hpp"

#include <fstream>

namespace belay::soak {

std::string text(const nlohmann::json& event, const char* field) {
  const auto it = event.find(field);
  return it != event.end() && it->is_string() ? it->get<std::string>() : "";
}

size_t EventTail::poll() {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return 0;
  in.seekg(0, std::ios::end);
  const auto size = static_cast<uint64_t>(in.tellg());
  if (size <= offset_) return 0;
  in.seekg(static_cast<std::streamoff>(offset_));
  std::string chunk(size - offset_, '\0');
  in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  chunk.resize(static_cast<size_t>(in.gcount()));
  offset_ += chunk.size();
  partial_ += chunk;
  const size_t before = events_.size();
  size_t start = 0;
  for (size_t nl = partial_.find('\n'); nl != std::string::npos; nl = partial_.find('\n', start)) {
    auto event =
        nlohmann::json::parse(partial_.begin() + static_cast<std::ptrdiff_t>(start),
                              partial_.begin() + static_cast<std::ptrdiff_t>(nl), nullptr, false);
    if (event.is_discarded() || !event.is_object()) {
      ++bad_lines_;
    } else {
      events_.push_back(std::move(event));
    }
    start = nl + 1;
  }
  partial_.erase(0, start);  // a last line without its newline is still being written
  return events_.size() - before;
}

size_t EventTail::count(const std::string& name, const std::string& outcome) const {
  size_t n = 0;
  for (const auto& e : events_) {
    if (text(e, "event") == name && (outcome.empty() || text(e, "outcome") == outcome)) ++n;
  }
  return n;
}

int EventTail::latest_launch(const std::string& profile) const {
  for (auto it = events_.rbegin(); it != events_.rend(); ++it) {
    if (text(*it, "event") == "browser_launch" && text(*it, "profile") == profile &&
        text(*it, "outcome") == "ok") {
      const auto params = it->find("params");
      return params != it->end() && params->is_object() ? params->value("pid", 0) : 0;
    }
  }
  return 0;
}

}  // namespace belay::soak
