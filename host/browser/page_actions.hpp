#pragma once
// Reads and captures of a whole page: its URL, title and screenshots. Each
// ends exactly once through `done`, like every Page operation. Element
// actions are element_actions.hpp.

#include "browser/page.hpp"

#include <functional>
#include <string>

namespace belay::browser {

void page_url(Page& page, uint64_t timeout_ms, Page::Done done);
void page_title(Page& page, uint64_t timeout_ms, Page::Done done);
// A PNG of the viewport; result: the bytes (binary string in a JSON string
// is not used: the callback gets {"path": path} after writing the file).
void screenshot(Page& page, const std::string& path, uint64_t timeout_ms, Page::Done done);

}  // namespace belay::browser
