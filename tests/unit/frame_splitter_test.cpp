// Pipe framing: NUL-terminated messages split and joined arbitrarily.

#include "cdp/frame_splitter.hpp"
#include "chrome/devtools_port.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace belay::cdp {
namespace {

struct Collected {
  std::vector<std::string> messages;
  std::vector<size_t> oversized;
};

Collected feed_in_pieces(FrameSplitter& splitter, const std::string& stream, size_t piece) {
  Collected out;
  for (size_t i = 0; i < stream.size(); i += piece) {
    splitter.feed(
        std::string_view(stream).substr(i, piece),
        [&](std::string_view m) {
          out.messages.emplace_back(m);
          return true;
        },
        [&](size_t n) {
          out.oversized.push_back(n);
          return true;
        });
  }
  return out;
}

TEST(FrameSplitter, ConcatenatedMessagesInOneRead) {
  FrameSplitter s(1024);
  auto out = feed_in_pieces(s, std::string("{\"a\":1}\0{\"b\":2}\0{\"c\":3}\0", 24), 1000);
  EXPECT_EQ(out.messages, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"}));
  EXPECT_EQ(s.buffered(), 0u);
}

TEST(FrameSplitter, EveryPieceSizeGivesTheSameMessages) {
  std::string stream;
  std::vector<std::string> expected;
  for (int i = 0; i < 20; ++i) {
    expected.push_back("{\"id\":" + std::to_string(i) + ",\"pad\":\"" + std::string(i * 7, 'x') +
                       "\"}");
    stream += expected.back();
    stream.push_back('\0');
  }
  for (size_t piece = 1; piece <= 40; ++piece) {
    FrameSplitter s(1 << 20);
    EXPECT_EQ(feed_in_pieces(s, stream, piece).messages, expected) << "piece " << piece;
  }
}

TEST(FrameSplitter, PartialMessageWaitsForItsNul) {
  FrameSplitter s(1024);
  auto out = feed_in_pieces(s, "{\"half\":", 100);
  EXPECT_TRUE(out.messages.empty());
  EXPECT_EQ(s.buffered(), 8u);
}

TEST(FrameSplitter, OversizedMessageIsDroppedAndStreamResynchronises) {
  FrameSplitter s(16);
  std::string stream = std::string("{\"ok\":1}") + '\0' + std::string(100, 'x') + '\0' +
                       std::string("{\"ok\":2}") + '\0';
  for (size_t piece : {1u, 3u, 50u, 1000u}) {
    FrameSplitter fresh(16);
    auto out = feed_in_pieces(fresh, stream, piece);
    EXPECT_EQ(out.messages, (std::vector<std::string>{"{\"ok\":1}", "{\"ok\":2}"}));
    ASSERT_EQ(out.oversized.size(), 1u) << "piece " << piece;
    EXPECT_EQ(out.oversized[0], 100u);
  }
}

TEST(FrameSplitter, StopsWhenTheOwnerSaysSo) {
  FrameSplitter s(1024);
  int seen = 0;
  bool finished = s.feed(
      std::string_view("a\0b\0c\0", 6),
      [&](std::string_view) {
        ++seen;
        return false;
      },
      [](size_t) { return true; });
  EXPECT_FALSE(finished);
  EXPECT_EQ(seen, 1);
}

TEST(DevToolsPort, ParsesTheFileChromeWrites) {
  auto e = chrome::parse_devtools_port("41235\n/devtools/browser/abc-123\n");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->browser_url(), "ws://127.0.0.1:41235/devtools/browser/abc-123");
  EXPECT_FALSE(chrome::parse_devtools_port("41235\n").has_value());  // half-written
  EXPECT_FALSE(chrome::parse_devtools_port("").has_value());
  EXPECT_FALSE(chrome::parse_devtools_port("x1\n/devtools/browser/a\n").has_value());
  EXPECT_FALSE(chrome::parse_devtools_port("99999\n/devtools/browser/a\n").has_value());
  EXPECT_FALSE(chrome::parse_devtools_port("80\n/etc/passwd\n").has_value());
}

}  // namespace
}  // namespace belay::cdp
