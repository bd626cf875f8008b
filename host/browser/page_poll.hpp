#pragma once
// Waiting inside the page, across navigations. A page-side function that
// waits by itself (its last argument is the milliseconds left) is called;
// when a navigation destroys its document mid-wait (a redirect, a submitted
// form, a re-render that reloads), it is called again in the new document
// until the deadline, as Puppeteer's waitForSelector and Playwright's
// locators do. Element actions and wait_for are built on it.

#include "browser/script_target.hpp"

#include <functional>
#include <string>

namespace belay::browser {

struct PagePoll {
  const std::string* function_source = nullptr;  // outlives the poll (a static script)
  json args = json::array();                     // the time left is appended
  uint64_t timeout_ms = 0;
  std::string op;  // names the failures this poll makes itself
};

// `done` gets the function's result, or null when the deadline came during a
// navigation, or the error (timeout: the page stopped answering; the page's
// end). The returned function stops it from looking again (its caller gave
// up: Ctrl-C, an item deadline); `done` still runs once.
std::function<void()> poll_in_page(ScriptTarget& page, PagePoll poll, ScriptTarget::Done done);

}  // namespace belay::browser
