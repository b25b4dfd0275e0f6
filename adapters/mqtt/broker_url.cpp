#include "adapters/mqtt/broker_url.h"

#include <charconv>

namespace gh::mqtt_adapter {

Result<BrokerAddress> parse_broker_url(std::string_view url) {
  std::string_view rest = url;
  if (auto scheme = rest.find("://"); scheme != std::string_view::npos) {
    auto name = rest.substr(0, scheme);
    if (name != "tcp" && name != "mqtt") {
      return invalid_argument("broker url scheme must be tcp:// or mqtt://: " + std::string(url));
    }
    rest.remove_prefix(scheme + 3);
  }
  BrokerAddress address;
  // A bracketed IPv6 literal ("[::1]:1883") keeps its colons.
  std::string_view port_text;
  if (rest.starts_with('[')) {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return invalid_argument("broker url: unclosed '['");
    address.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (rest.starts_with(':'))
      port_text = rest.substr(1);
    else if (!rest.empty())
      return invalid_argument("broker url: junk after host");
  } else {
    auto colon = rest.rfind(':');
    address.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
  }
  if (address.host.empty()) return invalid_argument("broker url has no host: " + std::string(url));
  if (!port_text.empty()) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return invalid_argument("broker url has a bad port: " + std::string(url));
    }
    address.port = static_cast<uint16_t>(port);
  }
  return address;
}

Result<std::vector<std::string>> parse_broker_urls(std::string_view list) {
  std::vector<std::string> urls;
  while (true) {
    const auto comma = list.find(',');
    const auto entry = list.substr(0, comma);
    if (entry.empty()) return invalid_argument("broker url list has an empty entry");
    auto address = parse_broker_url(entry);
    if (!address) return address.status();
    urls.push_back(broker_url(*address));
    if (comma == std::string_view::npos) return urls;
    list.remove_prefix(comma + 1);
  }
}

std::string broker_url(const BrokerAddress& address) {
  bool ipv6 = address.host.find(':') != std::string::npos;
  std::string host = ipv6 ? "[" + address.host + "]" : address.host;
  return "tcp://" + host + ":" + std::to_string(address.port);
}

}  // namespace gh::mqtt_adapter
