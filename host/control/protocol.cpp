#include "control/protocol.hpp"

#include "core/json_text.hpp"

namespace belay::control {
namespace {

Error malformed(const std::string& why) {
  return Error{Kind::protocol, "malformed control message: " + why, "control", {}};
}

}  // namespace

Result<Request> parse_request(std::string_view line) {
  nlohmann::json message = parse_json_or_discard(line);
  if (message.is_discarded()) return malformed("not JSON");
  if (!message.is_object()) return malformed("not a JSON object");
  Request request;
  if (message.contains("id")) {
    request.id = message["id"];
    if (!request.id.is_number_integer() && !request.id.is_string()) {
      return malformed("`id` must be an integer or a string");
    }
  }
  auto op = message.find("op");
  if (op == message.end() || !op->is_string()) return malformed("`op` is missing");
  const std::string& name = op->get_ref<const std::string&>();
  if (name == "eval") {
    request.op = Op::eval;
  } else if (name == "complete") {
    request.op = Op::complete;
  } else if (name == "cancel") {
    request.op = Op::cancel;
    return request;
  } else {
    return malformed("unknown op '" + name + "' (eval, complete or cancel)");
  }
  auto text = message.find("text");
  if (text == message.end() || !text->is_string()) return malformed("`text` must be a string");
  request.text = text->get<std::string>();
  return request;
}

std::string encode_request(const Request& request) {
  static const char* const kNames[] = {"eval", "complete", "cancel"};
  nlohmann::json message = {{"id", request.id}, {"op", kNames[static_cast<int>(request.op)]}};
  if (request.op != Op::cancel) message["text"] = request.text;
  return message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

nlohmann::json value_reply(const nlohmann::json& id, const std::string& text) {
  return {{"id", id}, {"ok", true}, {"text", text}};
}

nlohmann::json error_reply(const nlohmann::json& id, const std::string& error) {
  return {{"id", id}, {"ok", false}, {"error", error}};
}

nlohmann::json candidates_reply(const nlohmann::json& id, const std::vector<std::string>& words) {
  return {{"id", id}, {"ok", true}, {"candidates", words}};
}

nlohmann::json print_message(std::string_view line) { return {{"print", std::string(line)}}; }

nlohmann::json hello_message() { return {{"hello", "belay"}}; }

}  // namespace belay::control
