#pragma once
// A transport moves whole CDP messages (JSON texts) between belay and one
// browser. The connection above it never sees bytes; the transport never
// parses JSON.

#include "core/error.hpp"

#include <string>
#include <string_view>

namespace belay::cdp {

class Transport {
 public:
  class Sink {
   public:
    virtual ~Sink() = default;
    // One complete message, exactly as the browser sent it.
    virtual void on_message(std::string_view message) = 0;
    // A frame that could not be delivered (oversized, garbage); the
    // transport goes on.
    virtual void on_transport_error(const Error& error) = 0;
    // The transport is closed for good: called exactly once, from the loop.
    virtual void on_closed(const Error& why) = 0;
  };

  virtual ~Transport() = default;
  virtual void set_sink(Sink* sink) = 0;
  // Queues one message; dropped silently once closed (the connection has
  // already failed every pending command by then).
  virtual void send(std::string message) = 0;
  // Starts closing; on_closed follows.
  virtual void close() = 0;
  virtual bool is_open() const = 0;
  virtual std::string_view name() const = 0;
};

}  // namespace belay::cdp
