#pragma once
// Trusted input: the Input.dispatch* commands a keyboard and a mouse would
// cause, so pages see isTrusted events, focus moves, editing shortcuts
// (Control+A) and default actions as from a user.

#include "cdp/connection.hpp"
#include "core/error.hpp"

#include <string>
#include <vector>

namespace belay::browser {

// Input.dispatch* modifier bits.
enum Modifier : int { kAlt = 1, kControl = 2, kMeta = 4, kShift = 8 };

// The bit of a modifier key name (Alt, Control, Meta, Shift; ControlOrMeta
// is Control here, on Linux), or 0.
int modifier_bit(std::string_view name);

// One key: its DOM key, code, Windows key code (Blink's editing shortcuts go
// by it) and the text it types ("" for none).
struct Key {
  std::string key;
  std::string code;
  int key_code = 0;
  std::string text;
};

// A named key (Enter, Tab, ArrowDown, F5, Shift, …) or a single character.
std::optional<Key> find_key(std::string_view name);

// The commands that press `keys`: one key or a combination such as
// "Control+A", "Shift+Tab", "Meta+Enter", "Control++". The modifiers go down
// in order, the key is pressed and released, the modifiers come up in
// reverse. A key with Control, Alt or Meta held types no text. `config`
// error for an unknown key name.
Result<std::vector<cdp::Command>> key_press_commands(std::string_view keys, uint64_t timeout_ms);

// The commands that type one character (a UTF-8 sequence) as a key press;
// "\n" presses Enter.
std::vector<cdp::Command> type_character_commands(const std::string& character,
                                                  uint64_t timeout_ms);

// Splits UTF-8 text into characters (a malformed byte is one character).
std::vector<std::string> utf8_characters(const std::string& text);

struct MouseClick {
  double x = 0;
  double y = 0;
  std::string button = "left";  // left, right, middle
  int count = 1;                // clicks: 2 is a double click
  int modifiers = 0;
};

// Move there, then press and release `count` times (clickCount 1, 2, …), as
// a user's double click reaches the page as click, click, dblclick.
std::vector<cdp::Command> mouse_click_commands(const MouseClick& click, uint64_t timeout_ms);
// Only the move: hover.
cdp::Command mouse_move_command(double x, double y, int modifiers, uint64_t timeout_ms);

}  // namespace belay::browser
