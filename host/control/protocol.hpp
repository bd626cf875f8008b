#pragma once
// The control socket's messages, one JSON object a line.
//
// Client -> host:  {"id": N, "op": "eval", "text": CHUNK}
//                  {"id": N, "op": "complete", "text": WORD}
//                  {"id": N, "op": "cancel"}
// Host -> client:  {"hello": "belay"}   first, once the client is accepted
//                  {"id": N, "ok": true, "text": VALUES}        eval succeeded
//                  {"id": N, "ok": false, "error": "kind: message (op)"}
//                  {"id": N, "ok": true, "candidates": [WORD, ...]}
//                  {"print": LINE}     print()/belay.log output of a running chunk
// A message the host cannot read gets an error reply (id null when it has
// none); the connection stays, except past the line cap.

#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace belay::control {

enum class Op { eval, complete, cancel };

struct Request {
  nlohmann::json id;  // echoed back; a number or a string
  Op op = Op::eval;
  std::string text;
};

// A `protocol` error names what is wrong with the message.
Result<Request> parse_request(std::string_view line);
std::string encode_request(const Request& request);

nlohmann::json value_reply(const nlohmann::json& id, const std::string& text);
nlohmann::json error_reply(const nlohmann::json& id, const std::string& error);
nlohmann::json candidates_reply(const nlohmann::json& id, const std::vector<std::string>& words);
nlohmann::json print_message(std::string_view line);
nlohmann::json hello_message();

}  // namespace belay::control
