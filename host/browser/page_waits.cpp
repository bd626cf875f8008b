#include "browser/page_waits.hpp"

#include "core/defer.hpp"

#include <cmath>
#include <memory>
#include <vector>

namespace belay::browser {
namespace {

constexpr const char* kEvaluate = "Runtime.evaluate";

bool truthy(const json& value) {
  if (value.is_null()) return false;
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_number()) {
    const double v = value.get<double>();
    return v != 0 && !std::isnan(v);
  }
  if (value.is_string()) return !value.get<std::string>().empty();
  return true;  // arrays and objects
}

struct Poll {
  ScriptTarget* page = nullptr;
  std::weak_ptr<bool> alive;
  FunctionWait wait;
  uint64_t deadline = 0;
  bool stopped = false;
  json last = nullptr;
  ScriptTarget::Done done;
};

void look(const std::shared_ptr<Poll>& poll) {
  uv_loop_t* loop = poll->page->loop();
  uv_update_time(loop);
  const uint64_t now = uv_now(loop);
  const uint64_t left = poll->deadline > now ? poll->deadline - now : 0;
  auto next = [poll](Result<json> r) {
    if (poll->stopped) {
      return poll->done(
          Error{Kind::cancelled, "the wait was stopped by its caller", kEvaluate, {}});
    }
    if (r && truthy(r.value())) return poll->done(std::move(r));
    // A navigation between looks destroys the context of one: look again.
    if (!r && r.error().kind != Kind::context_destroyed) return poll->done(std::move(r));
    if (r) poll->last = r.value();
    uv_loop_t* loop = poll->page->loop();
    uv_update_time(loop);
    if (uv_now(loop) >= poll->deadline) {
      return poll->done(Error{
          Kind::timeout,
          "the function gave no truthy value within " + std::to_string(poll->wait.timeout_ms) +
              " ms (last: " + poll->last.dump(-1, ' ', false, json::error_handler_t::replace) + ")",
          kEvaluate,
          {}});
    }
    const uint64_t pause = std::min(poll->wait.polling_ms, poll->deadline - uv_now(loop));
    defer_after(loop, pause, [poll] {
      if (poll->stopped) {
        return poll->done(
            Error{Kind::cancelled, "the wait was stopped by its caller", kEvaluate, {}});
      }
      if (poll->alive.expired()) {
        return poll->done(
            Error{Kind::target_closed, "the page was closed during the wait", kEvaluate, {}});
      }
      look(poll);
    });
  };
  // Each look may take what is left of the wait, and never less than a
  // second: a slow page is not a hung one.
  const uint64_t call_timeout = std::max<uint64_t>(left, 1000);
  if (poll->wait.call) {
    poll->page->call_function(poll->wait.source, poll->wait.args, call_timeout, kEvaluate,
                              std::move(next));
  } else {
    poll->page->evaluate(poll->wait.source, call_timeout, kEvaluate, std::move(next));
  }
}

}  // namespace

StopAction wait_for_function(ScriptTarget& page, FunctionWait wait, ScriptTarget::Done done) {
  auto poll = std::make_shared<Poll>();
  poll->page = &page;
  poll->alive = page.lifetime();
  uv_update_time(page.loop());
  poll->deadline = uv_now(page.loop()) + wait.timeout_ms;
  poll->wait = std::move(wait);
  poll->done = std::move(done);
  look(poll);
  return [weak = std::weak_ptr<Poll>(poll)] {
    if (auto poll = weak.lock()) poll->stopped = true;
  };
}

bool url_matches_glob(const std::string& glob, const std::string& url) {
  // Tokens: 0 a character, 1 `*`, 2 `**`; then a table of which token
  // suffixes match which URL suffixes (globs and URLs are short).
  struct Token {
    int kind;
    char c;
  };
  std::vector<Token> tokens;
  for (size_t i = 0; i < glob.size(); ++i) {
    if (glob[i] != '*') {
      tokens.push_back({0, glob[i]});
    } else if (i + 1 < glob.size() && glob[i + 1] == '*') {
      tokens.push_back({2, 0});
      ++i;
    } else {
      tokens.push_back({1, 0});
    }
  }
  const size_t n = url.size();
  // next[j]: the token suffix after the current one matches url[j:].
  std::vector<char> next(n + 1, 0), here(n + 1, 0);
  next[n] = 1;
  for (size_t t = tokens.size(); t-- > 0;) {
    const Token& token = tokens[t];
    here.assign(n + 1, 0);
    for (size_t j = n + 1; j-- > 0;) {
      if (token.kind == 0) {
        here[j] = j < n && url[j] == token.c && next[j + 1];
      } else {
        // A star takes nothing, or one more character (not '/' for `*`).
        here[j] = next[j] || (j < n && (token.kind == 2 || url[j] != '/') && here[j + 1]);
      }
    }
    next.swap(here);
  }
  return next[0] != 0;
}

}  // namespace belay::browser
