#pragma once
// Reads and captures of a whole page: its URL, title and screenshots. Each
// ends exactly once through `done`, like every Page operation. Element
// actions are element_actions.hpp.

#include "browser/page.hpp"

#include <functional>
#include <string>
#include <vector>

namespace belay::browser {

void page_url(Page& page, uint64_t timeout_ms, Page::Done done);
void page_title(Page& page, uint64_t timeout_ms, Page::Done done);
struct ScreenshotOptions {
  bool full_page = false;      // the whole document, beyond the viewport
  std::string selector;        // only this element (waits until it is visible)
  std::string format = "png";  // png or jpeg
  int quality = -1;            // jpeg only, 0-100; -1: Chromium's default
  uint64_t timeout_ms = 30000;
};
// Writes the capture to `path` (0600); result {path, bytes}.
void screenshot(Page& page, const std::string& path, ScreenshotOptions options, Page::Done done);
// The viewport as a PNG (the supervisor's screenshot before a restart).
void screenshot(Page& page, const std::string& path, uint64_t timeout_ms, Page::Done done);

struct PdfOptions {
  bool landscape = false;
  std::string format = "Letter";  // a paper size: see kPaperSizes
  uint64_t timeout_ms = 30000;
};
// Prints the page to a PDF at `path` (headless Chromium only); result
// {path, bytes}.
void pdf(Page& page, const std::string& path, PdfOptions options, Page::Done done);
// The paper sizes pdf() knows, for option checks: Letter, Legal, Tabloid,
// Ledger, A0 … A6.
const std::vector<std::string>& paper_formats();

}  // namespace belay::browser
