// Fuzz target: MQTT topic parsing and the checks of reply topics a requester names
// (adapters/mqtt/topic_filter.h, reply_topic.h) and of ids and stream names
// (events/stream_name.h). Input: topic \0 filter \0 prefix.
// Promises: never a crash; a reply topic that passes has no wildcard, no '$' start, no NUL
// and no empty level; a reply_to that passes is under PREFIX/inbox/; a topic matches itself.
#include "adapters/mqtt/reply_topic.h"
#include "adapters/mqtt/topic_filter.h"
#include "events/stream_name.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using gh::Code;
  namespace m = gh::mqtt_adapter;
  const auto f = gh::fuzz::fields(gh::fuzz::as_text(data, size), 3);
  const auto topic = f[0], filter = f[1], prefix = f[2];

  (void)m::topic_matches(filter, topic);
  const auto levels = m::topic_levels(topic);
  std::string joined;
  for (size_t i = 0; i < levels.size(); ++i) joined += (i ? "/" : "") + std::string(levels[i]);
  gh::fuzz::require(joined == topic, "topic_levels joined is the topic");

  auto reply = m::check_reply_topic(topic);
  gh::fuzz::require_code(reply, {Code::kInvalidArgument}, "check_reply_topic");
  if (reply.is_ok()) {
    gh::fuzz::require(!topic.empty() && topic.size() <= m::kMaxReplyTopicBytes, "reply length");
    gh::fuzz::require(topic.find_first_of(std::string_view("+#\0", 3)) == std::string_view::npos,
                      "no wildcard or NUL in a reply topic");
    gh::fuzz::require(topic[0] != '$', "no $-topic as reply topic");
    gh::fuzz::require(
        topic.find("//") == std::string_view::npos && topic.front() != '/' && topic.back() != '/',
        "no empty level in a reply topic");
    gh::fuzz::require(m::topic_matches(topic, topic), "a valid topic matches itself");
  }

  auto reply_to = m::validate_reply_to(topic, prefix);
  gh::fuzz::require_code(reply_to, {Code::kInvalidArgument}, "validate_reply_to");
  if (reply_to.is_ok()) {
    const std::string inbox = std::string(prefix) + "/inbox/";
    gh::fuzz::require(topic.substr(0, inbox.size()) == inbox, "reply_to is under PREFIX/inbox/");
  }
  const auto error_topic = m::inbox_error_topic(topic, prefix);
  if (!error_topic.empty())
    gh::fuzz::require(m::check_reply_topic(error_topic).is_ok(), "inbox error topic is valid");

  auto ret = m::validate_return_topic(topic, prefix, {std::string(filter)});
  gh::fuzz::require_code(ret, {Code::kInvalidArgument}, "validate_return_topic");
  if (ret.is_ok()) gh::fuzz::require(topic != filter, "a return topic is never a reserved one");

  const bool valid_id = gh::is_valid_id(topic);
  gh::fuzz::require(valid_id == gh::validate_id(topic, "id").is_ok(), "is_valid_id agrees");
  if (gh::is_valid_stream(topic))
    gh::fuzz::require(topic.find('\0') == std::string_view::npos, "no NUL in a stream name");
  return 0;
}
