#include "browser/page_actions.hpp"

#include "cdp/classify.hpp"
#include "cdp/reply_fields.hpp"
#include "core/base64.hpp"
#include "core/defer.hpp"
#include "core/private_files.hpp"

#include <array>
#include <cstdio>
#include <memory>

namespace belay::browser {
namespace {

// Errors these actions make themselves name the CDP method they rely on; a
// binding names its own call (page:click) when the error reaches Lua.
constexpr const char* kEvaluate = "Runtime.evaluate";
constexpr const char* kScreenshot = "Page.captureScreenshot";

}  // namespace

void page_url(Page& page, uint64_t timeout_ms, Page::Done done) {
  page.evaluate("location.href", timeout_ms, kEvaluate, std::move(done));
}

void page_title(Page& page, uint64_t timeout_ms, Page::Done done) {
  page.evaluate("document.title", timeout_ms, kEvaluate, std::move(done));
}

void screenshot(Page& page, const std::string& path, uint64_t timeout_ms, Page::Done done) {
  page.send(cdp::Command{"Page.captureScreenshot", {{"format", "png"}}, "", timeout_ms, ""},
            [path, done = std::move(done)](Result<json> r) {
              if (!r) return done(std::move(r));
              auto bytes = base64_decode(cdp::string_field(r.value(), "data"));
              if (!bytes || bytes->empty()) {
                return done(cdp::protocol_error("screenshot data is not base64", kScreenshot));
              }
              // A few hundred KiB, written once per screenshot: not worth a
              // thread hop. 0600 whatever the umask: a page shows private data.
              if (auto error = write_private_file(path, *bytes)) {
                return done(Error{Kind::script, "screenshot: " + *error, kScreenshot, {}});
              }
              done(json{{"path", path}, {"bytes", bytes->size()}});
            });
}

}  // namespace belay::browser
