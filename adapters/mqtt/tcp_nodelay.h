// Turns Nagle's algorithm off on this process's own sockets to the MQTT broker. Paho C 1.3
// has no option for it (eclipse-paho/paho.mqtt.c#530) and with Nagle on, every QoS 1 round
// trip waits for a delayed ACK (DESIGN.md "Latency": 88 ms instead of 0.18 ms). So after
// each (re)connect we find the sockets ourselves: every fd in /proc/self/fd that is a
// socket whose peer is the broker's host:port gets TCP_NODELAY.
//
// Thread-safe: only reads the fd table and calls setsockopt. An fd closed or reused while
// we scan is harmless: it is skipped or, if it is another socket to the broker, also fixed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "events/status.h"

namespace gh::mqtt_adapter {

// File descriptors of this process's TCP sockets connected to `host`:`port` (host is an IP
// literal or a name resolved with getaddrinfo; may block on DNS). kInvalidArgument if the
// host cannot be resolved, kInternal if /proc/self/fd cannot be read.
Result<std::vector<int>> sockets_to_peer(const std::string& host, uint16_t port);

// Sets TCP_NODELAY on every socket sockets_to_peer() finds; returns how many (0 is not an
// error: the connection may have dropped meanwhile). Failures as sockets_to_peer().
Result<int> set_nodelay_to_peer(const std::string& host, uint16_t port);

// True when `fd` is a TCP socket with TCP_NODELAY on.
bool nodelay_enabled(int fd);

}  // namespace gh::mqtt_adapter
