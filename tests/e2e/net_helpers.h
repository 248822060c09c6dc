// Bounded test traffic for the e2e tests that check network counters.
#pragma once

#include <cstddef>
#include <string>

namespace crius::test {

// Sends `count` UDP datagrams of `size` bytes to `ip`:9 (discard) from the
// calling thread's network namespace; a failed send is a test failure.
void send_udp(const std::string& ip, int count, size_t size);

}  // namespace crius::test
