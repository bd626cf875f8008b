// What several commands' options share.

#include "commands.hpp"

#include <CLI/CLI.hpp>

namespace belay::cli {

CLI::Validator ws_url_validator() {
  return CLI::Validator(
      [](std::string& url) {
        return url.rfind("ws://", 0) == 0
                   ? std::string()
                   : "must be a ws:// URL (ws://127.0.0.1:PORT/devtools/browser/ID), got '" + url +
                         "'";
      },
      "WS_URL");
}

}  // namespace belay::cli
