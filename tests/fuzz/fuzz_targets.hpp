#pragma once
// The libFuzzer target bodies (one file each, `<name>_fuzz.cpp`). The same
// bodies run twice: under libFuzzer (fuzz_entry.cpp, the `fuzz` preset) and
// in unit_tests, which replays every file in corpus/<name>/ and
// regressions/<name>/ through them (tests/unit/fuzz_corpus_test.cpp).
//
// A body returns 0 for every input. Errors the code returns as values are
// fine; a crash, a sanitizer report, an escaping exception or a broken
// invariant (FUZZ_CHECK, which aborts) is a finding.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace belay::fuzz {

int fuzz_pipe_framing(const uint8_t* data, size_t size);
int fuzz_ws_frames(const uint8_t* data, size_t size);
int fuzz_cdp_dispatch(const uint8_t* data, size_t size);
int fuzz_json_lua(const uint8_t* data, size_t size);
int fuzz_items_file(const uint8_t* data, size_t size);
int fuzz_campaign_table(const uint8_t* data, size_t size);
int fuzz_lua_pattern(const uint8_t* data, size_t size);

// Prints where and what, then aborts.
[[noreturn]] void invariant_failed(const char* file, int line, const char* what,
                                   std::string_view detail = {});

// Reads an input front to back; past the end every read is 0 / empty.
class InputReader {
 public:
  InputReader(const uint8_t* data, size_t size)
      : data_(reinterpret_cast<const char*>(data)), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  size_t remaining() const { return size_ - pos_; }
  uint8_t byte() { return pos_ < size_ ? static_cast<uint8_t>(data_[pos_++]) : 0; }
  uint16_t u16() { return static_cast<uint16_t>(byte() | (byte() << 8)); }
  std::string_view bytes(size_t n) {
    n = n < remaining() ? n : remaining();
    std::string_view out(data_ + pos_, n);
    pos_ += n;
    return out;
  }
  std::string_view rest() { return bytes(remaining()); }

 private:
  const char* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace belay::fuzz

#define FUZZ_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::belay::fuzz::invariant_failed(__FILE__, __LINE__, #cond))
#define FUZZ_CHECK_MSG(cond, detail) \
  ((cond) ? static_cast<void>(0)     \
          : ::belay::fuzz::invariant_failed(__FILE__, __LINE__, #cond, (detail)))
