#include "browser/browser_session.hpp"

#include "browser/page_events.hpp"
#include "core/defer.hpp"

#include <algorithm>

namespace belay::browser {

BrowserSession::BrowserSession(uv_loop_t* loop, BrowserSpec spec)
    : loop_(loop), spec_(std::move(spec)) {}

BrowserSession::~BrowserSession() {
  alive_.reset();
  current_.reset();
  pages_.clear();
  downloads_.reset();
  popups_.reset();
  browser_.reset();
}

void BrowserSession::set_download_folder(std::string folder) {
  download_folder_ = std::move(folder);
  if (downloads_) downloads_->set_folder(download_folder_);
}

// A download is told to the page whose main frame began it; one begun in a
// frame inside a page, to the page items run on.
std::shared_ptr<Page> BrowserSession::page_of_frame(const std::string& frame_id) const {
  for (const auto& page : pages_) {
    if (page->target_id() == frame_id) return page;
  }
  return current_;
}

void BrowserSession::start(Ready ready) {
  ++generation_;
  closed_ = false;
  current_.reset();
  pages_.clear();
  downloads_.reset();
  popups_.reset();
  std::weak_ptr<bool> alive = alive_;
  const uint64_t started = uv_now(loop_);
  auto report = [this, alive, started, ready = std::move(ready)](std::optional<Error> error) {
    if (alive.expired()) return;
    if (hooks_.launched) hooks_.launched(pid(), error, uv_now(loop_) - started);
    ready(std::move(error));
  };
  auto on_ready = [this, alive, report = std::move(report)](std::optional<Error> error) {
    if (alive.expired()) return;
    if (error) return report(std::move(error));
    if (closed_) {
      return report(
          Error{Kind::cancelled, "the browser was closed while it started", "browser", {}});
    }
    const uint64_t generation = generation_;
    browser_->on_disconnect([this, alive, generation](const Error& why) {
      // Not for a browser closed on purpose (close, restart): only deaths.
      if (alive.expired() || closing_ || generation != generation_) return;
      if (disconnect_handler_) disconnect_handler_(why);
    });
    browser_->connection().on_protocol_error([this, alive](const Error& why) {
      if (!alive.expired() && hooks_.dropped_message) hooks_.dropped_message(why);
    });
    watch_popups();
    if (spec_.downloads_dir.empty()) return open_first_page(report);
    downloads_ = std::make_unique<Downloads>(
        browser_->connection(), spec_.downloads_dir,
        [this](const std::string& frame_id) { return page_of_frame(frame_id); });
    downloads_->set_folder(download_folder_);
    downloads_->enable(spec_.connect_timeout_ms, [this, alive, report](std::optional<Error> error) {
      if (alive.expired()) return;
      // A browser that will not save downloads fails its start: a
      // campaign that downloads would otherwise wait for nothing.
      if (error) {
        error->message = "downloads cannot be set up: " + error->message;
        return report(std::move(error));
      }
      open_first_page(report);
    });
  };
  if (spec_.connect_url.empty()) {
    browser_ = Browser::launch(loop_, spec_.launch, std::move(on_ready), spec_.transport);
  } else {
    browser_ =
        Browser::connect(loop_, spec_.connect_url, spec_.connect_timeout_ms, std::move(on_ready));
  }
}

void BrowserSession::open_first_page(Ready ready) {
  new_page([this, ready](Result<std::shared_ptr<Page>> page) {
    if (!page) return ready(page.error());
    current_ = page.value();
    ready(std::nullopt);
  });
}

void BrowserSession::restart(Ready ready, RestartMode mode) {
  restart_waiters_.push_back(std::move(ready));
  if (restarting_) return;
  restarting_ = true;
  std::weak_ptr<bool> alive = alive_;
  auto proceed = [this, alive, mode]() {
    if (alive.expired()) return;
    auto relaunch = [this, alive]() {
      if (alive.expired()) return;
      // close() came while the old browser was going: it is the last word.
      if (closed_) {
        return finish_restart(
            Error{Kind::cancelled, "the browser was closed during its restart", "browser", {}});
      }
      start([this](std::optional<Error> error) { finish_restart(error); });
    };
    if (mode == RestartMode::kill && browser_) {
      current_.reset();
      pages_.clear();
      closing_ = true;
      browser_->kill([this, alive, relaunch]() {
        if (alive.expired()) return;
        closing_ = false;
        downloads_.reset();
        popups_.reset();
        auto parting = std::make_shared<std::unique_ptr<Browser>>(std::move(browser_));
        defer(loop_, [parting, relaunch]() {
          parting->reset();
          relaunch();
        });
      });
      return;
    }
    close_browser(relaunch);
  };
  if (!hooks_.before_restart) return proceed();
  hooks_.before_restart(proceed, [this, alive](Error why) {
    if (!alive.expired()) finish_restart(std::move(why));
  });
}

void BrowserSession::finish_restart(std::optional<Error> error) {
  restarting_ = false;
  auto waiters = std::move(restart_waiters_);
  restart_waiters_.clear();
  for (auto& waiter : waiters) waiter(error);
}

void BrowserSession::close(std::function<void()> done) {
  closed_ = true;
  close_browser(std::move(done));
}

void BrowserSession::close_browser(std::function<void()> done) {
  current_.reset();
  pages_.clear();
  if (!browser_) {
    if (done) done();
    return;
  }
  closing_ = true;
  std::weak_ptr<bool> alive = alive_;
  browser_->close([this, alive, done = std::move(done)]() {
    if (alive.expired()) return;
    closing_ = false;
    // Destroying the browser here would free the object whose callback is
    // running; hand it to the loop first.
    downloads_.reset();
    popups_.reset();
    auto parting = std::make_shared<std::unique_ptr<Browser>>(std::move(browser_));
    defer(loop_, [parting, done]() {
      parting->reset();
      if (done) done();
    });
  });
}

void BrowserSession::new_page(PageReady done) {
  if (!browser_ || !browser_->connected()) {
    return done(
        Error{Kind::browser_disconnected, "browser is not running", "Target.createTarget", {}});
  }
  std::weak_ptr<bool> alive = alive_;
  const uint64_t generation = generation_;
  browser_->new_page(
      [this, alive, generation, done = std::move(done)](Result<std::unique_ptr<Page>> page) {
        if (!page) return done(page.error());
        if (alive.expired() || generation != generation_) {
          return done(Error{Kind::target_closed,
                            "the browser restarted while the page opened",
                            "Target.createTarget",
                            {}});
        }
        done(adopt(std::move(page.value())));
      });
}

std::shared_ptr<Page> BrowserSession::adopt(std::unique_ptr<Page> page) {
  std::shared_ptr<Page> shared(std::move(page));
  shared->set_dialog_policy(spec_.dialogs);
  std::weak_ptr<bool> alive = alive_;
  std::weak_ptr<Page> weak = shared;
  shared->on_dialog_answered(
      [this, alive, weak](const DialogInfo& info, bool accepted, const std::string& by) {
        auto page = weak.lock();
        if (alive.expired() || !page || !hooks_.dialog_answered) return;
        hooks_.dialog_answered(page, info, accepted, by);
      });
  pages_.push_back(shared);
  watch_page(shared);
  return shared;
}

std::shared_ptr<Page> BrowserSession::page_by_target(const std::string& target_id) const {
  for (const auto& page : pages_) {
    if (page->target_id() == target_id) return page;
  }
  return nullptr;
}

// Discovery is not needed for anything else: a browser that refuses it
// only has its popups left alone (unattached tabs, as before).
void BrowserSession::watch_popups() {
  std::weak_ptr<bool> alive = alive_;
  const uint64_t generation = generation_;
  popups_ = std::make_unique<PopupWatch>(browser_->connection(), [this, alive, generation](
                                                                     const std::string& target_id,
                                                                     const std::string& opener_id,
                                                                     const std::string& url) {
    if (alive.expired() || generation != generation_ || !browser_ || !page_by_target(opener_id)) {
      return;
    }
    browser_->attach_page(
        target_id, spec_.connect_timeout_ms,
        [this, alive, generation, target_id, opener_id, url](Result<std::unique_ptr<Page>> page) {
          if (!page || alive.expired() || generation != generation_) return;
          std::shared_ptr<Page> popup = adopt(std::move(page.value()));
          popup->set_opener_id(opener_id);
          if (auto opener = page_by_target(opener_id)) {
            opener->events().emit("popup", {{"target_id", target_id}, {"url", url}});
          }
        });
  });
  popups_->enable(spec_.connect_timeout_ms, [](std::optional<Error>) {});
}

void BrowserSession::close_popups() {
  constexpr uint64_t kCloseTimeoutMs = 5000;
  for (const auto& page : std::vector<std::shared_ptr<Page>>(pages_)) {
    if (page->opener_id().empty() || page->kept()) continue;
    page->close(kCloseTimeoutMs, [](Result<cdp::json>) {});
    forget_page(page.get());
  }
}

void BrowserSession::reopen_page(PageReady done) {
  std::shared_ptr<Page> old = current_;
  std::weak_ptr<bool> alive = alive_;
  new_page([this, alive, old, done = std::move(done)](Result<std::shared_ptr<Page>> page) {
    if (!page) return done(std::move(page));
    if (alive.expired()) return;
    current_ = page.value();
    if (old) {
      old->close(5000, [](Result<cdp::json>) {});
      forget_page(old.get());
    }
    done(std::move(page));
  });
}

// What happens to a page that is gone is the owner's decision (a campaign
// replaces it; a console keeps it, since navigating revives a crashed tab).
void BrowserSession::watch_page(const std::shared_ptr<Page>& page) {
  std::weak_ptr<bool> alive = alive_;
  std::weak_ptr<Page> weak = page;
  page->on_gone([this, alive, weak](const Error& why) {
    if (alive.expired()) return;
    auto gone = weak.lock();
    // Deferred: the page is inside its own callback.
    defer(loop_, [this, alive, gone, why]() {
      if (alive.expired() || !gone || closing_ || restarting_ || !connected()) return;
      // A popup that closed (window.close) is only forgotten: nothing
      // replaces it.
      if (!gone->opener_id().empty()) return forget_page(gone.get());
      if (hooks_.page_gone) hooks_.page_gone(gone, why);
    });
  });
}

void BrowserSession::replace_page(const std::shared_ptr<Page>& page, PageReady done) {
  if (closing_ || restarting_ || !connected() || current_ != page) {
    return done(std::shared_ptr<Page>());
  }
  reopen_page(std::move(done));
}

void BrowserSession::forget_page(const Page* page) {
  pages_.erase(std::remove_if(pages_.begin(), pages_.end(),
                              [page](const auto& p) { return p.get() == page; }),
               pages_.end());
  if (current_.get() == page) current_.reset();
}

}  // namespace belay::browser
