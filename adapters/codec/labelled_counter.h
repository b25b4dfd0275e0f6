// One counter per value of an enum, printed as one labelled series per value on /metrics
// (gatehouse_mqtt_rejected_total{reason="too_large"}): what every adapter counts its
// messages, refusals and drops with. Thread-safe (relaxed atomics): counted on paho's,
// actor and HTTP threads, read by GET /metrics while messages flow.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gh::codec {

// (name with its labels, value) pairs, as MetricsSources::extra prints them.
using MetricSeries = std::vector<std::pair<std::string, double>>;

inline void add_series(MetricSeries& out, std::string name, uint64_t value) {
  out.emplace_back(std::move(name), static_cast<double>(value));
}

// `Key` is an enum class whose values are 0..N-1 (by default N is Key::kCount).
template <class Key, size_t N = static_cast<size_t>(Key::kCount)>
class LabelledCounter {
 public:
  using Namer = std::string_view (*)(Key);

  void count(Key key, uint64_t n = 1) {
    counts_[index(key)].fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t get(Key key) const { return counts_[index(key)].load(std::memory_order_relaxed); }

  // Appends METRIC{LABEL="name(key)"} for every key in order, zeros included, so a series
  // exists before its first count.
  void append_to(MetricSeries& out, std::string_view metric, std::string_view label,
                 Namer name) const {
    for (size_t i = 0; i < N; ++i) {
      add_series(out,
                 std::string(metric) + "{" + std::string(label) + "=\"" +
                     std::string(name(static_cast<Key>(i))) + "\"}",
                 counts_[i].load(std::memory_order_relaxed));
    }
  }

 private:
  static size_t index(Key key) {
    const auto i = static_cast<size_t>(key);
    return i < N ? i : N - 1;  // out of range: the last value, by convention kOther/unknown
  }
  std::array<std::atomic<uint64_t>, N> counts_{};
};

}  // namespace gh::codec
