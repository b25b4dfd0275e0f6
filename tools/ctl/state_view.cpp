#include "tools/ctl/state_view.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <vector>

#include "actors/device/device_model.h"
#include "actors/room/room_model.h"
#include "actors/system/door_credential_model.h"
#include "actors/system/provisioning_key_model.h"
#include "actors/system/token_model.h"
#include "actors/user/user_model.h"
#include "events/stream_name.h"
#include "tools/ctl/render.h"
#include "tools/ctl/replay.h"

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
  out << "pictures_kept: " << s.pictures.size() << "\n";
  if (s.unexpected)
    out << "unexpected: " << device::lock_state_name(s.unexpected->reported) << " (desired "
        << device::lock_state_name(s.unexpected->desired) << ") at "
        << time_or_dash(s.unexpected->at_ms) << " v" << s.unexpected->version << "\n";
  else
    out << "unexpected: -\n";
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

// Never the hashes.
std::string render_door_credentials(const door_credentials::State& s) {
  std::ostringstream out;
  out << "version: " << s.version << "\n";
  for (const auto& [id, door] : s.doors)
    out << "door: " << id << " issued=" << time_or_dash(door.issued_at_ms)
        << " by=" << cause_text(door.issued_by) << " version=" << door.version << "\n";
  return out.str();
}

std::string render_provisioning_keys(const provisioning_keys::State& s) {
  std::ostringstream out;
  out << "version: " << s.version << "\n";
  for (const auto& [name, key] : s.active)
    out << "key: " << name << " created=" << time_or_dash(key.created_at_ms)
        << " by=" << cause_text(key.created_by) << "\n";
  return out.str();
}

// Never the password hash, the answer hash, the question's text or session hashes: a state
// dump is pasted into tickets.
std::string render_user(const user::State& s, int64_t now_ms) {
  std::ostringstream out;
  out << "version: " << s.version << "\n"
      << "name: " << s.name << "\n"
      << "registered: " << (s.registered ? "yes" : "no") << "\n"
      << "registered_at: " << time_or_dash(s.registered_at_ms) << "\n"
      << "erased: " << (s.erased ? "yes" : "no") << "\n"
      << "roles:";
  if (s.roles.empty()) out << " -";
  for (const auto& role : s.roles) out << " " << role;
  out << "\n"
      << "sessions: " << s.sessions.size() << "\n";
  for (const auto& session : s.sessions)
    out << "session: expires=" << format_time(session.expires_at_ms)
        << (now_ms != 0 && session.expires_at_ms <= now_ms ? " (expired)" : "") << "\n";
  out << "last_login: " << time_or_dash(s.last_login_ms) << "\n"
      << "failed_logins: " << s.failure_times_ms.size() << "\n"
      << "locked_until: " << time_or_dash(s.locked_until_ms)
      << (s.locked_until_ms != 0 && now_ms != 0 && now_ms >= s.locked_until_ms ? " (over)" : "")
      << "\n"
      << "locks_in_a_row: " << s.locks_in_a_row << "\n"
      << "security_question: " << (s.question.empty() ? "no" : "yes") << "\n"
      << "updated_at: " << time_or_dash(s.updated_at_ms) << "\n";
  return out.str();
}

// Text between double quotes, with quotes, backslashes and control characters escaped so
// that a message is one line however it was written; other UTF-8 as it is.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\x%02x", c);
      out += buffer;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// The anonymised set names erased users: only its size is shown.
std::string render_room(const room::State& s, size_t newest) {
  std::ostringstream out;
  out << "version: " << s.version << "\n"
      << "name: " << s.name << "\n"
      << "created: " << (s.created ? "yes" : "no") << "\n"
      << "creator: " << (s.creator.empty() ? "-" : room::shown_author(s, s.creator)) << "\n"
      << "created_at: " << time_or_dash(s.created_at_ms) << "\n"
      << "members: " << s.members.size();
  for (const auto& member : room::members(s)) out << " " << member;
  out << "\n"
      << "messages: " << s.next_message_id - 1 << " posted, " << s.messages.size()
      << " in the state\n"
      << "erased_authors: " << s.anonymised.size() << "\n"
      << "updated_at: " << time_or_dash(s.updated_at_ms) << "\n";
  const size_t shown = std::min(newest, s.messages.size());
  for (size_t i = s.messages.size() - shown; i < s.messages.size(); ++i) {
    const auto& m = s.messages[i];
    out << "message: #" << m.id << " " << format_time(m.posted_at_ms) << " "
        << room::shown_author(s, m.author);
    if (m.deleted) {
      out << " [deleted]\n";
      continue;
    }
    out << " likes=" << m.like_count();
    if (!m.likes.empty() || m.anonymous_likes > 0) {
      out << " (";
      const char* separator = "";
      for (const auto& user : m.likes) {
        out << separator << user;
        separator = " ";
      }
      if (m.anonymous_likes > 0) out << separator << "+" << m.anonymous_likes << " anonymous";
      out << ")";
    }
    out << " " << quoted(m.text) << "\n";
  }
  return out.str();
}

}  // namespace

Result<std::string> render_state(const Journal& journal, const std::string& stream,
                                 const StateQuery& query) {
  if (!is_valid_stream(stream)) return invalid_argument("invalid stream name '" + stream + "'");
  const auto kind = model_kind(stream);
  const bool is_tokens = stream == tokens::kStream || stream == door_credentials::kStream ||
                         stream == provisioning_keys::kStream;
  if (kind == ModelKind::kNone && !is_tokens)
    return failed_precondition("no model for " + stream + " in gatehousectl yet; use `events " +
                               stream + "`");
  const auto id = entity_id(stream);
  device::State device = device::replay(id, {});
  user::State user = user::replay(id, {});
  room::State room = room::replay(id, {});
  std::vector<Envelope> tokens;
  uint64_t last = 0;
  // The stream as it stood at a version, or at T: the events appended up to T are a prefix
  // of it (one writer stamps them in order); the first event stamped later ends the prefix.
  auto status = for_each_event(journal, stream, 1, [&](const Envelope& e) {
    if (query.at_version && e.version() > *query.at_version) return false;
    if (query.at_time_ms && e.time_unix_ms() > *query.at_time_ms) return false;
    switch (kind) {
      case ModelKind::kDevice:
        device::apply(device, e);
        break;
      case ModelKind::kUser:
        user::apply(user, e);
        break;
      case ModelKind::kRoom:
        room::apply(room, e);
        break;
      case ModelKind::kNone:
        tokens.push_back(e);
        break;
    }
    last = e.version();
    return true;
  });
  if (!status.is_ok()) return status;
  if (last == 0) {
    if (!query.at_version && !query.at_time_ms && kind == ModelKind::kUser)
      return not_found("no user named " + std::string(id));
    if (!query.at_version && !query.at_time_ms && kind == ModelKind::kRoom)
      return not_found("no room named " + std::string(id));
    return not_found(stream + " has no events at that point");
  }
  // Sessions and locks are judged at the time asked about, or now.
  const int64_t at = query.at_time_ms.value_or(query.now_ms);
  switch (kind) {
    case ModelKind::kDevice:
      return render_device(device);
    case ModelKind::kUser:
      return render_user(user, at);
    case ModelKind::kRoom:
      return render_room(room, query.newest_messages);
    case ModelKind::kNone:
      break;
  }
  if (stream == door_credentials::kStream)
    return render_door_credentials(door_credentials::replay(tokens));
  if (stream == provisioning_keys::kStream)
    return render_provisioning_keys(provisioning_keys::replay(tokens));
  return render_tokens(tokens::replay(tokens));
}

}  // namespace gh::ctl
