#pragma once
// One table maps what Chrome and the transport report to the closed error
// kinds. Policies match on kinds, so this table is the only place Chrome's
// texts are read.

#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace belay::cdp {

struct ClassificationRow {
  std::optional<int> code;  // nullopt: any code
  std::string_view text;    // matched as a substring of the CDP message
  Kind kind;
};

// The table itself, exposed so the unit test can walk it row by row.
const ClassificationRow* classification_table(size_t* count);

// A CDP error object ({"code":…, "message":…, "data":…}) → Error.
Error classify_cdp_error(const nlohmann::json& cdp_error, std::string op);

// Events that are not CDP error replies.
Error transport_closed(std::string_view reason, std::string op = {});
Error session_detached(std::string_view reason, std::string op = {});
Error target_crashed(std::string op = {});
Error protocol_error(std::string message, std::string op = {});

}  // namespace belay::cdp
