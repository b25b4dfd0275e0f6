#include "actors/actions/sandbox_wire.h"

#include <charconv>

namespace gh::actions::wire {

namespace {

void put_u32(std::string& out, uint32_t n) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
}

Status malformed(std::string_view what) {
  return invalid_argument("malformed sandbox message: " + std::string(what));
}

FrameWriter& add_limits(FrameWriter& w, const SandboxLimits& l) {
  return w.add(l.max_source_bytes)
      .add(l.max_instructions)
      .add(l.max_memory_bytes)
      .add(l.max_output_bytes)
      .add(l.max_effects)
      .add(l.max_log_bytes)
      .add(l.max_pattern_subject)
      .add(l.max_call_ms);
}

bool read_limits(FrameReader& r, SandboxLimits& l) {
  auto get = [&r](auto& field) {
    auto n = r.number();
    if (n) field = static_cast<std::remove_reference_t<decltype(field)>>(*n);
    return n.has_value();
  };
  return get(l.max_source_bytes) && get(l.max_instructions) && get(l.max_memory_bytes) &&
         get(l.max_output_bytes) && get(l.max_effects) && get(l.max_log_bytes) &&
         get(l.max_pattern_subject) && get(l.max_call_ms);
}

bool read_text(FrameReader& r, std::string& out) {
  auto t = r.text();
  if (t) out.assign(*t);
  return t.has_value();
}

}  // namespace

FrameWriter& FrameWriter::add(std::string_view field) {
  put_u32(body_, static_cast<uint32_t>(field.size()));
  body_.append(field);
  return *this;
}

FrameWriter& FrameWriter::add(uint64_t number) { return add(std::to_string(number)); }

std::string FrameWriter::finish() const {
  std::string out;
  out.reserve(body_.size() + 4);
  put_u32(out, static_cast<uint32_t>(body_.size()));
  out.append(body_);
  return out;
}

uint32_t frame_length(std::string_view prefix) {
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i)
    n |= static_cast<uint32_t>(static_cast<unsigned char>(prefix[i])) << (8 * i);
  return n;
}

std::optional<std::string_view> FrameReader::text() {
  if (rest_.size() < 4) return std::nullopt;
  const uint32_t n = frame_length(rest_);
  if (rest_.size() - 4 < n) return std::nullopt;
  auto field = rest_.substr(4, n);
  rest_.remove_prefix(4 + n);
  return field;
}

std::optional<uint64_t> FrameReader::number() {
  auto t = text();
  if (!t || t->empty()) return std::nullopt;
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), n);
  if (ec != std::errc() || end != t->data() + t->size()) return std::nullopt;
  return n;
}

std::string encode_run(const std::string& source, const Message& message,
                       const SandboxLimits& limits) {
  FrameWriter w;
  w.add("run").add(source).add(message.topic).add(message.payload);
  return add_limits(w, limits).finish();
}

std::string encode_check(const std::string& source, const SandboxLimits& limits) {
  FrameWriter w;
  w.add("check").add(source);
  return add_limits(w, limits).finish();
}

std::string encode_device_answer(const std::optional<DeviceView>& device) {
  FrameWriter w;
  w.add("device");
  if (!device) return w.add(uint64_t{0}).finish();
  const DeviceView& d = *device;
  return w.add(uint64_t{1})
      .add(d.id)
      .add(uint64_t{d.registered})
      .add(uint64_t{d.online})
      .add(d.reported)
      .add(d.desired)
      .add(d.name)
      .add(d.type)
      .finish();
}

Result<Request> decode_request(std::string_view body) {
  FrameReader r(body);
  auto kind = r.text();
  if (!kind || (*kind != "run" && *kind != "check")) return malformed("request kind");
  Request request;
  request.check = *kind == "check";
  if (!read_text(r, request.source)) return malformed("source");
  if (!request.check &&
      !(read_text(r, request.message.topic) && read_text(r, request.message.payload)))
    return malformed("message");
  if (!read_limits(r, request.limits)) return malformed("limits");
  return request;
}

Result<std::optional<DeviceView>> decode_device_answer(std::string_view body) {
  FrameReader r(body);
  auto kind = r.text();
  auto found = r.number();
  if (!kind || *kind != "device" || !found) return malformed("device answer");
  if (*found == 0) return std::optional<DeviceView>();
  DeviceView d;
  auto registered = uint64_t{0}, online = uint64_t{0};
  bool ok = read_text(r, d.id);
  if (auto n = r.number())
    registered = *n;
  else
    ok = false;
  if (auto n = r.number())
    online = *n;
  else
    ok = false;
  ok = ok && read_text(r, d.reported) && read_text(r, d.desired) && read_text(r, d.name) &&
       read_text(r, d.type);
  if (!ok) return malformed("device answer");
  d.registered = registered != 0;
  d.online = online != 0;
  return std::optional<DeviceView>(std::move(d));
}

std::string encode_device_query(const std::string& id) {
  return FrameWriter().add("device").add(id).finish();
}

std::string encode_result(const RunResult& result) {
  FrameWriter w;
  w.add("result")
      .add(static_cast<uint64_t>(result.outcome))
      .add(result.reply)
      .add(result.error)
      .add(result.instructions)
      .add(result.peak_memory_bytes)
      .add(static_cast<uint64_t>(result.effects.size()));
  for (const auto& e : result.effects)
    w.add(static_cast<uint64_t>(e.kind)).add(e.target).add(e.payload);
  return w.finish();
}

std::string encode_checked(const Status& status) {
  return FrameWriter()
      .add("checked")
      .add(static_cast<uint64_t>(status.code()))
      .add(status.message())
      .finish();
}

Result<Reply> decode_reply(std::string_view body) {
  FrameReader r(body);
  auto kind = r.text();
  if (!kind) return malformed("reply kind");
  Reply reply;
  if (*kind == "device") {
    std::string id;
    if (!read_text(r, id)) return malformed("device query");
    reply.device_query = std::move(id);
    return reply;
  }
  if (*kind == "checked") {
    auto code = r.number();
    std::string message;
    if (!code || *code > static_cast<uint64_t>(Code::kTimeout) || !read_text(r, message))
      return malformed("check result");
    reply.checked = Status(static_cast<Code>(*code), std::move(message));
    return reply;
  }
  if (*kind != "result") return malformed("reply kind");
  RunResult result;
  auto outcome = r.number();
  if (!outcome || *outcome > static_cast<uint64_t>(Outcome::kMemoryExceeded))
    return malformed("outcome");
  result.outcome = static_cast<Outcome>(*outcome);
  auto instructions = uint64_t{0}, peak = uint64_t{0}, count = uint64_t{0};
  bool ok = read_text(r, result.reply) && read_text(r, result.error);
  if (auto n = r.number())
    instructions = *n;
  else
    ok = false;
  if (auto n = r.number())
    peak = *n;
  else
    ok = false;
  if (auto n = r.number())
    count = *n;
  else
    ok = false;
  if (!ok) return malformed("result");
  result.instructions = instructions;
  result.peak_memory_bytes = peak;
  for (uint64_t i = 0; i < count; ++i) {
    Effect e;
    auto k = r.number();
    if (!k || *k > static_cast<uint64_t>(Effect::Kind::kLog) || !read_text(r, e.target) ||
        !read_text(r, e.payload))
      return malformed("effect");
    e.kind = static_cast<Effect::Kind>(*k);
    result.effects.push_back(std::move(e));
  }
  reply.result = std::move(result);
  return reply;
}

}  // namespace gh::actions::wire
