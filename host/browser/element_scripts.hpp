#pragma once
// The page-side halves of element actions and reads, as JavaScript function
// sources called through Runtime.evaluate. Both carry the selector engine:
// CSS by default, `text=` (visible text; case-insensitive substring, or exact
// when quoted) and `xpath=`.

#include <string>

namespace belay::browser {

// async (selector, action, args, timeoutMs) → {ok: true, …} | {ok: false,
// reason} | {fatal}. It looks for the element until it is ready for
// `action` (see element_actions.hpp for which conditions each action needs),
// re-resolving the selector on every look, and then does the page-side part
// of the action. `reason` says which condition failed last, for the timeout
// error; `fatal` is a mistake waiting cannot fix (a bad selector, a checkbox
// to fill).
const std::string& act_script();

// (selector, what) → {value} | {fatal}, without waiting: what is "count",
// "exists", "texts" (every match's innerText) or "visible" (the first match).
const std::string& query_script();

// (selector) → the first matching element itself, or null: for the calls
// that need a remote object (DOM.setFileInputFiles).
const std::string& element_script();
// The expression that calls element_script() on `selector`; with
// `quiet`, a selector that cannot be parsed gives null instead of throwing.
std::string first_element_expression(const std::string& selector, bool quiet = false);

}  // namespace belay::browser
