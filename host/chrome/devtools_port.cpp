#include "chrome/devtools_port.hpp"

#include <fstream>
#include <sstream>

namespace belay::chrome {

std::string DevToolsEndpoint::browser_url() const {
  return "ws://127.0.0.1:" + std::to_string(port) + browser_path;
}

std::string devtools_port_file(const std::string& user_data_dir) {
  return user_data_dir + "/DevToolsActivePort";
}

std::optional<DevToolsEndpoint> parse_devtools_port(const std::string& contents) {
  std::istringstream in(contents);
  std::string port_line;
  std::string path_line;
  if (!std::getline(in, port_line) || !std::getline(in, path_line)) return std::nullopt;
  if (path_line.rfind("/devtools/browser/", 0) != 0) return std::nullopt;
  try {
    size_t used = 0;
    const int port = std::stoi(port_line, &used);
    if (used != port_line.size() || port <= 0 || port > 65535) return std::nullopt;
    return DevToolsEndpoint{port, path_line};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<DevToolsEndpoint> read_devtools_port(const std::string& user_data_dir) {
  // A two-line local file, read while polling during start-up only.
  std::ifstream file(devtools_port_file(user_data_dir));
  if (!file) return std::nullopt;
  std::stringstream contents;
  contents << file.rdbuf();
  return parse_devtools_port(contents.str());
}

}  // namespace belay::chrome
