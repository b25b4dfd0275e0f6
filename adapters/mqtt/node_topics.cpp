#include "adapters/mqtt/node_topics.h"

namespace gh::mqtt_adapter {

std::string node_chat_filter(std::string_view prefix, std::string_view node) {
  return node_chat_topic(prefix, node, "+");
}

std::string node_chat_topic(std::string_view prefix, std::string_view node, std::string_view op) {
  return std::string(prefix) + "/nodes/" + std::string(node) + "/chat/" + std::string(op);
}

std::optional<std::string> chat_topic_of_node_topic(std::string_view prefix,
                                                    std::string_view topic) {
  const std::string head = std::string(prefix) + "/nodes/";
  if (!topic.starts_with(head)) return std::nullopt;
  topic.remove_prefix(head.size());
  const auto slash = topic.find('/');
  if (slash == 0 || slash == std::string_view::npos) return std::nullopt;
  topic.remove_prefix(slash + 1);
  if (!topic.starts_with("chat/")) return std::nullopt;
  topic.remove_prefix(5);
  if (topic.empty() || topic.find('/') != std::string_view::npos) return std::nullopt;
  return std::string(prefix) + "/chat/" + std::string(topic);
}

}  // namespace gh::mqtt_adapter
