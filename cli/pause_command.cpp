// `belay pause PROFILE [--for DURATION]` and `belay resume [PROFILE…]`: the
// operator's pause from the shell. With a live run on the state they go
// through its console (control.sock), exactly as pause()/resume() typed in
// `belay attach`; with none, they change the store (holding the state's
// lock, so no run starts meanwhile) and the next run honours it. Either
// way the change is an event (`pause`/`unpause`, reason `operator`).

#include "campaign/event_log.hpp"
#include "commands.hpp"
#include "control/control_client.hpp"
#include "core/loop_end.hpp"
#include "run_state.hpp"
#include "store/status_report.hpp"
#include "store/store.hpp"

#include <CLI/CLI.hpp>

#include <sys/file.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <optional>

namespace belay::cli {
namespace {

using nlohmann::json;

constexpr uint64_t kReplyTimeoutMs = 30000;

int64_t wall_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "90s", "10m", "2h", "1d", "1500ms": a number and a unit, nothing else.
Result<uint64_t> parse_duration(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const std::string unit = text.substr(digits);
  const std::pair<const char*, uint64_t> units[] = {
      {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 3600 * 1000}, {"d", 24 * 3600 * 1000}};
  uint64_t scale = 0;
  for (const auto& [name, ms] : units) {
    if (unit == name) scale = ms;
  }
  if (digits == 0 || digits > 9 || scale == 0) {
    return Error{Kind::config,
                 "--for: '" + text + "' is not a duration (a number and a unit: 1500ms, 90s, " +
                     "10m, 2h, 1d)",
                 "pause",
                 {}};
  }
  const uint64_t n = std::stoull(text.substr(0, digits));
  if (n == 0) return Error{Kind::config, "--for: the duration must be above 0", "pause", {}};
  return n * scale;
}

// A Lua string literal for any bytes (a profile name comes from the shell).
std::string lua_literal(const std::string& s) {
  std::string out = "\"";
  for (const unsigned char c : s) {
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\%03u", static_cast<unsigned>(c));
      out += escaped;  // three digits: a digit that follows cannot join it
    }
  }
  return out + "\"";
}

// --- a live run: its console -----------------------------------------------

// Evaluates `chunk` in the run's console; prints its value or error.
int ask_the_run(const std::string& state_dir, const std::string& chunk) {
  ::signal(SIGPIPE, SIG_IGN);
  uv_loop_t loop;
  uv_loop_init(&loop);
  // Outlives the block below: end_loop() finishes closing it.
  uv_timer_t tick;
  int code = 2;
  {
    control::ControlClient client(&loop);
    if (auto e = client.connect(state_dir + "/control.sock")) {
      std::fprintf(stderr, "belay: a run holds %s but its console did not answer: %s\n",
                   state_dir.c_str(), e->message.c_str());
    } else {
      std::optional<json> reply;
      client.on_message([&reply](const json& m) {
        if (m.contains("id") && m["id"] == json(1)) reply = m;
      });
      client.send(control::Request{1, control::Op::eval, chunk});
      const uint64_t deadline = uv_now(&loop) + kReplyTimeoutMs;
      uv_timer_init(&loop, &tick);  // wakes the loop so the deadline is seen
      uv_timer_start(&tick, [](uv_timer_t*) {}, 100, 100);
      while (!reply && client.connected() && uv_now(&loop) < deadline) uv_run(&loop, UV_RUN_ONCE);
      uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
      auto text = [&reply](const char* key) {
        auto it = reply->find(key);
        return it != reply->end() && it->is_string() ? it->get<std::string>() : std::string();
      };
      if (!reply) {
        std::fprintf(stderr, "belay: the run did not answer\n");
      } else if (reply->contains("ok") && (*reply)["ok"] == true) {  // a peer's types are not trusted
        std::printf("%s\n", text("text").c_str());
        code = 0;
      } else {
        std::fprintf(stderr, "belay: %s\n", text("error").c_str());
      }
    }
  }
  end_loop(&loop, "belay pause/resume");
  return code;
}

// --- no run: the store -----------------------------------------------------

struct Offline {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<campaign::EventLog> events;
};

Result<Offline> open_offline(const std::string& state_dir) {
  auto store = store::open_sqlite_store(state_dir);
  if (!store) return store.error();
  auto campaign = store.value()->campaign();
  if (!campaign) return campaign.error();
  auto events = std::make_unique<campaign::EventLog>(
      state_dir + "/events.jsonl", campaign.value() ? campaign.value()->name : "");
  if (!events->ok()) return Error{Kind::config, events->error(), "", {}};
  return Offline{std::move(store.value()), std::move(events)};
}

// The profiles a run has started on this state (each has a health row; a
// profile row only once something about it was kept), with their records.
Result<std::vector<store::ProfileRecord>> known_profiles(store::Store& store,
                                                         const std::string& state_dir) {
  auto health = store.health();
  if (!health) return health.error();
  auto rows = store.profiles();
  if (!rows) return rows.error();
  std::vector<std::string> names;
  for (const auto& h : health.value()) names.push_back(h.profile);
  for (const auto& p : rows.value()) names.push_back(p.name);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  if (names.empty()) {
    return Error{Kind::config, "no profile has run on " + state_dir + " yet: nothing to change",
                 "", {}};
  }
  std::vector<store::ProfileRecord> out;
  for (const auto& name : names) {
    auto record = store.profile(name);
    if (!record) return record.error();
    out.push_back(record.value());
    out.back().name = name;
  }
  return out;
}

std::string names_of(const std::vector<store::ProfileRecord>& profiles) {
  std::string out;
  for (const auto& p : profiles) out += (out.empty() ? "" : ", ") + p.name;
  return out;
}

int fail(const Error& e) {
  std::fprintf(stderr, "belay: %s\n", e.message.c_str());
  return 2;
}

int pause_offline(const std::string& state_dir, const std::string& profile, uint64_t ms) {
  auto offline = open_offline(state_dir);
  if (!offline) return fail(offline.error());
  auto profiles = known_profiles(*offline.value().store, state_dir);
  if (!profiles) return fail(profiles.error());
  for (auto record : profiles.value()) {
    if (record.name != profile) continue;
    record.paused_until_ms = wall_now_ms() + static_cast<int64_t>(ms);
    if (auto e = offline.value().store->save_profile(record)) return fail(*e);
    offline.value().events->write(campaign::Event{
        "pause",
        profile,
        "",
        "",
        {{"reason", "operator"},
         {"ms", ms},
         {"until_ms", record.paused_until_ms},
         {"hint", "belay resume " + profile + " ends it"}},
        "",
        {}});
    std::printf("%s paused until %s: no run starts an item on it before then "
                "(belay resume %s ends it)\n",
                profile.c_str(), store::iso8601_utc(record.paused_until_ms).c_str(),
                profile.c_str());
    return 0;
  }
  return fail(Error{Kind::config,
                    "no profile '" + profile + "' on " + state_dir + " (there are: " +
                        names_of(profiles.value()) + ")",
                    "", {}});
}

int resume_offline(const std::string& state_dir, const std::vector<std::string>& wanted) {
  auto offline = open_offline(state_dir);
  if (!offline) return fail(offline.error());
  auto profiles = known_profiles(*offline.value().store, state_dir);
  if (!profiles) return fail(profiles.error());
  for (const auto& name : wanted) {
    bool known = false;
    for (const auto& p : profiles.value()) known = known || p.name == name;
    if (!known) {
      return fail(Error{Kind::config,
                        "no profile '" + name + "' on " + state_dir + " (there are: " +
                            names_of(profiles.value()) + ")",
                        "", {}});
    }
  }
  const int64_t now = wall_now_ms();
  std::vector<std::string> resumed;
  for (auto record : profiles.value()) {
    const bool asked = wanted.empty() || std::find(wanted.begin(), wanted.end(),
                                                   record.name) != wanted.end();
    if (!asked || record.paused_until_ms <= now) continue;
    record.paused_until_ms = 0;
    record.error_streak = 0;
    if (auto e = offline.value().store->save_profile(record)) return fail(*e);
    offline.value().events->write(
        campaign::Event{"unpause", record.name, "", "", {{"reason", "operator"}}, "", {}});
    resumed.push_back(record.name);
  }
  if (resumed.empty()) {
    std::printf("nothing to resume: no %s paused\n",
                wanted.empty() ? "profile is" : "profile named is");
    return 0;
  }
  for (const auto& name : resumed) {
    std::printf("%s resumed: the next belay run starts it\n", name.c_str());
  }
  return 0;
}

// A live run holds the state's lock; with none, this process holds it while
// it edits, so that no run starts on a half-changed state.
template <typename Live, typename Stopped>
int with_state(const std::string& state_dir, Live live, Stopped stopped) {
  if (!std::filesystem::is_directory(state_dir)) {
    return fail(Error{Kind::config, "no state at " + state_dir + " (--state DIR names it)", "", {}});
  }
  StateLock lock(state_dir);
  if (lock.error().empty()) return stopped();
  if (std::filesystem::exists(state_dir + "/control.sock")) return live();
  return fail(Error{Kind::config, lock.error(), "", {}});
}

}  // namespace

Command add_pause_command(CLI::App& app) {
  struct Args {
    std::string state = ".belay";
    std::string profile;
    std::string duration;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "pause", "pause a profile: no new item starts on it (a live run, or the next one)");
  cmd->add_option("PROFILE", args->profile, "the profile")->required();
  cmd->add_option("--for", args->duration, "how long: 90s, 10m, 2h, 1d (default 24h)");
  cmd->add_option("--state", args->state, "state directory (default ./.belay)");
  return {cmd, [args] {
            uint64_t ms = kDefaultPauseMs;
            if (!args->duration.empty()) {
              auto parsed = parse_duration(args->duration);
              if (!parsed) return fail(parsed.error());
              ms = parsed.value();
            }
            return with_state(
                args->state,
                [&] {
                  return ask_the_run(args->state, "return pause(" + lua_literal(args->profile) +
                                                      ", {ms = " + std::to_string(ms) + "})");
                },
                [&] { return pause_offline(args->state, args->profile, ms); });
          }};
}

Command add_resume_command(CLI::App& app) {
  struct Args {
    std::string state = ".belay";
    std::vector<std::string> profiles;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "resume", "end the pause of profiles (all paused ones by default), live or stored");
  cmd->add_option("PROFILE", args->profiles, "the profiles (default: every paused one)");
  cmd->add_option("--state", args->state, "state directory (default ./.belay)");
  return {cmd, [args] {
            return with_state(
                args->state,
                [&] {
                  std::string chunk;
                  if (args->profiles.empty()) {
                    chunk =
                        "local out = {} for _, p in ipairs(status().profiles) do "
                        "if p.state == 'paused' then resume(p.name) out[#out + 1] = p.name end "
                        "end return #out == 0 and 'nothing to resume: no profile is paused' "
                        "or (table.concat(out, ', ') .. ' resumed')";
                  } else {
                    chunk = "local out = {} ";
                    for (const auto& p : args->profiles) {
                      chunk += "resume(" + lua_literal(p) + ") out[#out + 1] = " +
                               lua_literal(p) + " ";
                    }
                    chunk += "return table.concat(out, ', ') .. ' resumed'";
                  }
                  return ask_the_run(args->state, chunk);
                },
                [&] { return resume_offline(args->state, args->profiles); });
          }};
}

}  // namespace belay::cli
