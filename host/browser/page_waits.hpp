#pragma once
// Waits on the page's own state rather than on an element: a JavaScript
// condition, a URL. Both poll from the host (a CDP round trip per look), so
// a page whose Content-Security-Policy forbids eval still works, and a
// navigation between looks is only a look that found nothing.

#include "browser/element_actions.hpp"
#include "browser/page.hpp"

#include <string>

namespace belay::browser {

struct FunctionWait {
  std::string source;  // an expression, or a function source …
  json args = json::array();
  bool call = false;  // … called with `args` when true
  uint64_t polling_ms = 100;
  uint64_t timeout_ms = 10000;
};

// Result: the first truthy value the source gives (JavaScript's truthiness:
// not null/undefined, false, 0, NaN or ""). `timeout` when none came in
// time; `js_exception` at once when the source throws.
StopAction wait_for_function(ScriptTarget& page, FunctionWait wait, ScriptTarget::Done done);

// Whether `url` matches `glob`: `**` any characters, `*` any but '/', every
// other character itself (`?` included). Without a wildcard, the whole URL.
bool url_matches_glob(const std::string& glob, const std::string& url);

}  // namespace belay::browser
