#include "core/private_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace belay {

namespace fs = std::filesystem;

std::optional<std::string> make_private_dirs(const std::string& dir) {
  if (dir.empty()) return "an empty directory name";
  // Parents first: create_directories would make them with the umask's mode.
  fs::path partial;
  for (const auto& part : fs::path(dir)) {
    partial /= part;
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
      return "cannot create " + partial.string() + ": " + std::strerror(errno);
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return "cannot create " + dir + ": " + std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return "cannot create " + dir + ": not a directory";
  // mkdir's mode is filtered by the umask; an existing directory keeps its own.
  if ((st.st_mode & 0777) != 0700 && ::chmod(dir.c_str(), 0700) != 0) {
    return "cannot make " + dir + " private: " + std::strerror(errno);
  }
  return std::nullopt;
}

std::optional<std::string> write_private_file(const std::string& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return "cannot write " + path + ": " + std::strerror(errno);
  // A file that existed keeps its mode through O_CREAT; and 0600 & ~umask
  // may be less, never more.
  ::fchmod(fd, 0600);
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string error = "cannot write " + path + ": " + std::strerror(errno);
      ::close(fd);
      return error;
    }
    written += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return "cannot write " + path + ": " + std::strerror(errno);
  return std::nullopt;
}

}  // namespace belay
