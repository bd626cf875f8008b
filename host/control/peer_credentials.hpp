#pragma once
// Who is on the other end of a unix socket (SO_PEERCRED): the control socket
// serves only the user the host runs as.

#include <sys/types.h>

#include <optional>

namespace belay::control {

std::optional<uid_t> peer_uid(int fd);

}  // namespace belay::control
