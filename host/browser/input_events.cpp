#include "browser/input_events.hpp"

#include <array>
#include <cctype>

namespace belay::browser {
namespace {

using json = nlohmann::json;

struct NamedKey {
  const char* key;
  const char* code;
  int key_code;
  const char* text;
};

constexpr std::array<NamedKey, 21> kNamedKeys = {{
    {"Enter", "Enter", 13, "\r"},
    {"Tab", "Tab", 9, ""},
    {"Backspace", "Backspace", 8, ""},
    {"Escape", "Escape", 27, ""},
    {"Delete", "Delete", 46, ""},
    {"ArrowLeft", "ArrowLeft", 37, ""},
    {"ArrowUp", "ArrowUp", 38, ""},
    {"ArrowRight", "ArrowRight", 39, ""},
    {"ArrowDown", "ArrowDown", 40, ""},
    {"Home", "Home", 36, ""},
    {"End", "End", 35, ""},
    {"PageUp", "PageUp", 33, ""},
    {"PageDown", "PageDown", 34, ""},
    {"Space", "Space", 32, " "},
    {" ", "Space", 32, " "},
    {"Insert", "Insert", 45, ""},
    {"Shift", "ShiftLeft", 16, ""},
    {"Control", "ControlLeft", 17, ""},
    {"Alt", "AltLeft", 18, ""},
    {"Meta", "MetaLeft", 91, ""},
    {"ContextMenu", "ContextMenu", 93, ""},
}};

// US layout codes and Windows key codes for the printable ASCII keys
// besides letters and digits.
struct Punctuation {
  char c;
  const char* code;
  int key_code;
};
constexpr std::array<Punctuation, 22> kPunctuation = {{
    {'-', "Minus", 189},        {'_', "Minus", 189},        {'=', "Equal", 187},
    {'+', "Equal", 187},        {'[', "BracketLeft", 219},  {'{', "BracketLeft", 219},
    {']', "BracketRight", 221}, {'}', "BracketRight", 221}, {';', "Semicolon", 186},
    {':', "Semicolon", 186},    {'\'', "Quote", 222},       {'"', "Quote", 222},
    {',', "Comma", 188},        {'<', "Comma", 188},        {'.', "Period", 190},
    {'>', "Period", 190},       {'/', "Slash", 191},        {'?', "Slash", 191},
    {'\\', "Backslash", 220},   {'|', "Backslash", 220},    {'`', "Backquote", 192},
    {'~', "Backquote", 192},
}};

Key character_key(const std::string& character) {
  Key key{character, "", 0, character};
  if (character.size() != 1) return key;  // beyond ASCII: text only, as an IME would
  const auto c = static_cast<unsigned char>(character[0]);
  if (std::isalpha(c)) {
    key.code = std::string("Key") + static_cast<char>(std::toupper(c));
    key.key_code = std::toupper(c);
  } else if (std::isdigit(c)) {
    key.code = std::string("Digit") + static_cast<char>(c);
    key.key_code = c;
  } else {
    for (const auto& p : kPunctuation) {
      if (p.c == static_cast<char>(c)) {
        key.code = p.code;
        key.key_code = p.key_code;
      }
    }
  }
  return key;
}

cdp::Command key_event(const char* type, const Key& key, int modifiers, bool with_text,
                       uint64_t timeout_ms) {
  json params = {{"type", type},
                 {"key", key.key},
                 {"code", key.code},
                 {"windowsVirtualKeyCode", key.key_code},
                 {"nativeVirtualKeyCode", key.key_code},
                 {"modifiers", modifiers}};
  if (with_text && !key.text.empty()) {
    params["text"] = key.text;
    params["unmodifiedText"] = key.text;
  }
  return cdp::Command{"Input.dispatchKeyEvent", std::move(params), "", timeout_ms, ""};
}

}  // namespace

int modifier_bit(std::string_view name) {
  if (name == "Alt") return kAlt;
  if (name == "Control" || name == "ControlOrMeta") return kControl;
  if (name == "Meta") return kMeta;
  if (name == "Shift") return kShift;
  return 0;
}

std::optional<Key> find_key(std::string_view name) {
  if (name == "ControlOrMeta") name = "Control";  // Linux: Control
  for (const auto& k : kNamedKeys) {
    if (name == k.key) return Key{k.key, k.code, k.key_code, k.text};
  }
  if (name.size() >= 2 && name.size() <= 3 && name[0] == 'F') {
    const int n = std::atoi(std::string(name.substr(1)).c_str());
    if (n >= 1 && n <= 12 && std::to_string(n) == name.substr(1)) {
      return Key{std::string(name), std::string(name), 111 + n, ""};
    }
  }
  if (utf8_characters(std::string(name)).size() == 1) return character_key(std::string(name));
  return std::nullopt;
}

Result<std::vector<cdp::Command>> key_press_commands(std::string_view keys, uint64_t timeout_ms) {
  // Split on '+', where a '+' right after a separator (or alone) is the key.
  std::vector<std::string> parts;
  std::string current;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] == '+' && !current.empty()) {
      parts.push_back(current);
      current.clear();
    } else {
      current.push_back(keys[i]);
    }
  }
  if (!current.empty()) parts.push_back(current);
  if (parts.empty() || (!keys.empty() && keys.back() == '+' && current != "+")) {
    return Error{Kind::config,
                 "'" + std::string(keys) + "' is not a key or a key combination",
                 "Input.dispatchKeyEvent",
                 {}};
  }
  std::vector<Key> held;
  int modifiers = 0;
  std::vector<cdp::Command> out;
  for (size_t i = 0; i < parts.size(); ++i) {
    auto key = find_key(parts[i]);
    if (!key) {
      return Error{Kind::config,
                   "unknown key '" + parts[i] +
                       "' (use a DOM key name such as Enter, Tab, ArrowDown, F5, Shift, "
                       "Control, Alt, Meta, or a single character)",
                   "Input.dispatchKeyEvent",
                   {}};
    }
    const bool last = i + 1 == parts.size();
    if (!last && modifier_bit(parts[i]) == 0) {
      return Error{Kind::config,
                   "'" + parts[i] + "' in '" + std::string(keys) +
                       "' is not a modifier: only the last key of a combination may be one "
                       "(Shift, Control, Alt, Meta go first)",
                   "Input.dispatchKeyEvent",
                   {}};
    }
    if (!last) {
      modifiers |= modifier_bit(parts[i]);
      out.push_back(key_event("rawKeyDown", *key, modifiers, false, timeout_ms));
      held.push_back(*key);
      continue;
    }
    if ((modifiers & kShift) != 0 && key->text.size() == 1 && std::isalpha(key->text[0])) {
      key->text = std::string(1, static_cast<char>(std::toupper(key->text[0])));
      key->key = key->text;
    }
    // With Control, Alt or Meta held a key is a shortcut, not text.
    const bool types = (modifiers & (kControl | kAlt | kMeta)) == 0 && !key->text.empty();
    out.push_back(key_event(types ? "keyDown" : "rawKeyDown", *key, modifiers, types, timeout_ms));
    out.push_back(key_event("keyUp", *key, modifiers, false, timeout_ms));
  }
  for (auto it = held.rbegin(); it != held.rend(); ++it) {
    modifiers &= ~modifier_bit(it->key);
    out.push_back(key_event("keyUp", *it, modifiers, false, timeout_ms));
  }
  return out;
}

std::vector<cdp::Command> type_character_commands(const std::string& character,
                                                  uint64_t timeout_ms) {
  Key key = character == "\n" || character == "\r" ? *find_key("Enter") : character_key(character);
  return {key_event("keyDown", key, 0, true, timeout_ms),
          key_event("keyUp", key, 0, false, timeout_ms)};
}

std::vector<std::string> utf8_characters(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t len = 1;
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0xF0) {
      len = 4;
    } else if (c >= 0xE0) {
      len = 3;
    } else if (c >= 0xC0) {
      len = 2;
    }
    if (i + len > text.size()) len = 1;
    out.push_back(text.substr(i, len));
    i += len;
  }
  return out;
}

std::vector<cdp::Command> mouse_click_commands(const MouseClick& click, uint64_t timeout_ms) {
  std::vector<cdp::Command> out = {
      mouse_move_command(click.x, click.y, click.modifiers, timeout_ms)};
  for (int i = 1; i <= click.count; ++i) {
    for (const char* type : {"mousePressed", "mouseReleased"}) {
      out.push_back(cdp::Command{"Input.dispatchMouseEvent",
                                 {{"type", type},
                                  {"x", click.x},
                                  {"y", click.y},
                                  {"button", click.button},
                                  {"clickCount", i},
                                  {"modifiers", click.modifiers}},
                                 "",
                                 timeout_ms,
                                 ""});
    }
  }
  return out;
}

cdp::Command mouse_move_command(double x, double y, int modifiers, uint64_t timeout_ms) {
  return cdp::Command{"Input.dispatchMouseEvent",
                      {{"type", "mouseMoved"}, {"x", x}, {"y", y}, {"modifiers", modifiers}},
                      "",
                      timeout_ms,
                      ""};
}

}  // namespace belay::browser
