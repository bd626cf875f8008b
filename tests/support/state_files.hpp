#pragma once
// Helpers for tests of the durable state (`DIR/belay.db`, `control.sock`):
// read a file's bytes to prove it untouched, change a state file behind the
// store's back with raw SQL, damage one the way a bad disk would, and leave
// a socket the way a killed host would.

#include <string>

namespace belay::test {

// The whole file, or "" if it cannot be read.
std::string file_bytes(const std::string& path);

// Runs `sql` on the SQLite file `path` over a plain connection (no belay
// checks), closing it after. A failure is a test failure.
void exec_sqlite(const std::string& path, const std::string& sql);

// Overwrites the page in the middle of the SQLite file `path` with a
// pattern, so that `PRAGMA integrity_check` fails while page 1 (header,
// schema) still reads. Returns the page number, 0 on failure.
int damage_middle_page(const std::string& path);

// Leaves a Unix socket file at `path` that nobody listens on, as a killed
// host leaves its control.sock. False if it could not be made.
bool leave_stale_socket(const std::string& path);

}  // namespace belay::test
