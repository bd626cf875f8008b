// Captures and uploads from Lua against real headless Chromium: full-page,
// element and JPEG screenshots, PDFs, and files handed to file inputs — and
// the folders they may come from or go to: a path that leaves them, `..`
// and symlinks included, is a sandbox error and nothing is read or written.
// Each test runs over the pipe and over the WebSocket.

#include "support/lua_harness.hpp"
#include "support/lua_matchers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace belay::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class LuaCaptures : public LuaTest {};
BELAY_LUA_OVER_BOTH_TRANSPORTS(LuaCaptures);

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// A PNG's width and height from its IHDR chunk; {0, 0} if it is none.
std::pair<uint32_t, uint32_t> png_size(const std::string& path) {
  const std::string bytes = read_file(path);
  if (bytes.size() < 24 || bytes.compare(1, 3, "PNG") != 0) return {0, 0};
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
    return v;
  };
  return {be32(16), be32(20)};
}

// ---------------------------------------------------------------- screenshots

TEST_P(LuaCaptures, FullPageScreenshotHoldsTheWholeDocument) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "long?px=5000")
    return { full = page:screenshot("full.png", { full_page = true }),
             viewport = page:screenshot("viewport.png") }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  const auto full = png_size(r.value()["full"]);
  const auto viewport = png_size(r.value()["viewport"]);
  EXPECT_GE(full.second, 5000u);
  EXPECT_GT(viewport.second, 0u);
  EXPECT_LT(viewport.second, 5000u);
  EXPECT_EQ(full.first, viewport.first);
}

TEST_P(LuaCaptures, ElementScreenshotIsTheElementsBox) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "long")
    return page:screenshot("box.png", { selector = "#box" })
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value(), h().screenshots_dir() + "/box.png");
  const auto size = png_size(r.value());
  EXPECT_EQ(size.first, 120u);
  EXPECT_EQ(size.second, 80u);
}

TEST_P(LuaCaptures, JpegScreenshotAndItsQuality) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "long")
    return {
      path = page:screenshot("shot.jpg", { format = "jpeg", quality = 40 }),
      png_quality = catch(function() page:screenshot("q.png", { quality = 40 }) end),
      both = catch(function()
        page:screenshot("b.png", { full_page = true, selector = "#box" })
      end),
      format = catch(function() page:screenshot("f.webp", { format = "jpg" }) end),
      missing = catch(function()
        page:screenshot("m.png", { selector = "#nope", timeout = 300 })
      end),
    }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  const json& v = lua.value();
  EXPECT_EQ(read_file(v["path"]).substr(0, 3), "\xFF\xD8\xFF");
  EXPECT_TRUE(LuaError(v["png_quality"], {Kind::config}, "page:screenshot", "format = \"jpeg\""));
  EXPECT_TRUE(LuaError(v["both"], {Kind::config}, "page:screenshot", "exclude each other"));
  EXPECT_TRUE(LuaError(v["format"], {Kind::config}, "page:screenshot", "did you mean 'jpeg'"));
  EXPECT_TRUE(LuaError(v["missing"], {Kind::not_found}, "page:screenshot", "#nope"));
  EXPECT_FALSE(fs::exists(h().screenshots_dir() + "/m.png"));
}

// ----------------------------------------------------------------------- pdf

TEST_P(LuaCaptures, PdfIsWrittenToThePdfFolder) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "texts")
    return {
      letter = page:pdf("doc.pdf"),
      a4 = page:pdf("wide.pdf", { landscape = true, format = "A4" }),
      bad = catch(function() page:pdf("x.pdf", { format = "a4" }) end),
      unknown = catch(function() page:pdf("x.pdf", { printBackground = true }) end),
      outside = catch(function() page:pdf("/etc/belay.pdf") end),
    }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  const json& v = lua.value();
  EXPECT_EQ(v["letter"], h().state_dir() + "/pdf/doc.pdf");
  EXPECT_EQ(read_file(v["letter"]).substr(0, 4), "%PDF");
  EXPECT_EQ(read_file(v["a4"]).substr(0, 4), "%PDF");
  EXPECT_TRUE(LuaError(v["bad"], {Kind::config}, "page:pdf", "did you mean 'A4'"));
  EXPECT_TRUE(
      LuaError(v["unknown"], {Kind::config}, "page:pdf", "unknown option 'printBackground'"));
  EXPECT_TRUE(LuaError(v["outside"], {Kind::sandbox}, "page:pdf", "/etc/belay.pdf"));
}

// ------------------------------------------------------------------- uploads

TEST_P(LuaCaptures, UploadHandsFilesToTheInputAndThePageReadsThem) {
  write_file(h().campaign_dir() + "/hello.txt", "hi there");
  write_file(h().state_dir() + "/files/a.txt", "aaa");
  write_file(h().state_dir() + "/files/b.txt", "bbbb");
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "inputs")
    page:upload("#file", "hello.txt")
    page:upload("#files", { "a.txt", "b.txt" })
    return { snap = page:evaluate("snapshot()"), text = page:evaluate("fileText('file')"),
             changed = page:evaluate(
               "formEvents.some(e => e.id == 'file' && e.type == 'change' && e.trusted)") }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  const json& v = r.value();
  EXPECT_EQ(v["snap"]["file"], json::parse(R"([{"name":"hello.txt","size":8}])"));
  EXPECT_EQ(v["snap"]["files"],
            json::parse(R"([{"name":"a.txt","size":3},{"name":"b.txt","size":4}])"));
  EXPECT_EQ(v["text"], "hi there");
  EXPECT_EQ(v["changed"], true);
}

TEST_P(LuaCaptures, UploadReadsOnlyFromTheAllowedFolders) {
  write_file(h().campaign_dir() + "/ok.txt", "ok");
  std::error_code ec;
  fs::remove(h().campaign_dir() + "/escape.txt", ec);
  fs::create_symlink("/etc/hostname", h().campaign_dir() + "/escape.txt");
  write_file(h().state_dir() + "/secret.txt", "state file");
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "inputs")
    local o = { timeout = 300 }
    return {
      etc = catch(function() page:upload("#file", "/etc/hostname", o) end),
      dotdot = catch(function() page:upload("#file", "../../../etc/hostname", o) end),
      state = catch(function() page:upload("#file", "../secret.txt", o) end),
      symlink = catch(function() page:upload("#file", "escape.txt", o) end),
      missing = catch(function() page:upload("#file", "nope.txt", o) end),
      two = catch(function() page:upload("#file", { "ok.txt", "ok.txt" }, o) end),
      not_file = catch(function() page:upload("#name", "ok.txt", o) end),
      not_string = catch(function() page:upload("#file", 5) end),
      no_input = catch(function() page:upload("#nope", "ok.txt", o) end),
      files = page:evaluate("snapshot().file.length"),
    }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  const json& v = lua.value();
  EXPECT_TRUE(LuaError(v["etc"], {Kind::sandbox}, "page:upload",
                       "'/etc/hostname' is outside the folders scripts may read"));
  EXPECT_TRUE(LuaError(v["dotdot"], {Kind::sandbox}, "page:upload", "../../../etc/hostname"));
  EXPECT_TRUE(LuaError(v["state"], {Kind::sandbox}, "page:upload", "../secret.txt"));
  EXPECT_TRUE(LuaError(v["symlink"], {Kind::sandbox}, "page:upload", "escape.txt"));
  EXPECT_TRUE(LuaError(v["missing"], {Kind::script}, "page:upload", "is no file"));
  EXPECT_TRUE(LuaError(v["two"], {Kind::script}, "page:upload", "takes one file"));
  EXPECT_TRUE(
      LuaError(v["not_file"], {Kind::script}, "page:upload", "is not an <input type=file>"));
  EXPECT_TRUE(LuaError(v["not_string"], {Kind::script}, "page:upload", "string or a list"));
  EXPECT_TRUE(LuaError(v["no_input"], {Kind::not_found}, "page:upload", "#nope"));
  EXPECT_EQ(v["files"], 0);
}

// A folder the campaign names in `files` is readable too.
TEST_P(LuaCaptures, UploadReadsFromTheCampaignsFilesFolders) {
  char templ[] = "/tmp/belay-files-XXXXXX";
  const std::string extra = mkdtemp(templ);
  write_file(extra + "/extra.txt", "extra!");
  const auto saved = h().runtime().hooks().file_dirs;
  h().runtime().hooks().file_dirs = {extra};
  auto r = h().run("page:navigate(fixture .. 'inputs') page:upload('#file', '" + extra +
                   "/extra.txt') return page:evaluate(\"fileText('file')\")");
  h().runtime().hooks().file_dirs = saved;
  fs::remove_all(extra);
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value(), "extra!");
}

}  // namespace
}  // namespace belay::test
