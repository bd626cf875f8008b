#include "browser/element_actions.hpp"

#include "browser/element_scripts.hpp"
#include "browser/input_events.hpp"
#include "browser/page_poll.hpp"
#include "cdp/classify.hpp"
#include "cdp/reply_fields.hpp"
#include "core/defer.hpp"

#include <memory>

namespace belay::browser {
namespace {

// Errors these actions make themselves name the CDP method they rely on; a
// binding names its own call (page:click) when the error reaches Lua.
constexpr const char* kEvaluate = "Runtime.evaluate";

// An action that goes on after a reply holds the page by reference; a page
// destroyed while the reply was in flight (replaced by the supervisor,
// reopened by a ladder step) ends the action instead of being touched.
Error page_closed_during(const std::string& op) {
  return cdp::session_detached("the page was closed during the call", op);
}

// A field that is exactly `true`; anything else (absent, a string from a
// page that replaced its globals) is false. json::value would throw.
bool is_true(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

Error stopped_error() {
  return Error{Kind::cancelled, "the action was stopped by its caller", kEvaluate, {}};
}

// One action in progress: what its later steps need to know before they
// touch the page.
struct Action {
  ScriptTarget* page = nullptr;
  std::weak_ptr<bool> alive;
  bool stopped = false;
  StopAction stop_poll;

  // Why the action must not go on, if it must not.
  std::optional<Error> blocked(const std::string& op) const {
    if (alive.expired()) return page_closed_during(op);
    if (stopped) return stopped_error();
    return std::nullopt;
  }
};

StopAction stopper(const std::shared_ptr<Action>& action) {
  return [weak = std::weak_ptr<Action>(action)] {
    if (auto a = weak.lock()) {
      a->stopped = true;
      if (a->stop_poll) a->stop_poll();
    }
  };
}

// Runs the page-side half of `name` and hands its outcome object ({ok: true,
// …}) to `ready`, or ends `done` with the reason it did not get there.
void act(const std::shared_ptr<Action>& action, const std::string& selector, const char* name,
         json args, uint64_t timeout_ms, std::function<void(json)> ready, ScriptTarget::Done done) {
  PagePoll poll{&act_script(), json::array({selector, name, std::move(args)}), timeout_ms,
                kEvaluate};
  action->stop_poll = poll_in_page(
      *action->page, std::move(poll),
      [action, selector, timeout_ms, ready = std::move(ready),
       done = std::move(done)](Result<json> r) {
        if (!r) return done(std::move(r));
        if (auto why = action->blocked(kEvaluate)) return done(std::move(*why));
        const json& outcome = r.value();
        const std::string after = " after " + std::to_string(timeout_ms) + " ms";
        if (outcome.is_null()) {
          return done(Error{Kind::not_found,
                            "'" + selector + "' was not ready" + after +
                                ": the page was navigating when the time ran out",
                            kEvaluate,
                            {}});
        }
        if (!outcome.is_object()) {
          return done(cdp::protocol_error("the page-side action gave no outcome", kEvaluate));
        }
        if (auto fatal = outcome.find("fatal"); fatal != outcome.end() && fatal->is_string()) {
          return done(Error{Kind::script, fatal->get<std::string>(), kEvaluate, {}});
        }
        if (!is_true(outcome, "ok")) {
          return done(
              Error{Kind::not_found,
                    cdp::string_field(outcome, "reason", "'" + selector + "' not ready") + after,
                    kEvaluate,
                    {}});
        }
        ready(outcome);
      });
}

// Sends the steps one after another, `delay_ms` between steps, stopping at
// the first failure; each step is one or more commands sent in order.
void send_steps(std::shared_ptr<Action> action, std::vector<std::vector<cdp::Command>> steps,
                size_t step, size_t index, uint64_t delay_ms, ScriptTarget::Done done) {
  while (step < steps.size() && index >= steps[step].size()) {
    ++step;
    index = 0;
    if (delay_ms > 0 && step < steps.size()) {
      return defer_after(
          action->page->loop(), delay_ms,
          [action, steps = std::move(steps), step, delay_ms, done = std::move(done)]() mutable {
            if (auto why = action->blocked("Input.dispatchKeyEvent")) {
              return done(std::move(*why));
            }
            send_steps(action, std::move(steps), step, 0, delay_ms, std::move(done));
          });
    }
  }
  if (step >= steps.size()) return done(json(nullptr));
  cdp::Command next = steps[step][index];
  const std::string method = next.method;
  action->page->send_input(
      std::move(next), [action, steps = std::move(steps), step, index, delay_ms, method,
                        done = std::move(done)](Result<json> r) mutable {
        if (!r) return done(std::move(r));
        if (auto why = action->blocked(method)) return done(std::move(*why));
        send_steps(action, std::move(steps), step, index + 1, delay_ms, std::move(done));
      });
}

void send_commands(std::shared_ptr<Action> action, std::vector<cdp::Command> commands,
                   ScriptTarget::Done done) {
  send_steps(std::move(action), {std::move(commands)}, 0, 0, 0, std::move(done));
}

std::shared_ptr<Action> new_action(ScriptTarget& page) {
  auto action = std::make_shared<Action>();
  action->page = &page;
  action->alive = page.lifetime();
  return action;
}

json position_arg(const Position& position) {
  if (!position) return json(nullptr);
  return json{{"x", position->first}, {"y", position->second}};
}

void click_in_page(std::shared_ptr<Action> action, const json& outcome, const ClickOptions& options,
                   bool move_only, ScriptTarget::Done done) {
  MouseClick click{cdp::number_field(outcome, "x", 0.0), cdp::number_field(outcome, "y", 0.0),
                   options.button, options.count, options.modifiers};
  if (move_only) {
    return send_commands(
        std::move(action),
        {mouse_move_command(click.x, click.y, click.modifiers, options.timeout_ms)},
        std::move(done));
  }
  send_commands(std::move(action), mouse_click_commands(click, options.timeout_ms),
                std::move(done));
}

// Mouse input at the point the page-side half found, moved into the page's
// coordinates when the target is a frame.
void click_at(std::shared_ptr<Action> action, const std::string& selector, const json& outcome,
              const ClickOptions& options, bool move_only, ScriptTarget::Done done) {
  action->page->page_point(selector, cdp::number_field(outcome, "x", 0.0),
                           cdp::number_field(outcome, "y", 0.0), options.timeout_ms,
                           [action, options, move_only, done](Result<json> point) {
                             if (!point) return done(std::move(point));
                             if (auto why = action->blocked("DOM.getBoxModel"))
                               return done(std::move(*why));
                             click_in_page(action, point.value(), options, move_only, done);
                           });
}

StopAction point_action(ScriptTarget& page, const std::string& selector,
                        const ClickOptions& options, const char* name, bool move_only,
                        ScriptTarget::Done done) {
  auto action = new_action(page);
  act(
      action, selector, name,
      {{"position", position_arg(options.position)}, {"force", options.force}}, options.timeout_ms,
      [action, selector, options, move_only, done](json outcome) {
        click_at(action, selector, outcome, options, move_only, done);
      },
      done);
  return stopper(action);
}

// Inputs and text areas fire change when the user leaves them; a fill is a
// complete edit, so it fires change at once.
constexpr const char* kChangeJs = R"JS((() => {
  const el = document.activeElement;
  if (el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA')) {
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }
  return null;
})())JS";

}  // namespace

StopAction click(ScriptTarget& page, const std::string& selector, ClickOptions options,
                 ScriptTarget::Done done) {
  return point_action(page, selector, options, "click", false, std::move(done));
}

StopAction hover(ScriptTarget& page, const std::string& selector, ClickOptions options,
                 ScriptTarget::Done done) {
  return point_action(page, selector, options, "hover", true, std::move(done));
}

StopAction fill(ScriptTarget& page, const std::string& selector, const std::string& text,
                bool force, uint64_t timeout_ms, ScriptTarget::Done done) {
  auto action = new_action(page);
  act(
      action, selector, "fill", {{"text", text}, {"force", force}}, timeout_ms,
      [action, text, timeout_ms, done](json outcome) {
        if (is_true(outcome, "set")) return done(json(nullptr));
        std::vector<cdp::Command> edit;
        if (text.empty()) {
          edit = key_press_commands("Delete", timeout_ms).value();
        } else {
          edit.push_back(cdp::Command{"Input.insertText", {{"text", text}}, "", timeout_ms, ""});
        }
        send_commands(action, std::move(edit), [action, timeout_ms, done](Result<json> r) {
          if (!r) return done(std::move(r));
          action->page->evaluate(kChangeJs, timeout_ms, kEvaluate, [done](Result<json> changed) {
            if (!changed) return done(std::move(changed));
            done(json(nullptr));
          });
        });
      },
      done);
  return stopper(action);
}

StopAction type_text(ScriptTarget& page, const std::string& selector, const std::string& text,
                     uint64_t delay_ms, uint64_t timeout_ms, ScriptTarget::Done done) {
  auto action = new_action(page);
  act(
      action, selector, "type", json::object(), timeout_ms,
      [action, text, delay_ms, timeout_ms, done](json) {
        std::vector<std::vector<cdp::Command>> keys;
        for (const std::string& character : utf8_characters(text)) {
          keys.push_back(type_character_commands(character, timeout_ms));
        }
        send_steps(action, std::move(keys), 0, 0, delay_ms, done);
      },
      done);
  return stopper(action);
}

void press_keys(ScriptTarget& page, const std::string& keys, uint64_t timeout_ms,
                ScriptTarget::Done done) {
  auto commands = key_press_commands(keys, timeout_ms);
  if (!commands) return done(std::move(commands.error()));
  send_commands(new_action(page), std::move(commands.value()), std::move(done));
}

StopAction focus(ScriptTarget& page, const std::string& selector, uint64_t timeout_ms,
                 ScriptTarget::Done done) {
  auto action = new_action(page);
  act(
      action, selector, "focus", json::object(), timeout_ms, [done](json) { done(json(nullptr)); },
      done);
  return stopper(action);
}

StopAction select_options(ScriptTarget& page, const std::string& selector,
                          const std::vector<std::string>& values, uint64_t timeout_ms,
                          ScriptTarget::Done done) {
  auto action = new_action(page);
  act(
      action, selector, "select", {{"values", values}}, timeout_ms,
      [done](json outcome) {
        auto value = outcome.find("value");
        done(value != outcome.end() && value->is_array() ? *value : json::array());
      },
      done);
  return stopper(action);
}

StopAction set_checked(ScriptTarget& page, const std::string& selector, bool checked,
                       ClickOptions options, ScriptTarget::Done done) {
  auto action = new_action(page);
  act(
      action, selector, "check",
      {{"checked", checked},
       {"position", position_arg(options.position)},
       {"force", options.force}},
      options.timeout_ms,
      [action, selector, checked, options, done](json outcome) {
        if (is_true(outcome, "done")) return done(json(nullptr));
        click_at(action, selector, outcome, options, false,
                 [action, selector, checked, options, done](Result<json> r) {
                   if (!r) return done(std::move(r));
                   act(
                       action, selector, "checked", json::object(), options.timeout_ms,
                       [selector, checked, done](json state) {
                         if (is_true(state, "value") == checked) return done(json(nullptr));
                         done(Error{Kind::script,
                                    "clicking '" + selector + "' did not " +
                                        (checked ? "check" : "uncheck") +
                                        " it (the page refused the change)",
                                    kEvaluate,
                                    {}});
                       },
                       done);
                 });
      },
      done);
  return stopper(action);
}

StopAction read_element(ScriptTarget& page, const std::string& selector, ElementRead what,
                        const std::string& attribute, uint64_t timeout_ms,
                        ScriptTarget::Done done) {
  const char* name = "text";
  switch (what) {
    case ElementRead::text:
      name = "text";
      break;
    case ElementRead::html:
      name = "html";
      break;
    case ElementRead::attr:
      name = "attr";
      break;
    case ElementRead::value:
      name = "value";
      break;
    case ElementRead::checked:
      name = "checked";
      break;
  }
  auto action = new_action(page);
  act(
      action, selector, name, {{"name", attribute}}, timeout_ms,
      [done](json outcome) {
        auto value = outcome.find("value");
        done(value == outcome.end() ? json(nullptr) : *value);
      },
      done);
  return stopper(action);
}

StopAction upload_files(ScriptTarget& page, const std::string& selector,
                        const std::vector<std::string>& paths, uint64_t timeout_ms,
                        ScriptTarget::Done done) {
  auto action = new_action(page);
  act(
      action, selector, "upload", {{"count", paths.size()}}, timeout_ms,
      [action, selector, paths, timeout_ms, done](json) {
        // The element itself, as a remote object: the only way to hand it
        // files. Resolved again, like every look.
        action->page->evaluate_handle(
            first_element_expression(selector), timeout_ms,
            [action, selector, paths, timeout_ms, done](Result<json> r) {
              if (!r) return done(std::move(r));
              if (auto why = action->blocked(kEvaluate)) return done(std::move(*why));
              const std::string object_id = cdp::result_object_id(r.value());
              if (object_id.empty()) {
                return done(
                    Error{Kind::not_found, "no element matches '" + selector + "'", kEvaluate, {}});
              }
              action->page->send_here(
                  cdp::Command{"DOM.setFileInputFiles",
                               {{"files", paths}, {"objectId", object_id}},
                               "",
                               timeout_ms,
                               ""},
                  [action, object_id, done](Result<json> set) {
                    if (!action->alive.expired()) {
                      action->page->send_here(
                          cdp::Command{
                              "Runtime.releaseObject", {{"objectId", object_id}}, "", 5000, ""},
                          [](Result<json>) {});
                    }
                    if (!set) return done(std::move(set));
                    done(json(nullptr));
                  });
            });
      },
      done);
  return stopper(action);
}

StopAction element_box(ScriptTarget& page, const std::string& selector, uint64_t timeout_ms,
                       ScriptTarget::Done done) {
  auto action = new_action(page);
  act(
      action, selector, "box", json::object(), timeout_ms,
      [done](json outcome) {
        done(json{{"x", cdp::number_field(outcome, "x", 0.0)},
                  {"y", cdp::number_field(outcome, "y", 0.0)},
                  {"width", cdp::number_field(outcome, "width", 0.0)},
                  {"height", cdp::number_field(outcome, "height", 0.0)}});
      },
      done);
  return stopper(action);
}

void query_elements(ScriptTarget& page, const std::string& selector, const char* what,
                    uint64_t timeout_ms, ScriptTarget::Done done) {
  page.call_function(
      query_script(), json::array({selector, what}), timeout_ms, kEvaluate,
      [done = std::move(done)](Result<json> r) {
        if (!r) return done(std::move(r));
        const json& outcome = r.value();
        if (!outcome.is_object()) {
          return done(cdp::protocol_error("the page-side query gave no outcome", kEvaluate));
        }
        if (auto fatal = outcome.find("fatal"); fatal != outcome.end() && fatal->is_string()) {
          return done(Error{Kind::script, fatal->get<std::string>(), kEvaluate, {}});
        }
        auto value = outcome.find("value");
        done(value == outcome.end() ? json(nullptr) : *value);
      });
}

void document_html(ScriptTarget& page, uint64_t timeout_ms, ScriptTarget::Done done) {
  page.evaluate(
      "(document.doctype ? new XMLSerializer().serializeToString(document.doctype) + '\\n' : '')"
      " + document.documentElement.outerHTML",
      timeout_ms, kEvaluate, std::move(done));
}

StopAction wait_for(ScriptTarget& page, const std::string& selector, WaitForOptions options,
                    ScriptTarget::Done done) {
  const char* state = options.state == ElementState::visible  ? "visible"
                      : options.state == ElementState::hidden ? "hidden"
                                                              : "attached";
  auto action = new_action(page);
  act(
      action, selector, "wait", {{"state", state}}, options.timeout_ms,
      [done](json) { done(json(true)); }, done);
  return stopper(action);
}

}  // namespace belay::browser
