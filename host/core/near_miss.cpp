#include "core/near_miss.hpp"

#include <algorithm>
#include <cctype>

namespace belay {
namespace {

// Lower case without separators: fullPage, full_page and Full-Page agree.
std::string folded(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '_' || c == '-') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

// Levenshtein distance with adjacent transpositions counted as one edit.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::optional<std::string> nearest_name(std::string_view name,
                                        const std::vector<std::string_view>& candidates) {
  // Names are short: a third of the name's length, at most 3 edits, keeps
  // "time" → "timeout" out and "timeuot" → "timeout" in.
  const std::string want = folded(name);
  if (want.empty()) return std::nullopt;
  const size_t limit = std::min<size_t>(3, std::max<size_t>(1, want.size() / 3));
  std::optional<std::string> best;
  size_t best_distance = limit + 1;
  for (std::string_view candidate : candidates) {
    const std::string have = folded(candidate);
    // Lengths further apart than the limit cannot be within it; checked
    // first, so a 200 KB key costs no 200 KB × name table.
    const size_t apart =
        want.size() > have.size() ? want.size() - have.size() : have.size() - want.size();
    if (apart > limit) continue;
    const size_t distance = edit_distance(want, have);
    if (distance < best_distance) {
      best_distance = distance;
      best = std::string(candidate);
    }
  }
  return best;
}

std::string did_you_mean(std::string_view name, const std::vector<std::string_view>& candidates) {
  auto best = nearest_name(name, candidates);
  return best ? " (did you mean '" + *best + "'?)" : std::string();
}

}  // namespace belay
