// Stranger alerts as history (docs/protocol.md "Alerts"): every door's alerts newest first,
// filtered by door, reviewed or not, and time; and marking one reviewed, an event that
// names who. Operators only (API tokens or an operator's session), like the device routes.
//
// The listing reads each door's log (device_alerts.h derives the alerts): it is meant for a
// home or a small site, and looks at no more than kMaxDoors doors.
#include <algorithm>

#include "actors/device/device_alerts.h"
#include "adapters/codec/device_json.h"
#include "adapters/http/bounded_wait.h"
#include "adapters/http/params.h"
#include "adapters/http/reply.h"
#include "adapters/http/routes.h"
#include "events/stream_name.h"

namespace gh::http {
namespace {

constexpr size_t kMaxDoors = 1000;

// One door's alerts and its name, from its log.
struct DoorAlerts {
  std::string name;
  std::vector<device::Alert> alerts;
};

Result<DoorAlerts> door_alerts(RouteContext& context, const std::string& id) {
  auto events = context.devices.events(id);
  if (!events) return events.status();
  if (events->empty()) return not_found("device " + id + " is not registered");
  DoorAlerts door;
  door.name = device::replay(id, *events).name;
  door.alerts = device::alerts_of(id, *events);
  return door;
}

Result<device::AlertFilter> parse_filter(const httplib::Request& req) {
  device::AlertFilter filter;
  const std::string reviewed = req.get_param_value("reviewed");
  if (reviewed == "yes") {
    filter.reviewed = device::AlertFilter::Reviewed::kOnly;
  } else if (reviewed == "no") {
    filter.reviewed = device::AlertFilter::Reviewed::kNot;
  } else if (!reviewed.empty() && reviewed != "any") {
    return invalid_argument("reviewed must be yes, no or any");
  }
  for (auto [name, out] : {std::pair{"since", &filter.since_ms}, {"until", &filter.until_ms}}) {
    if (!req.has_param(name)) continue;
    auto parsed = parse_time_ms(req.get_param_value(name));
    if (!parsed) return parsed.status();
    *out = *parsed;
  }
  return filter;
}

Status list_alerts(RouteContext& context, const httplib::Request& req, httplib::Response& res) {
  auto filter = parse_filter(req);
  if (!filter) return filter.status();
  auto limit = parse_limit(req.get_param_value("limit"), context.options.page_default,
                           context.options.page_max);
  if (!limit) return limit.status();
  std::vector<std::string> ids;
  if (req.has_param("device")) {
    std::string id = req.get_param_value("device");
    GH_RETURN_IF_ERROR(validate_id(id, "device"));
    ids.push_back(std::move(id));
  } else {
    auto listed = context.devices.list("", kMaxDoors);
    if (!listed) return listed.status();
    ids = std::move(*listed);
  }
  std::vector<std::pair<device::Alert, std::string>> found;
  size_t unreviewed = 0;
  for (const auto& id : ids) {
    auto door = door_alerts(context, id);
    if (!door) return door.status();
    for (auto& alert : door->alerts) {
      if (!alert.reviewed) ++unreviewed;
      if (device::matches(alert, *filter)) found.emplace_back(std::move(alert), door->name);
    }
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return device::newer_first(a.first, b.first); });
  const size_t total = found.size();
  if (found.size() > *limit) found.resize(*limit);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [alert, name] : found) list.push_back(codec::to_json(alert, name));
  send_ok(res, {{"alerts", std::move(list)}, {"matching", total}, {"unreviewed", unreviewed}});
  return Status::ok();
}

Status review_alert(RouteContext& context, const events::Cause& cause, const httplib::Request& req,
                    httplib::Response& res) {
  std::string id = req.matches.size() > 1 ? std::string(req.matches[1]) : std::string();
  std::string alert_id = req.matches.size() > 2 ? std::string(req.matches[2]) : std::string();
  GH_RETURN_IF_ERROR(validate_id(id, "device id"));
  GH_RETURN_IF_ERROR(validate_id(alert_id, "alert id"));
  auto state = wait_bounded<device::State>(context.options.call_timeout, [&](auto done) {
    context.devices.review_alert(id, alert_id, cause, std::move(done));
  });
  // Not among the door's unreviewed alerts: the log tells whether it was reviewed already
  // (a repeat answers with who reviewed it) or never raised.
  if (!state && state.status().code() != Code::kNotFound) return state.status();
  auto door = door_alerts(context, id);
  if (!door) return state ? door.status() : state.status();
  auto it = std::find_if(door->alerts.begin(), door->alerts.end(),
                         [&](const device::Alert& a) { return a.alert_id == alert_id; });
  if (it == door->alerts.end() || !it->reviewed)
    return state ? internal_error("alert " + alert_id + " was not recorded as reviewed")
                 : state.status();
  send_ok(res, {{"alert", codec::to_json(*it, door->name)}});
  return Status::ok();
}

}  // namespace

void register_alert_routes(httplib::Server& server, RouteContext& context) {
  add_route(server, context, Method::kGet, "/api/alerts", "GET /api/alerts",
            [&context](const httplib::Request& req, httplib::Response& res) {
              auto caller = require_operator_caller(context, req);
              if (!caller) return caller.status();
              return list_alerts(context, req, res);
            });
  add_route(server, context, Method::kPost, "/devices/([^/]+)/alerts/([^/]+)/review",
            "POST /devices/{id}/alerts/{alert}/review",
            [&context](const httplib::Request& req, httplib::Response& res) {
              auto caller = require_operator_caller(context, req);
              if (!caller) return caller.status();
              return review_alert(context, *caller, req, res);
            });
}

}  // namespace gh::http
