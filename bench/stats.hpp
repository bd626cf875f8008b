#pragma once
// Medians and percentiles for benchmark samples: shared machines are noisy,
// so belay reports order statistics, never means.

#include <algorithm>
#include <cstdio>
#include <vector>

namespace belay::bench {

inline double percentile(std::vector<double> samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const size_t index =
      static_cast<size_t>(p / 100.0 * static_cast<double>(samples.size() - 1) + 0.5);
  return samples[std::min(index, samples.size() - 1)];
}

inline void print_summary(const char* name, const std::vector<double>& us) {
  std::printf("%-28s n=%-6zu median=%8.1f us  p99=%8.1f us  min=%8.1f us\n", name, us.size(),
              percentile(us, 50), percentile(us, 99), percentile(us, 0));
}

}  // namespace belay::bench
