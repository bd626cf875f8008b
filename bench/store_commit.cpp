// The durable state's two costs (host/store, DESIGN.md "Durable state"):
// (a) committing an item's end durably (WAL, synchronous=FULL: one fsync a
// commit), and (b) resuming a large state: open (validation: `PRAGMA
// quick_check` after a clean close, `integrity_check` after a crash), bind
// the same keys, read every row.
//
//   ./build/release/bench-store --items 100000 [--commits 2000] [--reopens 5] [--dir DIR]
//
// The state lives in a fresh directory under DIR (default: the system temp
// directory), removed at the end; fsync costs depend on that filesystem.

#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "stats.hpp"
#include "store/store.hpp"

namespace fs = std::filesystem;
namespace store = belay::store;
using belay::bench::percentile;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  int items = 100000;
  int commits = 2000;
  int reopens = 5;
  std::string dir = fs::temp_directory_path().string();
};

double us_since(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

std::vector<store::ItemKey> make_keys(int n) {
  std::vector<store::ItemKey> keys;
  keys.reserve(static_cast<size_t>(n));
  for (int i = 1; i <= n; ++i) keys.push_back({"item-" + std::to_string(i), i});
  return keys;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench-store: %s\n", what.c_str());
  std::exit(1);
}

std::unique_ptr<store::Store> open_or_die(const std::string& dir) {
  auto opened = store::open_sqlite_store(dir);
  if (!opened) die(opened.error().to_string());
  return std::move(opened.value());
}

// Raw SQL behind the store's back: building half a campaign's outcomes
// through the store would cost one fsync per item.
void exec_raw(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK ||
      sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    die(path + ": " + sqlite3_errmsg(db));
  }
  sqlite3_close(db);
}

void print_row(const char* name, const std::vector<double>& us) {
  std::printf("  %-22s %10.0f %10.0f %10.0f\n", name, percentile(us, 50), percentile(us, 99),
              percentile(us, 100));
}

void bench_commits(const Options& o, const std::string& dir) {
  auto s = open_or_die(dir);
  const auto keys = make_keys(o.items);
  if (!s->bind("bench", keys, "fp")) die("bind failed");
  std::vector<double> done_us, pair_us;
  const int k = std::min(o.commits, o.items);
  for (int i = 0; i < k; ++i) {
    const std::string& key = keys[static_cast<size_t>(i)].key;
    const auto start = Clock::now();
    auto running = s->mark_running(key, "p1");
    if (!running) die(running.error().to_string());
    const auto done_start = Clock::now();
    if (auto e = s->mark_done(key, {{"ok", true}, {"n", i}}, 1)) die(e->to_string());
    done_us.push_back(us_since(done_start));
    pair_us.push_back(us_since(start));
  }
  std::printf("(a) durable item commits: %d items of a %d-item state (WAL, synchronous=FULL)\n", k,
              o.items);
  std::printf("  %-22s %10s %10s %10s\n", "", "p50 us", "p99 us", "max us");
  print_row("mark_done", done_us);
  print_row("mark_running+done", pair_us);
}

// Wall and CPU time of one phase over every rep: the machine may be shared,
// and CPU time says what the store itself costs.
struct Phase {
  std::vector<double> wall_ms, cpu_ms;
  void print(const char* name) const {
    std::printf("  %-36s %9.1f %9.1f\n", name, percentile(wall_ms, 50), percentile(cpu_ms, 50));
  }
};

double cpu_ms_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

template <typename Body>
void timed(Phase& phase, Body body) {
  const auto start = Clock::now();
  const double cpu = cpu_ms_now();
  body();
  phase.cpu_ms.push_back(cpu_ms_now() - cpu);
  phase.wall_ms.push_back(us_since(start) / 1000);
}

void bench_resume(const Options& o, const std::string& dir) {
  const auto keys = make_keys(o.items);
  const std::string path = dir + "/belay.db";
  Phase first_bind, open, bind, items, total, integrity, quick, open_unclean;
  timed(first_bind, [&] {
    auto s = open_or_die(dir);
    if (!s->bind("bench", keys, "fp")) die("bind failed");
  });
  exec_raw(
      path,
      "UPDATE items SET status = 'done', attempts = 1, result = '{\"ok\":true,\"price\":12.5}' "
      "WHERE idx % 2 = 0;"
      "UPDATE campaign SET done_count = (SELECT count(*) FROM items WHERE status = 'done');");
  for (int rep = 0; rep < o.reopens; ++rep) {
    exec_raw(path, "UPDATE items SET status = 'running', attempts = 1 WHERE idx = 1");
    timed(total, [&] {
      std::unique_ptr<store::Store> s;
      timed(open, [&] { s = open_or_die(dir); });
      timed(bind, [&] {
        auto report = s->bind("bench", keys, "fp");
        if (!report || report.value().requeued != 1) die("resume bind failed");
      });
      timed(items, [&] {
        auto rows = s->items();
        if (!rows || rows.value().size() != keys.size()) die("items failed");
      });
    });
    // A connection left open keeps the -wal file, as a crashed host does:
    // the open then runs the full integrity_check.
    timed(open_unclean, [&] {
      sqlite3* other = nullptr;
      if (sqlite3_open_v2(path.c_str(), &other, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK ||
          sqlite3_exec(other, "SELECT count(*) FROM campaign", nullptr, nullptr, nullptr) !=
              SQLITE_OK) {
        die(path + ": " + sqlite3_errmsg(other));
      }
      open_or_die(dir);
      sqlite3_close(other);
    });
    for (auto [phase, pragma] : {std::pair{&integrity, "PRAGMA integrity_check"},
                                 std::pair{&quick, "PRAGMA quick_check"}}) {
      timed(*phase, [&] { exec_raw(path, pragma); });
    }
  }
  std::printf("\n(b) resume: %d items, half done, one running; medians of %d reopens\n", o.items,
              o.reopens);
  std::printf("  %-36s %9s %9s\n", "", "wall ms", "cpu ms");
  total.print("open + bind + items()");
  open.print("  open, incl. quick_check");
  bind.print("  bind, same keys");
  items.print("  items()");
  open_unclean.print("open after a crash (integrity_check)");
  integrity.print("PRAGMA integrity_check alone");
  quick.print("PRAGMA quick_check alone");
  first_bind.print("first open + bind, all keys new");
  std::printf("  %-36s %9.1f MB\n", "belay.db size",
              static_cast<double>(fs::file_size(path)) / (1024 * 1024));
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--items") {
      o.items = std::atoi(argv[i + 1]);
    } else if (flag == "--commits") {
      o.commits = std::atoi(argv[i + 1]);
    } else if (flag == "--reopens") {
      o.reopens = std::atoi(argv[i + 1]);
    } else if (flag == "--dir") {
      o.dir = argv[i + 1];
    } else {
      die("unknown option " + flag);
    }
  }
  if (o.items < 1 || o.commits < 1 || o.reopens < 1) die("counts must be positive");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::string root = (fs::path(o.dir) / "belay-bench-store-XXXXXX").string();
  if (mkdtemp(root.data()) == nullptr) die("mkdtemp in " + o.dir + ": " + std::strerror(errno));
  std::printf("state under %s\n\n", root.c_str());
  bench_commits(o, root + "/commits");
  bench_resume(o, root + "/resume");
  std::error_code ec;
  fs::remove_all(root, ec);
  return 0;
}
