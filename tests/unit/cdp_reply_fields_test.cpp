// Replies and events whose fields have the wrong type. A fake peer is used
// because Chromium cannot be made to send them; a browser reached with
// --connect can be anything that speaks WebSocket. Each reply here used to
// throw out of the loop (a crash) through json::value.

#include "browser/browser.hpp"
#include "browser/element_actions.hpp"
#include "browser/page.hpp"
#include "browser/page_actions.hpp"
#include "cdp/reply_fields.hpp"
#include "support/fake_page_test.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>

namespace belay::cdp {
namespace {

using browser::Browser;
using browser::NavigateOptions;
using browser::Page;
using nlohmann::json;

TEST(ReplyFields, EachReaderGivesItsFallbackForAWrongTypeOrANonObject) {
  const json message = {
      {"s", "text"}, {"n", 2.5}, {"i", 7}, {"a", json::array({1})}, {"wrong", json::object()}};
  EXPECT_EQ(string_field(message, "s"), "text");
  EXPECT_EQ(string_field(message, "n", "fb"), "fb");
  EXPECT_EQ(string_field(message, "absent", "fb"), "fb");
  EXPECT_EQ(string_field(json(5), "s", "fb"), "fb");
  EXPECT_EQ(number_field(message, "n", 0), 2.5);
  EXPECT_EQ(number_field(message, "i", 0), 7);
  EXPECT_EQ(number_field(message, "s", -1), -1);
  EXPECT_EQ(number_field(json::array(), "n", -1), -1);
  EXPECT_EQ(integer_field(message, "i", -1), 7);
  EXPECT_EQ(integer_field(message, "n", -1), -1);  // a fraction is no integer
  EXPECT_EQ(integer_field(json{{"f", 3.0}}, "f", -1), 3);
  EXPECT_EQ(integer_field(json{{"big", 1e300}}, "big", -1), -1);
  EXPECT_EQ(integer_field(json{{"big", UINT64_MAX}}, "big", -1), -1);
  EXPECT_EQ(integer_field(json{{"nan", std::nan("")}}, "nan", -1), -1);
  EXPECT_EQ(integer_field(message, "wrong", -1), -1);
  EXPECT_EQ(array_field(message, "a"), json::array({1}));
  EXPECT_EQ(array_field(message, "wrong"), json::array());
  EXPECT_EQ(array_field(json("x"), "a"), json::array());
}

TEST(ReplyFields, AResultObjectIdIsEmptyForEveryShapeButTheRightOne) {
  EXPECT_EQ(result_object_id(json::parse(R"({"result":{"type":"object","objectId":"7.1"}})")),
            "7.1");
  for (const char* reply : {R"({"result":{"type":"object","subtype":"null"}})",
                            R"({"result":{"objectId":5}})", R"({"result":"x"})", R"([1])",
                            R"({})", R"(null)"}) {
    EXPECT_EQ(result_object_id(json::parse(reply)), "") << reply;
  }
}

TEST(ReplyFields, ARequiredStringNamesTheMethodAndWhatIsWrong) {
  EXPECT_EQ(required_string(json{{"sessionId", "S"}}, "sessionId", "M", "op").value(), "S");
  for (const auto& [reply, what] :
       std::vector<std::pair<json, std::string>>{{json::object(), "has no sessionId"},
                                                 {json{{"sessionId", 5}}, "that is no string"},
                                                 {json{{"sessionId", ""}}, "an empty sessionId"},
                                                 {json(5), "has no sessionId"}}) {
    auto r = required_string(reply, "sessionId", "Target.attachToTarget", "browser:new_page");
    ASSERT_FALSE(r.ok()) << reply;
    EXPECT_EQ(r.error().kind, Kind::protocol);
    EXPECT_EQ(r.error().op, "browser:new_page");
    EXPECT_THAT(r.error().message, ::testing::HasSubstr("Target.attachToTarget"));
    EXPECT_THAT(r.error().message, ::testing::HasSubstr(what)) << r.error().message;
  }
}

class WrongTypes : public test::FakePageTest {
 protected:
  // Runs `call`, answers its `method` with `result`, and returns the outcome.
  Result<json> answer(const std::function<void(Page::Done)>& call, const std::string& method,
                      const std::string& result) {
    std::optional<Result<json>> out;
    call([&out](Result<json> r) { out = std::move(r); });
    EXPECT_TRUE(fake_->reply(method, result)) << method << " was not sent";
    test::run_until(
        &loop_, [&] { return out.has_value(); }, 2000);
    if (!out) return Error{Kind::timeout, "no outcome", "", {}};
    return *out;
  }
};

TEST_F(WrongTypes, NavigateReplyWithNumbersForItsStringsEndsWithoutWaiting) {
  NavigateOptions options;
  auto r = answer([&](Page::Done d) { page_->navigate("http://x/", options, d); }, "Page.navigate",
                  R"({"errorText":5,"frameId":[],"loaderId":7})");
  // No loader to wait for: read as a same-document navigation.
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.value()["loaderId"], "");
}

TEST_F(WrongTypes, HistoryReplyOfTheWrongShapeIsNowhereToGoOrAProtocolError) {
  NavigateOptions options;
  options.op = "page:back";
  auto back = [&](Page::Done d) { page_->go_history(-1, options, d); };
  for (const char* reply :
       {R"({"entries":5,"currentIndex":1})", R"({"entries":[{},{}],"currentIndex":"1"})",
        R"({"entries":[{},{}],"currentIndex":1.5})", R"({"entries":[{},{}],"currentIndex":-3})"}) {
    auto r = answer(back, "Page.getNavigationHistory", reply);
    ASSERT_TRUE(r.ok()) << reply << ": " << r.error().to_string();
    EXPECT_TRUE(r.value().is_null()) << reply;
  }
  auto no_id = answer(back, "Page.getNavigationHistory",
                      R"({"entries":[{"id":"one","url":5},{"id":2}],"currentIndex":1})");
  ASSERT_FALSE(no_id.ok());
  EXPECT_EQ(no_id.error().kind, Kind::protocol);
  EXPECT_EQ(no_id.error().op, "page:back");
  EXPECT_EQ(fake_->count("Page.navigateToHistoryEntry"), 0u);
}

TEST_F(WrongTypes, EvaluateReplyOfTheWrongShapeIsAProtocolErrorOrAnException) {
  auto evaluate = [&](Page::Done d) { page_->evaluate("1", 1000, "page:evaluate", d); };
  auto unserializable =
      answer(evaluate, "Runtime.evaluate", R"({"result":{"unserializableValue":5}})");
  ASSERT_FALSE(unserializable.ok());
  EXPECT_EQ(unserializable.error().kind, Kind::protocol);
  auto not_an_object = answer(evaluate, "Runtime.evaluate", R"({"result":5})");
  ASSERT_FALSE(not_an_object.ok());
  EXPECT_EQ(not_an_object.error().kind, Kind::protocol);
  for (const char* reply : {R"({"exceptionDetails":5})",
                            R"({"exceptionDetails":{"text":5,"exception":{"description":[]}}})",
                            R"({"exceptionDetails":{"exception":"boom"}})"}) {
    auto r = answer(evaluate, "Runtime.evaluate", reply);
    ASSERT_FALSE(r.ok()) << reply;
    EXPECT_EQ(r.error().kind, Kind::js_exception) << reply;
    EXPECT_EQ(r.error().message, "exception") << reply;
  }
}

TEST_F(WrongTypes, ClickPointAndScreenshotDataOfTheWrongTypeAreNoCrash) {
  std::optional<Result<json>> clicked;
  browser::ClickOptions within_a_second;
  within_a_second.timeout_ms = 1000;
  click(*page_, "#b", within_a_second, [&](Result<json> r) { clicked = std::move(r); });
  ASSERT_TRUE(
      fake_->reply("Runtime.evaluate", R"({"result":{"value":{"ok":true,"x":"left","y":null}}})"));
  // The point falls back to 0,0 and the mouse events go out.
  EXPECT_EQ(fake_->count("Input.dispatchMouseEvent"), 1u);
  EXPECT_EQ(fake_->sent.back()["params"]["x"], 0.0);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(fake_->reply("Input.dispatchMouseEvent", "{}"));
  ASSERT_TRUE(clicked.has_value());
  EXPECT_TRUE(clicked->ok());
  // An outcome that is no object, or whose reason is no string, is no crash.
  for (const char* outcome : {R"("yes")", R"({"ok":false,"reason":5})", R"({"fatal":7})"}) {
    std::optional<Result<json>> again;
    click(*page_, "#b", within_a_second, [&](Result<json> r) { again = std::move(r); });
    ASSERT_TRUE(
        fake_->reply("Runtime.evaluate", std::string(R"({"result":{"value":)") + outcome + "}}"));
    ASSERT_TRUE(again.has_value()) << outcome;
    EXPECT_FALSE(again->ok()) << outcome;
  }
  auto shot = answer([&](Page::Done d) { screenshot(*page_, "/nonexistent/x.png", 1000, d); },
                     "Page.captureScreenshot", R"({"data":5})");
  ASSERT_FALSE(shot.ok());
  EXPECT_EQ(shot.error().kind, Kind::protocol);
}

TEST_F(WrongTypes, TargetRepliesOfTheWrongShapeFailNewPageAndPagesClearly) {
  std::optional<Result<std::unique_ptr<Page>>> opened;
  browser_->new_page([&](Result<std::unique_ptr<Page>> r) { opened = std::move(r); }, 1000);
  ASSERT_TRUE(fake_->reply("Target.createTarget", R"({"targetId":5})"));
  ASSERT_TRUE(opened.has_value());
  ASSERT_FALSE(opened->ok());
  EXPECT_EQ(opened->error().kind, Kind::protocol);
  EXPECT_THAT(opened->error().message,
              ::testing::HasSubstr("Target.createTarget has a targetId that is no string"))
      << opened->error().message;
  EXPECT_EQ(fake_->count("Target.attachToTarget"), 0u);

  opened.reset();
  browser_->new_page([&](Result<std::unique_ptr<Page>> r) { opened = std::move(r); }, 1000);
  ASSERT_TRUE(fake_->reply("Target.createTarget", R"({"targetId":"T2"})"));
  ASSERT_TRUE(fake_->reply("Target.attachToTarget", R"({"sessionId":{}})"));
  ASSERT_TRUE(opened.has_value());
  ASSERT_FALSE(opened->ok());
  EXPECT_EQ(opened->error().kind, Kind::protocol);
  // The host names the CDP method; a binding names its own call (browser:new_page).
  EXPECT_EQ(opened->error().op, "Target.attachToTarget");

  for (const char* reply : {R"({"targetInfos":5})", R"({"targetInfos":[5,{"type":7},"x"]})"}) {
    std::optional<Result<json>> pages;
    browser_->pages([&](Result<json> r) { pages = std::move(r); });
    ASSERT_TRUE(fake_->reply("Target.getTargets", reply));
    ASSERT_TRUE(pages.has_value() && pages->ok()) << reply;
    EXPECT_EQ(pages->value(), json::array()) << reply;
  }
}

}  // namespace
}  // namespace belay::cdp
