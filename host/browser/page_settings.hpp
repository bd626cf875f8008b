#pragma once
// What a page sends and how it is shown, overridden for this page only:
// extra request headers, the user agent, the viewport. Each lasts until
// the page closes or the script sets it again.

#include "browser/page.hpp"

#include <string>

namespace belay::browser {

struct Viewport {
  int width = 0;
  int height = 0;
  double scale = 1;  // device pixel ratio
  bool mobile = false;
};

// Headers added to every request of the page (a JSON object of strings);
// an empty object removes them.
void set_extra_headers(Page& page, nlohmann::json headers, uint64_t timeout_ms, std::string op,
                       Page::Done done);
// The User-Agent header and navigator.userAgent.
void set_user_agent(Page& page, const std::string& user_agent, uint64_t timeout_ms, std::string op,
                    Page::Done done);
void set_viewport(Page& page, const Viewport& viewport, uint64_t timeout_ms, std::string op,
                  Page::Done done);

}  // namespace belay::browser
