// Cluster mode on NATS (docs/cluster.md, "Chat requests on NATS"): the topics on which one
// gatehouse node hands an MQTT request to another, PREFIX/nodes/{node}/chat/{op}. Only the
// nodes' NATS users may publish or read there (doors' and chat users' JWTs allow neither);
// each node's own connection subscribes its own filter.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gh::mqtt_adapter {

// PREFIX/nodes/{node}/chat/+: what `node` subscribes.
std::string node_chat_filter(std::string_view prefix, std::string_view node);
// PREFIX/nodes/{node}/chat/{op}: where a chat request for `node` is handed on.
std::string node_chat_topic(std::string_view prefix, std::string_view node, std::string_view op);
// PREFIX/chat/{op} for a topic of node_chat_topic() (any node); nullopt for any other topic.
std::optional<std::string> chat_topic_of_node_topic(std::string_view prefix,
                                                    std::string_view topic);

}  // namespace gh::mqtt_adapter
