// JSON bodies of lock/unlock answers, shared by the legacy routes (/lock, /unlock, /test)
// and the device routes. Pure; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "actors/device/device_service.h"

namespace gh::http {

// [{"device":id,"ok":true,"command":{...}} | {"device":id,"ok":false,"error":{...}}, ...]
nlohmann::json fan_out_json(const std::vector<device::FanOut>& results);

}  // namespace gh::http
