// A blocking D-Bus client connection over a unix socket: SASL EXTERNAL
// authentication, Hello when the peer is a bus daemon, method calls that
// wait (bounded) for their reply or error, and signals kept in a queue until
// asked for. One thread at a time; the socket is closed with the object.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <string>

#include "base/fd.h"
#include "oci/cgroups/dbus_message.h"

namespace crius::oci::dbus {

class Connection {
 public:
  // address: "unix:path=/x" or "unix:abstract=x" (the first usable entry of
  // a ';'-separated list). bus: the peer is a bus daemon (send Hello); false
  // for a peer-to-peer socket such as systemd's /run/systemd/private.
  // Unavailable-style failures throw crius::Error (FailedPrecondition).
  Connection(const std::string& address, bool bus, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Calls and waits for the reply body. A D-Bus error reply throws
  // CallError; no reply within the timeout: DeadlineExceeded.
  std::vector<Value> call(const std::string& destination, const std::string& path, const std::string& interface,
                          const std::string& member, std::vector<Value> args,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The first signal (queued or arriving) that matches, or nullopt at the
  // deadline. A matched signal is taken off the queue.
  std::optional<Message> wait_signal(const std::function<bool(const Message&)>& match,
                                     std::chrono::steady_clock::time_point deadline);

  const std::string& unique_name() const { return unique_name_; }

 private:
  void send(Message& m);
  void keep(Message signal);
  // Reads one message, or nullopt at the deadline.
  std::optional<Message> receive(std::chrono::steady_clock::time_point deadline);

  Fd fd_;
  uint32_t next_serial_ = 1;
  std::string inbuf_;
  std::deque<Message> signals_;
  std::string unique_name_;
};

// An error reply from the peer: its D-Bus error name and message.
class CallError : public std::runtime_error {
 public:
  CallError(std::string name, const std::string& what) : std::runtime_error(what), name_(std::move(name)) {}
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

}  // namespace crius::oci::dbus
