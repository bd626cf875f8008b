#pragma once
// A test fixture: one Page on a browser whose CDP peer is a
// FakeCdpTransport the test scripts by hand (see fake_cdp_transport.hpp
// for when that is allowed).

#include "browser/browser.hpp"
#include "browser/page.hpp"
#include "support/fake_cdp_transport.hpp"
#include "support/run_loop.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace belay::test {

class FakePageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    uv_loop_init(&loop_);
    auto transport = std::make_unique<FakeCdpTransport>();
    fake_ = transport.get();
    browser_ = browser::Browser::over(&loop_, std::move(transport));
    page_ = std::make_unique<browser::Page>(&loop_, browser_->connection(), "T", "S");
  }
  void TearDown() override {
    page_.reset();
    browser_.reset();
    EXPECT_EQ(drain_and_close(&loop_), 0);
  }

  uv_loop_t loop_{};
  FakeCdpTransport* fake_ = nullptr;
  std::unique_ptr<browser::Browser> browser_;
  std::unique_ptr<browser::Page> page_;
};

}  // namespace belay::test
