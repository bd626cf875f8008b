#include "support/state_files.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

namespace belay::test {

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

void exec_sqlite(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db);
  } else {
    char* message = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      ADD_FAILURE() << sql << " on " << path << ": " << (message ? message : "?");
    }
    sqlite3_free(message);
  }
  sqlite3_close(db);
}

int damage_middle_page(const std::string& path) {
  std::string bytes = file_bytes(path);
  if (bytes.size() < 100) {
    ADD_FAILURE() << path << " is too short to be an SQLite file";
    return 0;
  }
  // Header bytes 16-17: the page size, big-endian (1 means 65536).
  size_t page_size =
      (static_cast<unsigned char>(bytes[16]) << 8) | static_cast<unsigned char>(bytes[17]);
  if (page_size == 1) page_size = 65536;
  const size_t pages = bytes.size() / page_size;
  if (pages < 4) {
    ADD_FAILURE() << path << " has only " << pages << " pages";
    return 0;
  }
  const size_t page = pages / 2;  // 0-based: never page 1
  std::fstream out(path, std::ios::binary | std::ios::in | std::ios::out);
  out.seekp(static_cast<std::streamoff>(page * page_size));
  const std::string pattern(page_size, '\xA5');
  out.write(pattern.data(), static_cast<std::streamsize>(pattern.size()));
  out.close();
  if (!out) ADD_FAILURE() << "cannot write " << path;
  return static_cast<int>(page + 1);
}

bool leave_stale_socket(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);  // the file stays; nobody listens on it
  return bound;
}

}  // namespace belay::test
