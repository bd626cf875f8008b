#include "browser/browser.hpp"

#include "browser/page.hpp"
#include "cdp/classify.hpp"
#include "cdp/reply_fields.hpp"

namespace belay::browser {

std::unique_ptr<Browser> Browser::launch(uv_loop_t* loop, chrome::LaunchOptions options,
                                         ReadyCallback ready, TransportOptions transport) {
  std::unique_ptr<Browser> browser(new Browser(loop));
  Browser* self = browser.get();
  const uint64_t timeout_ms = options.startup_timeout_ms;
  self->process_ = std::make_unique<chrome::ChromeProcess>(loop, std::move(options));
  self->process_->on_exit([self](const chrome::ExitInfo& exit) {
    Error why = chrome::browser_exited(static_cast<int>(exit.exit_status), exit.term_signal);
    if (self->connection_) self->connection_->browser_exited(why);
  });
  self->process_->start([self, timeout_ms, transport,
                         ready = std::move(ready)](Result<chrome::DevToolsChannel> endpoint) {
    if (!endpoint) return ready(endpoint.error());
    chrome::DevToolsChannel& found = endpoint.value();
    if (!found.ws_url.empty())
      return self->connect_ws(found.ws_url, timeout_ms, transport.ws, ready);
    self->adopt(std::make_unique<cdp::PipeTransport>(
        std::move(found.to_browser), std::move(found.from_browser), transport.pipe));
    ready(std::nullopt);
  });
  return browser;
}

std::unique_ptr<Browser> Browser::connect(uv_loop_t* loop, const std::string& ws_url,
                                          uint64_t timeout_ms, ReadyCallback ready) {
  std::unique_ptr<Browser> browser(new Browser(loop));
  browser->connect_ws(ws_url, timeout_ms, cdp::WsOptions{}, std::move(ready));
  return browser;
}

void Browser::connect_ws(const std::string& ws_url, uint64_t timeout_ms, cdp::WsOptions options,
                         ReadyCallback ready) {
  connecting_ = std::make_unique<cdp::WsTransport>(loop_, options);
  connecting_->connect(ws_url, timeout_ms,
                       [this, ready = std::move(ready)](std::optional<Error> error) {
                         if (error) {
                           connecting_.reset();
                           ready(std::move(error));
                           return;
                         }
                         adopt(std::move(connecting_));
                         ready(std::nullopt);
                       });
}

std::unique_ptr<Browser> Browser::over(uv_loop_t* loop, std::unique_ptr<cdp::Transport> transport) {
  std::unique_ptr<Browser> browser(new Browser(loop));
  browser->adopt(std::move(transport));
  return browser;
}

Browser::~Browser() {
  alive_.reset();
  connection_.reset();
  process_.reset();
}

void Browser::adopt(std::unique_ptr<cdp::Transport> transport) {
  connection_ = std::make_unique<cdp::Connection>(loop_, std::move(transport));
  connection_->on_close([this](const Error& why) {
    if (disconnected_) return;
    disconnected_ = why;
    if (disconnect_handler_) disconnect_handler_(why);
  });
}

void Browser::on_disconnect(std::function<void(const Error&)> handler) {
  disconnect_handler_ = std::move(handler);
}

void Browser::send(cdp::Command command, cdp::Connection::ReplyCallback done) {
  if (!connection_) {
    done(cdp::transport_closed("browser is not connected", command.op_or_method()));
    return;
  }
  connection_->send(std::move(command), std::move(done));
}

void Browser::version(cdp::Connection::ReplyCallback done) {
  send(cdp::Command{"Browser.getVersion", json::object(), "", 30000, ""}, std::move(done));
}

void Browser::pages(cdp::Connection::ReplyCallback done) {
  send(cdp::Command{"Target.getTargets", json::object(), "", 30000, ""},
       [done = std::move(done)](Result<json> reply) {
         if (!reply) return done(std::move(reply));
         json pages = json::array();
         for (const auto& info : cdp::array_field(reply.value(), "targetInfos")) {
           if (cdp::string_field(info, "type") == "page") pages.push_back(info);
         }
         done(std::move(pages));
       });
}

void Browser::new_page(PageCallback done, uint64_t timeout_ms) {
  send(cdp::Command{"Target.createTarget", {{"url", "about:blank"}}, "", timeout_ms, ""},
       [this, timeout_ms, done = std::move(done)](Result<json> reply) {
         if (!reply) return done(std::move(reply.error()));
         auto target_id = cdp::required_string(reply.value(), "targetId", "Target.createTarget",
                                               "Target.createTarget");
         if (!target_id) return done(std::move(target_id.error()));
         attach_page(target_id.value(), timeout_ms, done);
       });
}

void Browser::attach_page(const std::string& target_id, uint64_t timeout_ms, PageCallback done) {
  send(cdp::Command{"Target.attachToTarget",
                    {{"targetId", target_id}, {"flatten", true}},
                    "",
                    timeout_ms,
                    ""},
       [this, target_id, timeout_ms, done](Result<json> reply) {
         if (!reply) return done(std::move(reply.error()));
         auto session_id = cdp::required_string(reply.value(), "sessionId", "Target.attachToTarget",
                                                "Target.attachToTarget");
         if (!session_id) return done(std::move(session_id.error()));
         // The page must exist while it prepares (its handlers point at it);
         // the holder hands it over once ready, or drops it on failure.
         auto holder = std::make_shared<std::unique_ptr<Page>>(
             std::make_unique<Page>(loop_, *connection_, target_id, session_id.value()));
         // A new tab or popup comes up in front; which one is in front now
         // is not known until the next input brings its tab there.
         front_tab_->clear();
         (*holder)->set_front_tab(front_tab_);
         (*holder)->prepare(timeout_ms, [holder, done](std::optional<Error> error) {
           if (error) return done(std::move(*error));
           done(std::move(*holder));
         });
       });
}

void Browser::close(std::function<void()> done, uint64_t grace_ms) {
  // `linger_ms`: how long the process may take to exit by itself first.
  auto finish = [this, done = std::move(done), grace_ms](uint64_t linger_ms) {
    if (process_) {
      process_->terminate(grace_ms, done, linger_ms);
    } else {
      if (connection_) connection_->close();
      if (done) done();
    }
  };
  // A browser belay attached to (--connect) is not belay's to end: closing
  // it only detaches.
  if (!process_ || !connected()) return finish(0);
  // Browser.close lets Chrome flush its profile. Chrome answers before it
  // has done so: after an answer the process gets the grace period to exit
  // by itself; without one (a hung browser) it is signalled at once.
  std::weak_ptr<bool> alive = alive_;
  send(cdp::Command{"Browser.close", json::object(), "", grace_ms, ""},
       [alive, finish, grace_ms](Result<json> reply) {
         if (!alive.expired()) finish(reply ? grace_ms : 0);
       });
}

void Browser::kill(std::function<void()> done, uint64_t grace_ms) {
  if (process_) return process_->terminate(grace_ms, std::move(done));
  if (connection_) connection_->close();
  if (done) done();
}

}  // namespace belay::browser
