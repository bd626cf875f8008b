#pragma once
// The soak's one source of chance: splitmix64, so that a seed gives the
// same schedule (item faults, chaos actions and their timing, host kill
// points) on every machine and standard library.

#include <cstdint>

namespace belay::soak {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // In [0, n); 0 when n is 0.
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }
  // In [lo, hi].
  uint64_t between(uint64_t lo, uint64_t hi) { return hi <= lo ? lo : lo + below(hi - lo + 1); }
  // A separate stream, so one part's draws do not shift another's.
  Rng fork(uint64_t salt) { return Rng(next() ^ (salt * 0x9e3779b97f4a7c15ull)); }

 private:
  uint64_t state_;
};

}  // namespace belay::soak
