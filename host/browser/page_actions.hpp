#pragma once
// What users do on a page beyond navigate/evaluate: selectors, input,
// screenshots. Each action ends exactly once through `done`, like every
// Page operation; selector misses are `not_found`.

#include "browser/page.hpp"

#include <functional>
#include <string>

namespace belay::browser {

struct WaitForOptions {
  bool visible = false;
  uint64_t timeout_ms = 30000;
};

// Resolves with true when the selector matches (and is visible, if asked);
// `not_found` when it did not appear within the timeout; `timeout` when the
// page itself stopped answering. A navigation during the wait makes it look
// again in the new document. The returned function stops it from looking
// again (its caller gave up: Ctrl-C, an item deadline); `done` still runs once.
std::function<void()> wait_for(Page& page, const std::string& selector, WaitForOptions options,
                               Page::Done done);
void exists(Page& page, const std::string& selector, uint64_t timeout_ms, Page::Done done);
void click(Page& page, const std::string& selector, uint64_t timeout_ms, Page::Done done);
void type_text(Page& page, const std::string& selector, const std::string& text,
               uint64_t timeout_ms, Page::Done done);
void press_key(Page& page, const std::string& key, uint64_t timeout_ms, Page::Done done);
void inner_text(Page& page, const std::string& selector, uint64_t timeout_ms, Page::Done done);
void page_url(Page& page, uint64_t timeout_ms, Page::Done done);
void page_title(Page& page, uint64_t timeout_ms, Page::Done done);
// A PNG of the viewport; result: the bytes (binary string in a JSON string
// is not used: the callback gets {"path": path} after writing the file).
void screenshot(Page& page, const std::string& path, uint64_t timeout_ms, Page::Done done);

// Key definitions for press(): DOM key name -> code and keyCode.
struct KeyDefinition {
  const char* key;
  const char* code;
  int key_code;
  const char* text;  // what the key types, "" if nothing
};
const KeyDefinition* find_key(const std::string& name);

}  // namespace belay::browser
