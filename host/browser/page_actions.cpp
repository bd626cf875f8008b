#include "browser/page_actions.hpp"

#include "browser/element_actions.hpp"

#include "cdp/classify.hpp"
#include "cdp/reply_fields.hpp"
#include "core/base64.hpp"
#include "core/private_files.hpp"

#include <cmath>
#include <optional>

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

namespace {

// Decodes a capture's base64 `data` and writes it to `path`. A few hundred
// KiB, written once per capture: not worth a thread hop. 0600 whatever the
// umask: a page shows private data.
void write_capture(Result<json> r, const std::string& path, const char* method,
                   const Page::Done& done) {
  if (!r) return done(std::move(r));
  auto bytes = base64_decode(cdp::string_field(r.value(), "data"));
  if (!bytes || bytes->empty()) {
    return done(cdp::protocol_error(std::string(method) + " data is not base64", method));
  }
  if (auto error = write_private_file(path, *bytes)) {
    return done(Error{Kind::script, "cannot write " + path + ": " + *error, method, {}});
  }
  done(json{{"path", path}, {"bytes", bytes->size()}});
}

void capture(Page& page, const std::string& path, const ScreenshotOptions& options,
             std::optional<json> clip, Page::Done done) {
  json params = {{"format", options.format}};
  if (options.format == "jpeg" && options.quality >= 0) params["quality"] = options.quality;
  if (clip) {
    (*clip)["scale"] = 1;
    params["clip"] = *clip;
    params["captureBeyondViewport"] = true;
  }
  page.send(cdp::Command{"Page.captureScreenshot", std::move(params), "", options.timeout_ms, ""},
            [path, done = std::move(done)](Result<json> r) {
              write_capture(std::move(r), path, kScreenshot, done);
            });
}

struct PaperSize {
  const char* name;
  double width_in;
  double height_in;
};
constexpr PaperSize kPaperSizes[] = {
    {"Letter", 8.5, 11}, {"Legal", 8.5, 14}, {"Tabloid", 11, 17}, {"Ledger", 17, 11},
    {"A0", 33.1, 46.8},  {"A1", 23.4, 33.1}, {"A2", 16.54, 23.4}, {"A3", 11.7, 16.54},
    {"A4", 8.27, 11.7},  {"A5", 5.83, 8.27}, {"A6", 4.13, 5.83},
};

}  // namespace

void screenshot(Page& page, const std::string& path, ScreenshotOptions options, Page::Done done) {
  if (!options.selector.empty()) {
    element_box(
        page, options.selector, options.timeout_ms,
        [&page, alive = page.lifetime(), path, options, done = std::move(done)](Result<json> box) {
          if (!box) return done(std::move(box));
          if (alive.expired()) {
            return done(cdp::session_detached("the page was closed during the call", kScreenshot));
          }
          if (cdp::number_field(box.value(), "width", 0) < 1 ||
              cdp::number_field(box.value(), "height", 0) < 1) {
            return done(Error{
                Kind::not_found, "'" + options.selector + "' has an empty box", kScreenshot, {}});
          }
          capture(page, path, options, box.value(), done);
        });
    return;
  }
  if (!options.full_page) return capture(page, path, options, std::nullopt, std::move(done));
  page.send(
      cdp::Command{"Page.getLayoutMetrics", json::object(), "", options.timeout_ms, ""},
      [&page, alive = page.lifetime(), path, options, done = std::move(done)](Result<json> r) {
        if (!r) return done(std::move(r));
        if (alive.expired()) {
          return done(cdp::session_detached("the page was closed during the call", kScreenshot));
        }
        auto size = r.value().find("cssContentSize");
        if (size == r.value().end() || !size->is_object()) {
          return done(cdp::protocol_error(
              "CDP reply to Page.getLayoutMetrics has no cssContentSize", kScreenshot));
        }
        const double width = std::ceil(cdp::number_field(*size, "width", 0));
        const double height = std::ceil(cdp::number_field(*size, "height", 0));
        if (width < 1 || height < 1) {
          return done(cdp::protocol_error("the page has an empty content size", kScreenshot));
        }
        capture(page, path, options, json{{"x", 0}, {"y", 0}, {"width", width}, {"height", height}},
                done);
      });
}

void screenshot(Page& page, const std::string& path, uint64_t timeout_ms, Page::Done done) {
  ScreenshotOptions options;
  options.timeout_ms = timeout_ms;
  screenshot(page, path, options, std::move(done));
}

const std::vector<std::string>& paper_formats() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& size : kPaperSizes) out.emplace_back(size.name);
    return out;
  }();
  return names;
}

void pdf(Page& page, const std::string& path, PdfOptions options, Page::Done done) {
  const PaperSize* paper = &kPaperSizes[0];
  for (const auto& size : kPaperSizes) {
    if (options.format == size.name) paper = &size;
  }
  json params = {{"landscape", options.landscape},
                 {"printBackground", true},
                 {"paperWidth", paper->width_in},
                 {"paperHeight", paper->height_in}};
  page.send(cdp::Command{"Page.printToPDF", std::move(params), "", options.timeout_ms, ""},
            [path, done = std::move(done)](Result<json> r) {
              write_capture(std::move(r), path, "Page.printToPDF", done);
            });
}

}  // namespace belay::browser
