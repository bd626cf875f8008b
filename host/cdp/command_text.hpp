#pragma once
// The text of one CDP command as it goes on the wire:
// {"id":N,"method":"…","params":{…},"sessionId":"…"}. Written straight into
// a string rather than built as a JSON object and dumped: the envelope is
// fixed, and building and dumping it was two thirds of what
// Connection::send cost (docs/performance.md, "Where the time goes").

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace belay::cdp {

// Byte for byte what nlohmann's dump of {"id", "method", "params",
// "sessionId"} gives (keys in that order; invalid UTF-8 replaced by
// U+FFFD); no "sessionId" when `session_id` is empty.
std::string command_text(uint64_t id, const std::string& method, const nlohmann::json& params,
                         const std::string& session_id);

}  // namespace belay::cdp
