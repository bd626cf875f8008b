#pragma once
// What users do to elements: every action first waits, inside the page, until
// its element is ready for it, re-resolving the selector on every look and
// across navigations (page_poll), then acts with trusted input. Which
// conditions each action waits for follows Playwright's actionability:
//
//   click, dblclick, check, uncheck   attached, visible, stable, enabled, hit-testable
//   hover                             attached, visible, stable, hit-testable
//   fill, clear                       attached, visible, enabled, editable
//   type, select                      attached, visible, enabled
//   focus, upload, text, attr, value, html, is_checked      attached
//
// An element outside the viewport is scrolled into view before the
// hit-test. `force` skips every condition but attached. When the timeout
// passes the action ends `not_found` with the condition that failed last:
// "'#send' is covered by '#cookie-banner' after 10000 ms". A mistake waiting
// cannot fix (a malformed selector, fill on a checkbox) ends `script` at
// once. Every action ends exactly once through `done`; the returned function
// stops it (its caller gave up), and `done` then still runs once.

#include "browser/script_target.hpp"

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace belay::browser {

using StopAction = std::function<void()>;
using Position = std::optional<std::pair<double, double>>;  // from the element's top left

struct ClickOptions {
  std::string button = "left";  // left, right, middle
  int count = 1;
  int modifiers = 0;  // Modifier bits (input_events.hpp)
  Position position;  // default: the element's centre
  bool force = false;
  uint64_t timeout_ms = 10000;
};
// Result: null.
StopAction click(ScriptTarget& page, const std::string& selector, ClickOptions options,
                 ScriptTarget::Done done);
StopAction hover(ScriptTarget& page, const std::string& selector, ClickOptions options,
                 ScriptTarget::Done done);

// Focuses, selects the content, and inserts `text` as one edit (input
// events), then dispatches change; date, time, color and range inputs get
// the value as their picker would set it. Empty text clears. Result: null.
StopAction fill(ScriptTarget& page, const std::string& selector, const std::string& text,
                bool force, uint64_t timeout_ms, ScriptTarget::Done done);

// Focuses (caret at the end) and types key by key, `delay_ms` between keys.
StopAction type_text(ScriptTarget& page, const std::string& selector, const std::string& text,
                     uint64_t delay_ms, uint64_t timeout_ms, ScriptTarget::Done done);

// Presses a key or a combination ("Control+A") on whatever has focus.
void press_keys(ScriptTarget& page, const std::string& keys, uint64_t timeout_ms,
                ScriptTarget::Done done);

StopAction focus(ScriptTarget& page, const std::string& selector, uint64_t timeout_ms,
                 ScriptTarget::Done done);

// Selects the options whose value (else label) is each of `values`; waits
// for them to exist. Result: the selected values, an array.
StopAction select_options(ScriptTarget& page, const std::string& selector,
                          const std::vector<std::string>& values, uint64_t timeout_ms,
                          ScriptTarget::Done done);

// Clicks a checkbox or radio (or role=checkbox) unless it already is in the
// asked state, then makes sure the click changed it (`script` error if the
// page refused). Result: null.
StopAction set_checked(ScriptTarget& page, const std::string& selector, bool checked,
                       ClickOptions options, ScriptTarget::Done done);

// Reads of one element, waiting until it is attached.
enum class ElementRead { text, html, attr, value, checked };
// Result: the text (innerText), outerHTML, the attribute (null when absent),
// the value, or whether it is checked.
StopAction read_element(ScriptTarget& page, const std::string& selector, ElementRead what,
                        const std::string& attribute, uint64_t timeout_ms, ScriptTarget::Done done);

// Sets the files of an <input type=file> (DOM.setFileInputFiles: the page
// sees input and change), once it is attached. `paths` are absolute and
// already allowed; a single-file input refuses several (`script`). Result:
// null.
StopAction upload_files(ScriptTarget& page, const std::string& selector,
                        const std::vector<std::string>& paths, uint64_t timeout_ms,
                        ScriptTarget::Done done);

// The element's box in document coordinates {x, y, width, height}, once it
// is visible (scrolled into view first): a screenshot's clip.
StopAction element_box(ScriptTarget& page, const std::string& selector, uint64_t timeout_ms,
                       ScriptTarget::Done done);

// Reads that do not wait: "count", "exists", "texts", "visible" (the first
// match). Result: the number, boolean or array.
void query_elements(ScriptTarget& page, const std::string& selector, const char* what,
                    uint64_t timeout_ms, ScriptTarget::Done done);
// The whole document's HTML.
void document_html(ScriptTarget& page, uint64_t timeout_ms, ScriptTarget::Done done);

enum class ElementState { attached, visible, hidden };
struct WaitForOptions {
  ElementState state = ElementState::attached;
  uint64_t timeout_ms = 30000;
};
// Result: true once the selector's element is in `state` (hidden: nothing
// that matches is visible, nothing matching included).
StopAction wait_for(ScriptTarget& page, const std::string& selector, WaitForOptions options,
                    ScriptTarget::Done done);

}  // namespace belay::browser
