#include "cdp/classify.hpp"

#include <array>
#include <csignal>
#include <cstring>

namespace belay::cdp {
namespace {

constexpr int kServerError = -32000;
constexpr int kSessionNotFound = -32001;
constexpr int kInvalidParams = -32602;

// Chrome's own texts (see DESIGN.md, "Error kinds"). The first matching row
// wins, so more specific rows come first.
constexpr std::array<ClassificationRow, 11> kRows = {{
    {kServerError, "Cannot find context with specified id", Kind::context_destroyed},
    {kServerError, "Execution context was destroyed", Kind::context_destroyed},
    {kServerError, "Inspected target navigated or closed", Kind::context_destroyed},
    {kServerError, "Execution context with given id not found", Kind::context_destroyed},
    {kServerError, "Cannot find default execution context", Kind::context_destroyed},
    {std::nullopt, "Target crashed", Kind::target_crashed},
    {kSessionNotFound, "Session with given id not found", Kind::target_closed},
    {kInvalidParams, "No target with given id found", Kind::target_closed},
    {kServerError, "Not attached to an active page", Kind::target_closed},
    {kServerError, "Target closed", Kind::target_closed},
    {std::nullopt, "net::ERR_", Kind::navigation_failed},
}};

}  // namespace

const ClassificationRow* classification_table(size_t* count) {
  *count = kRows.size();
  return kRows.data();
}

Error classify_cdp_error(const nlohmann::json& cdp_error, std::string op) {
  Error err;
  err.kind = Kind::protocol;
  err.op = std::move(op);
  err.cdp = cdp_error;
  std::optional<int> code;
  if (cdp_error.is_object()) {
    auto c = cdp_error.find("code");
    if (c != cdp_error.end() && c->is_number_integer()) code = c->get<int>();
    auto m = cdp_error.find("message");
    if (m != cdp_error.end() && m->is_string()) err.message = m->get<std::string>();
    auto d = cdp_error.find("data");
    if (d != cdp_error.end() && d->is_string()) err.message += ": " + d->get<std::string>();
  }
  if (err.message.empty()) err.message = "malformed CDP error: " + cdp_error.dump();
  for (const auto& row : kRows) {
    if (row.code && row.code != code) continue;
    if (err.message.find(row.text) == std::string::npos) continue;
    err.kind = row.kind;
    break;
  }
  return err;
}

Error transport_closed(std::string_view reason, std::string op) {
  return Error{Kind::browser_disconnected,
               "browser has disconnected: " + std::string(reason),
               std::move(op),
               {}};
}

Error session_detached(std::string_view reason, std::string op) {
  return Error{Kind::target_closed, "target closed: " + std::string(reason), std::move(op), {}};
}

Error target_crashed(std::string op) {
  return Error{Kind::target_crashed, "target crashed", std::move(op), {}};
}

Error protocol_error(std::string message, std::string op) {
  return Error{Kind::protocol, std::move(message), std::move(op), {}};
}

}  // namespace belay::cdp
