#pragma once
// Where element actions run: a page, or a frame inside it. Scripts run in
// the target's own document (a frame's execution context, on an
// out-of-process iframe's own session), while trusted input always goes to
// the page, in the page's coordinates: page_point() moves a point of the
// target's viewport there.

#include "cdp/connection.hpp"

#include <uv.h>

#include <functional>
#include <memory>
#include <string>

namespace belay::browser {

using json = nlohmann::json;

class ScriptTarget {
 public:
  using Done = std::function<void(Result<json>)>;

  virtual ~ScriptTarget() = default;

  virtual uv_loop_t* loop() const = 0;
  // Expires when the target goes (the page closed, the frame object
  // released): actions that outlive a reply check it before going on.
  virtual std::weak_ptr<bool> lifetime() const = 0;

  // Evaluates an expression (promises awaited); result: the JSON value.
  virtual void evaluate(const std::string& expression, uint64_t timeout_ms, std::string op,
                        Done done) = 0;
  // Evaluates an expression and keeps the result as a remote object;
  // result: the raw reply ({result: {objectId, …}}).
  virtual void evaluate_handle(const std::string& expression, uint64_t timeout_ms, Done done) = 0;
  // A command for the target's own session (DOM.*, Runtime.* on objects).
  virtual void send_here(cdp::Command command, Done done) = 0;
  // Input.* for the page the target is in.
  virtual void send_input(cdp::Command command, Done done) = 0;
  // The point (x, y) of the target's viewport, where the first element
  // `selector` matches is, in the page's viewport: result {x, y}. A frame
  // first scrolls the element into the page's view (across processes, which
  // settles a moment later: it checks the point is in view). A page answers
  // the point itself at once.
  virtual void page_point(const std::string& selector, double x, double y, uint64_t timeout_ms,
                          Done done) = 0;

  // Runs `start` (which sends commands for one call) and returns what
  // cancels the commands it sent meanwhile, for a call its script gave up
  // on: the browser's late answers are then dropped, nothing stays pending.
  using Cancel = std::function<void(const Error& why)>;
  virtual Cancel cancellable(const std::function<void()>& start) = 0;

  // Calls a function source with JSON arguments in the target's document.
  void call_function(const std::string& function_source, const json& args, uint64_t timeout_ms,
                     std::string op, Done done) {
    // JSON is a valid JavaScript literal, so the arguments travel inline.
    evaluate("(" + function_source + ").apply(null, " +
                 args.dump(-1, ' ', false, json::error_handler_t::replace) + ")",
             timeout_ms, std::move(op), std::move(done));
  }
};

}  // namespace belay::browser
