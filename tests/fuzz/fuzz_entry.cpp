// The libFuzzer entry of one target: BELAY_FUZZ_TARGET names its body
// (tests/fuzz/CMakeLists.txt builds this file once per target).

#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return belay::fuzz::BELAY_FUZZ_TARGET(data, size);
}
