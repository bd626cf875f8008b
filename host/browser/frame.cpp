#include "browser/frame.hpp"

#include "browser/element_scripts.hpp"
#include "browser/page_waits.hpp"
#include "cdp/classify.hpp"
#include "cdp/reply_fields.hpp"
#include "core/defer.hpp"

namespace belay::browser {

Frame::Frame(Page& page, std::string frame_id)
    : loop_(page.loop()),
      page_(&page),
      page_alive_(page.lifetime()),
      frame_id_(std::move(frame_id)) {}

Frame::~Frame() { alive_.reset(); }

Page* Frame::page_or_fail(const std::string& op, const Done& done) const {
  if (page_alive_.expired()) {
    done(cdp::session_detached("the frame's page was closed", op));
    return nullptr;
  }
  return page_;
}

ScriptTarget::Cancel Frame::cancellable(const std::function<void()>& start) {
  if (page_alive_.expired()) {
    start();
    return [](const Error&) {};
  }
  return page_->cancellable(start);
}

std::optional<FrameContext> Frame::context_or_fail(const std::string& op, const Done& done) const {
  Page* page = page_or_fail(op, done);
  if (page == nullptr) return std::nullopt;
  if (page->frames().detached(frame_id_)) {
    done(cdp::session_detached("the frame was detached from its page", op));
    return std::nullopt;
  }
  auto context = page->frames().context_of(frame_id_);
  if (!context) {
    // Between two documents: a look later finds the next one.
    done(Error{Kind::context_destroyed, "the frame has no document right now", op, {}});
    return std::nullopt;
  }
  return context;
}

void Frame::evaluate(const std::string& expression, uint64_t timeout_ms, std::string op,
                     Done done) {
  auto context = context_or_fail(op.empty() ? "Runtime.evaluate" : op, done);
  if (!context) return;
  page_->send_on(context->session_id,
                 cdp::Command{"Runtime.evaluate",
                              {{"expression", expression},
                               {"contextId", context->context_id},
                               {"returnByValue", true},
                               {"awaitPromise", true},
                               {"userGesture", true}},
                              "",
                              timeout_ms,
                              op},
                 [op, done = std::move(done)](Result<json> reply) {
                   done(Page::unwrap_remote_object(std::move(reply), op));
                 });
}

void Frame::evaluate_handle(const std::string& expression, uint64_t timeout_ms, Done done) {
  auto context = context_or_fail("Runtime.evaluate", done);
  if (!context) return;
  page_->send_on(context->session_id,
                 cdp::Command{"Runtime.evaluate",
                              {{"expression", expression},
                               {"contextId", context->context_id},
                               {"returnByValue", false}},
                              "",
                              timeout_ms,
                              ""},
                 std::move(done));
}

void Frame::send_here(cdp::Command command, Done done) {
  auto context = context_or_fail(command.op_or_method(), done);
  if (!context) return;
  page_->send_on(context->session_id, std::move(command), std::move(done));
}

void Frame::send_input(cdp::Command command, Done done) {
  Page* page = page_or_fail(command.op_or_method(), done);
  if (page != nullptr) page->send_input(std::move(command), std::move(done));
}

// Each frame's document has its own viewport: the frame's offset in the
// page is where its <iframe>'s content box sits in its parent's viewport,
// plus the parent's offset, up to the main frame. Parents come from the
// frame trees; an out-of-process iframe that no tree gives a parent hangs
// from the root frame of the session it was attached from.
void Frame::page_point(const std::string& selector, double x, double y, uint64_t timeout_ms,
                       Done done) {
  std::weak_ptr<bool> alive = alive_;
  // The element into the page's view first: the frame's own checks saw only
  // the frame's viewport.
  evaluate_handle(
      first_element_expression(selector), timeout_ms,
      [this, alive, selector, x, y, timeout_ms, done](Result<json> r) {
        if (!r) return done(std::move(r));
        if (alive.expired()) return done(cdp::session_detached("the frame was released"));
        const std::string object_id = cdp::result_object_id(r.value());
        if (object_id.empty()) {
          return done(Error{Kind::not_found,
                            "no element matches '" + selector + "'",
                            "DOM.scrollIntoViewIfNeeded",
                            {}});
        }
        send_here(
            cdp::Command{
                "DOM.scrollIntoViewIfNeeded", {{"objectId", object_id}}, "", timeout_ms, ""},
            [this, alive, object_id, x, y, timeout_ms, done](Result<json>) {
              if (alive.expired()) return done(cdp::session_detached("the frame was released"));
              send_here(
                  cdp::Command{"Runtime.releaseObject", {{"objectId", object_id}}, "", 5000, ""},
                  [](Result<json>) {});
              point_in_view(x, y, timeout_ms, 0, done, std::nullopt);
            });
      });
}

// A frame out of process scrolls its parents by a message, so the page's
// scroll may land a moment after the reply: the point is taken again until
// it is inside the page's viewport and the same twice in a row (or the
// tries run out; the click then goes where the page says).
void Frame::point_in_view(double x, double y, uint64_t timeout_ms, int attempt, Done done,
                          std::optional<std::pair<double, double>> last) {
  constexpr int kTries = 15;
  constexpr uint64_t kSettleMs = 30;
  Page* page = page_or_fail("Page.getFrameTree", done);
  if (page == nullptr) return;
  std::weak_ptr<bool> alive = alive_;
  page->frames().list(timeout_ms, [this, alive, x, y, timeout_ms, attempt, done,
                                   last](Result<json> frames) {
    if (!frames) return done(std::move(frames));
    if (alive.expired() || page_alive_.expired()) {
      return done(cdp::session_detached("the frame's page was closed", "Page.getFrameTree"));
    }
    offset_of(
        frame_id_, frames.value(), timeout_ms, 0, 0,
        [this, alive, x, y, timeout_ms, attempt, done, last](Result<json> offset) {
          if (!offset) return done(std::move(offset));
          if (alive.expired() || page_alive_.expired()) {
            return done(cdp::session_detached("the frame's page was closed", ""));
          }
          const double px = x + cdp::number_field(offset.value(), "dx", 0.0);
          const double py = y + cdp::number_field(offset.value(), "dy", 0.0);
          page_->evaluate(
              "[innerWidth, innerHeight]", timeout_ms, "",
              [this, alive, x, y, px, py, timeout_ms, attempt, done, last](Result<json> size) {
                const bool in_view = size && size.value().is_array() && size.value().size() == 2 &&
                                     size.value()[0].is_number() && size.value()[1].is_number() &&
                                     px >= 0 && py >= 0 && px < size.value()[0].get<double>() &&
                                     py < size.value()[1].get<double>();
                const bool settled = last && last->first == px && last->second == py;
                if ((in_view && settled) || attempt + 1 >= kTries || alive.expired()) {
                  return done(json{{"x", px}, {"y", py}});
                }
                defer_after(
                    loop_, kSettleMs, [this, alive, x, y, px, py, timeout_ms, attempt, done] {
                      if (alive.expired()) {
                        return done(cdp::session_detached("the frame was released"));
                      }
                      point_in_view(x, y, timeout_ms, attempt + 1, done, std::make_pair(px, py));
                    });
              });
        });
  });
}

void Frame::offset_of(const std::string& frame_id, const json& frames, uint64_t timeout_ms,
                      double dx, double dy, Done done) {
  auto entry_of = [&frames](const std::string& id) -> const json* {
    for (const auto& f : frames) {
      if (cdp::string_field(f, "id") == id) return &f;
    }
    return nullptr;
  };
  const json* entry = entry_of(frame_id);
  if (entry == nullptr) {
    return done(cdp::session_detached("the frame was detached from its page", "Page.getFrameTree"));
  }
  std::string parent = cdp::string_field(*entry, "parent");
  std::string parent_session;
  if (!parent.empty()) {
    const json* parent_entry = entry_of(parent);
    parent_session =
        parent_entry != nullptr ? cdp::string_field(*parent_entry, "session") : page_->session_id();
  } else {
    auto child = page_->frames().out_of_process(cdp::string_field(*entry, "session"));
    if (!child || child->frame_id != frame_id) {
      return done(json{{"dx", dx}, {"dy", dy}});  // the main frame
    }
    parent_session = child->parent_session_id;
    auto grand = page_->frames().out_of_process(parent_session);
    parent = grand ? grand->frame_id : page_->target_id();
  }
  std::weak_ptr<bool> alive = alive_;
  page_->send_on(
      parent_session,
      cdp::Command{"DOM.getFrameOwner", {{"frameId", frame_id}}, "", timeout_ms, ""},
      [this, alive, parent, parent_session, frames, timeout_ms, dx, dy, done](Result<json> owner) {
        if (!owner) return done(std::move(owner));
        if (alive.expired() || page_alive_.expired()) {
          return done(cdp::session_detached("the frame's page was closed", "DOM.getFrameOwner"));
        }
        page_->send_on(
            parent_session,
            cdp::Command{"DOM.getBoxModel",
                         {{"backendNodeId", cdp::integer_field(owner.value(), "backendNodeId", 0)}},
                         "",
                         timeout_ms,
                         ""},
            [this, alive, parent, frames, timeout_ms, dx, dy, done](Result<json> model) {
              if (!model) return done(std::move(model));
              if (alive.expired() || page_alive_.expired()) {
                return done(
                    cdp::session_detached("the frame's page was closed", "DOM.getBoxModel"));
              }
              const json& content = model.value().is_object() && model.value().contains("model") &&
                                            model.value()["model"].is_object()
                                        ? cdp::array_field(model.value()["model"], "content")
                                        : cdp::array_field(json::object(), "content");
              if (content.size() < 2 || !content[0].is_number() || !content[1].is_number()) {
                return done(cdp::protocol_error("the iframe has no box", "DOM.getBoxModel"));
              }
              offset_of(parent, frames, timeout_ms, dx + content[0].get<double>(),
                        dy + content[1].get<double>(), done);
            });
      });
}

namespace {

constexpr uint64_t kFramePollMs = 100;

struct FrameSearch {
  Page* page = nullptr;
  std::weak_ptr<bool> page_alive;
  std::string query;
  uint64_t timeout_ms = 0;
  uint64_t deadline = 0;
  bool stopped = false;
  ScriptTarget::Done done;
};

void look_for_frame(const std::shared_ptr<FrameSearch>& search);

// Looks again after a pause, or ends not_found at the deadline.
void again(const std::shared_ptr<FrameSearch>& search) {
  uv_loop_t* loop = search->page->loop();
  uv_update_time(loop);
  if (uv_now(loop) + kFramePollMs >= search->deadline) {
    return search->done(Error{Kind::not_found,
                              "no frame matches '" + search->query +
                                  "' (by name, URL glob or iframe selector) after " +
                                  std::to_string(search->timeout_ms) + " ms",
                              "Page.getFrameTree",
                              {}});
  }
  defer_after(loop, kFramePollMs, [search] {
    if (search->stopped) {
      return search->done(
          Error{Kind::cancelled, "the search was stopped by its caller", "Page.getFrameTree", {}});
    }
    if (search->page_alive.expired()) {
      return search->done(cdp::session_detached("the page was closed", "Page.getFrameTree"));
    }
    look_for_frame(search);
  });
}

// The frame `id` if it has a document now; else look again.
void settle(const std::shared_ptr<FrameSearch>& search, const json& frame) {
  if (search->page->frames().context_of(cdp::string_field(frame, "id"))) {
    return search->done(json{{"id", frame["id"]}, {"name", frame["name"]}, {"url", frame["url"]}});
  }
  again(search);
}

void look_for_frame(const std::shared_ptr<FrameSearch>& search) {
  const uint64_t call_timeout = std::max<uint64_t>(search->timeout_ms, 1000);
  search->page->frames().list(call_timeout, [search, call_timeout](Result<json> r) {
    if (!r) return search->done(std::move(r));
    if (search->page_alive.expired()) {
      return search->done(cdp::session_detached("the page was closed", "Page.getFrameTree"));
    }
    const json frames = r.value();
    for (const auto& f : frames) {
      if (cdp::string_field(f, "name") == search->query) return settle(search, f);
    }
    for (const auto& f : frames) {
      if (!cdp::string_field(f, "parent").empty() &&
          url_matches_glob(search->query, cdp::string_field(f, "url"))) {
        return settle(search, f);
      }
    }
    // An <iframe> the query selects in the main document: its frame id.
    Page* page = search->page;
    page->evaluate_handle(
        first_element_expression(search->query, /*quiet=*/true), call_timeout,
        [search, frames, call_timeout](Result<json> handle) {
          if (search->page_alive.expired()) {
            return search->done(cdp::session_detached("the page was closed", "DOM.describeNode"));
          }
          const std::string object_id = handle ? cdp::result_object_id(handle.value()) : "";
          if (object_id.empty()) return again(search);
          search->page->send(
              cdp::Command{"DOM.describeNode", {{"objectId", object_id}}, "", call_timeout, ""},
              [search, frames, object_id](Result<json> described) {
                if (search->page_alive.expired()) {
                  return search->done(
                      cdp::session_detached("the page was closed", "DOM.describeNode"));
                }
                search->page->send(
                    cdp::Command{"Runtime.releaseObject", {{"objectId", object_id}}, "", 5000, ""},
                    [](Result<json>) {});
                std::string id;
                if (described && described.value().is_object()) {
                  auto node = described.value().find("node");
                  if (node != described.value().end() && node->is_object()) {
                    id = cdp::string_field(*node, "frameId");
                  }
                }
                for (const auto& f : frames) {
                  if (!id.empty() && cdp::string_field(f, "id") == id) return settle(search, f);
                }
                again(search);
              });
        });
  });
}

}  // namespace

std::function<void()> find_frame(Page& page, const std::string& query, uint64_t timeout_ms,
                                 ScriptTarget::Done done) {
  auto search = std::make_shared<FrameSearch>();
  search->page = &page;
  search->page_alive = page.lifetime();
  search->query = query;
  search->timeout_ms = timeout_ms;
  uv_update_time(page.loop());
  search->deadline = uv_now(page.loop()) + timeout_ms;
  search->done = std::move(done);
  page.frames().start(std::max<uint64_t>(timeout_ms, 1000), [search](std::optional<Error> error) {
    if (error) return search->done(std::move(*error));
    if (search->page_alive.expired()) {
      return search->done(cdp::session_detached("the page was closed", "Runtime.enable"));
    }
    look_for_frame(search);
  });
  return [weak = std::weak_ptr<FrameSearch>(search)] {
    if (auto search = weak.lock()) search->stopped = true;
  };
}

}  // namespace belay::browser
