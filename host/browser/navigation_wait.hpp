#pragma once
// A navigation waiting for its document's lifecycle event: owned by its
// Page (page_navigation.cpp starts and ends it; ~Page and a session's end
// fail the ones left).

#include "browser/page.hpp"
#include "core/uv_handle.hpp"

#include <string>

namespace belay::browser {

struct Page::NavigationWait {
  Done done;
  std::string loader_id;      // wait for this loader, or ...
  std::string not_loader_id;  // ... for any loader but the current one (reload, history)
  std::string event_name;
  bool needs_quiet = false;  // networkidle: after event_name, the network's quiet
  bool reached = false;      // event_name came; waiting for the quiet
  std::string op;
  uint64_t timeout_ms = 0;
  json result;
  UvHandle<uv_timer_t> timer;
};

}  // namespace belay::browser
