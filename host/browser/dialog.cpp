#include "browser/dialog.hpp"

#include "cdp/reply_fields.hpp"

namespace belay::browser {

std::optional<DialogPolicy> dialog_policy_from_name(std::string_view name) {
  if (name == "dismiss") return DialogPolicy::dismiss;
  if (name == "accept") return DialogPolicy::accept;
  return std::nullopt;
}

DialogInfo DialogInfo::from_cdp(const nlohmann::json& params) {
  DialogInfo info;
  info.type = cdp::string_field(params, "type", "alert");
  info.message = cdp::string_field(params, "message", "");
  info.default_prompt = cdp::string_field(params, "defaultPrompt", "");
  info.url = cdp::string_field(params, "url", "");
  return info;
}

nlohmann::json DialogInfo::to_json() const {
  return {{"type", type}, {"message", message}, {"default", default_prompt}, {"url", url}};
}

bool OpenDialog::accept(const std::string& prompt_text) {
  return answer(true, prompt_text, "handler");
}

bool OpenDialog::dismiss() { return answer(false, "", "handler"); }

void OpenDialog::answer_by_policy() {
  const bool accept = policy_ == DialogPolicy::accept || info_.type == "beforeunload";
  answer(accept, accept ? info_.default_prompt : "", "policy");
}

bool OpenDialog::answer(bool accept, const std::string& prompt_text, const char* by) {
  if (answered_) return false;
  answered_ = true;
  if (send_) send_(accept, prompt_text, by);
  return true;
}

}  // namespace belay::browser
