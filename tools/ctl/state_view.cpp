#include "tools/ctl/state_view.h"

#include <sstream>

#include "actors/device/device_model.h"
#include "actors/system/token_model.h"
#include "events/stream_name.h"
#include "tools/ctl/render.h"

namespace gh::ctl {
namespace {

std::string time_or_dash(int64_t ms) { return ms == 0 ? "-" : format_time(ms); }

void render_command(std::ostream& out, const std::string& label, const device::CommandRecord& c) {
  out << label << ": " << c.id << " " << device::action_name(c.action) << " "
      << device::status_name(c.status) << " by=" << cause_text(c.requested_by)
      << " requested=" << time_or_dash(c.requested_at_ms) << " sent=" << time_or_dash(c.sent_at_ms)
      << " finished=" << time_or_dash(c.finished_at_ms) << " timeout_ms=" << c.timeout_ms;
  if (!c.reason.empty()) out << " reason=" << c.reason;
  out << "\n";
}

std::string render_device(const device::State& s) {
  std::ostringstream out;
  out << "version: " << s.version << "\n"
      << "id: " << s.id << "\n"
      << "registered: " << (s.registered ? "yes" : "no") << "\n"
      << "provisioned: " << (s.provisioned ? "yes" : "no") << "\n"
      << "type: " << s.type << "\n"
      << "name: " << s.name << "\n"
      << "firmware: " << s.firmware << "\n"
      << "registered_at: " << time_or_dash(s.registered_at_ms) << "\n"
      << "online: " << (s.online ? "yes" : "no") << "\n"
      << "last_seen: " << time_or_dash(s.last_seen_ms) << "\n"
      << "desired: " << device::lock_state_name(s.desired) << "\n"
      << "reported: " << device::lock_state_name(s.reported) << "\n";
  if (s.pending)
    render_command(out, "pending", *s.pending);
  else
    out << "pending: -\n";
  for (const auto& c : s.recent) render_command(out, "recent", c);
  out << "strangers_seen: " << s.strangers_seen << "\n";
  if (s.last_stranger)
    out << "last_stranger: " << s.last_stranger->picture_id << " " << s.last_stranger->content_type
        << " " << s.last_stranger->size_bytes << " bytes at "
        << time_or_dash(s.last_stranger->seen_at_ms) << " alert=" << s.last_stranger->alert_id
        << "\n";
  out << "updated_at: " << time_or_dash(s.updated_at_ms) << "\n";
  return out.str();
}

std::string render_tokens(const tokens::State& s) {
  std::ostringstream out;
  out << "version: " << s.version << "\n";
  for (const auto& [name, token] : s.active)
    out << "token: " << name << " created=" << time_or_dash(token.created_at_ms)
        << " by=" << cause_text(token.created_by) << "\n";
  return out.str();
}

}  // namespace

Result<std::string> render_state(const Journal& journal, const std::string& stream,
                                 const StateQuery& query) {
  if (!is_valid_stream(stream)) return invalid_argument("invalid stream name '" + stream + "'");
  const bool is_device = stream.starts_with("device/");
  const bool is_tokens = stream == tokens::kStream;
  if (!is_device && !is_tokens)
    return failed_precondition("no model for " + stream + " in gatehousectl yet; use `events " +
                               stream + "`");
  auto events = journal.read_stream(stream, 1, query.at_version.value_or(SIZE_MAX));
  if (!events) return events.status();
  if (query.at_time_ms) {
    // The stream as it stood at T: the events appended up to T are a prefix of it (one
    // writer stamps them in order); the first event stamped later ends the prefix.
    size_t keep = 0;
    while (keep < events->size() && (*events)[keep].time_unix_ms() <= *query.at_time_ms) ++keep;
    events->resize(keep);
  }
  if (events->empty()) return not_found(stream + " has no events at that point");
  if (is_device) return render_device(device::replay(std::string_view(stream).substr(7), *events));
  return render_tokens(tokens::replay(*events));
}

}  // namespace gh::ctl
