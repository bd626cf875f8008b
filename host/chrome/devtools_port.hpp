#pragma once
// DevToolsActivePort: what a browser started with --remote-debugging-port=0
// writes into its user-data-dir (first line the port, second the browser
// target's path).

#include <optional>
#include <string>

namespace belay::chrome {

struct DevToolsEndpoint {
  int port = 0;
  std::string browser_path;  // "/devtools/browser/<id>"
  std::string browser_url() const;
};

std::string devtools_port_file(const std::string& user_data_dir);
// nullopt while the file is missing or still half-written.
std::optional<DevToolsEndpoint> read_devtools_port(const std::string& user_data_dir);
std::optional<DevToolsEndpoint> parse_devtools_port(const std::string& contents);

}  // namespace belay::chrome
