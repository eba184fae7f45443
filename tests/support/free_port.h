// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// free_port(): a loopback TCP port nobody listens on now (the kernel's
// choice for port 0), for tests that start an HTTP server. A fixed or
// pid-derived port can collide with another test process or with a client's
// ephemeral port.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace streamml::testing {

inline int free_port() {
  const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  if (sock < 0) throw std::runtime_error("free_port: socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  const bool ok = ::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  ::getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(sock);
  if (!ok) throw std::runtime_error("free_port: no loopback port");
  return ntohs(addr.sin_port);
}

}  // namespace streamml::testing
