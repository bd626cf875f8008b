#pragma once
// A JavaScript dialog (alert, confirm, prompt, beforeunload) that a page
// opened. While it is open the page runs no script, so every dialog is
// answered: by whoever the page hands it to (a script's dialog handler), and
// otherwise — or when that one decides nothing — by the page's policy.

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace belay::browser {

// What the policy answers: the campaign's `dialogs`. beforeunload is always
// accepted, so leaving a page never sticks on a dialog nobody sees.
enum class DialogPolicy { dismiss, accept };
std::optional<DialogPolicy> dialog_policy_from_name(std::string_view name);

struct DialogInfo {
  std::string type;  // alert, confirm, prompt, beforeunload
  std::string message;
  std::string default_prompt;  // prompt's default text
  std::string url;             // the document that opened it
  // From Page.javascriptDialogOpening's params.
  static DialogInfo from_cdp(const nlohmann::json& params);
  // {type, message, default, url}: the dialog event's payload.
  nlohmann::json to_json() const;
};

class OpenDialog {
 public:
  // Sends the answer (Page.handleJavaScriptDialog); `by` says who decided:
  // "handler" or "policy".
  using Send =
      std::function<void(bool accept, const std::string& prompt_text, const std::string& by)>;

  OpenDialog(DialogInfo info, DialogPolicy policy, Send send)
      : info_(std::move(info)), policy_(policy), send_(std::move(send)) {}

  const DialogInfo& info() const { return info_; }
  bool answered() const { return answered_; }
  // False when it was answered already (nothing is sent again).
  bool accept(const std::string& prompt_text);
  bool dismiss();
  // The policy's answer, unless one was given. A prompt accepted by the
  // policy gets its default text.
  void answer_by_policy();

 private:
  bool answer(bool accept, const std::string& prompt_text, const char* by);

  DialogInfo info_;
  DialogPolicy policy_;
  Send send_;
  bool answered_ = false;
};

}  // namespace belay::browser
