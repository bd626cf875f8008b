#pragma once
// What a console line means before it runs, as the stock `lua` REPL decides
// it: `=expr` is `return expr`; a line that compiles as `return <line>` is an
// expression whose values are printed; otherwise it is a statement; and a
// chunk whose syntax error is at `<eof>` is incomplete, so the console reads
// another line. No Lua in this interface: the attach client uses it too.

#include <string>
#include <string_view>

namespace belay::lua {

enum class ChunkStatus {
  ready,        // `source` is the text to run
  incomplete,   // the chunk goes on: read another line
  syntax_error  // `message` says why ("stdin:1: ...")
};

struct ChunkPlan {
  ChunkStatus status = ChunkStatus::syntax_error;
  std::string source;       // ready: the text to load
  bool expression = false;  // ready: it is `return <expression>`
  std::string message;      // syntax_error: Lua's message
};

// Compiles (without running) the text typed so far, lines joined by "\n".
ChunkPlan plan_chunk(std::string_view text);

}  // namespace belay::lua
