#include "adapters/http/lock_reply.h"

#include "adapters/codec/device_json.h"
#include "adapters/codec/json_reply.h"

namespace gh::http {

nlohmann::json fan_out_json(const std::vector<device::FanOut>& results) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& result : results) {
    nlohmann::json item = result.command.is_ok()
                              ? codec::ok_reply({{"command", codec::to_json(*result.command)}})
                              : codec::error_reply(result.command.status());
    item["device"] = result.device_id;
    list.push_back(std::move(item));
  }
  return list;
}

}  // namespace gh::http
