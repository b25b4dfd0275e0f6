// The operators' device event streams (adapters/http/device_event_stream.h): frames for
// statuses and alerts, the stream cap, slow clients, stop, and the tee beside the MQTT
// adapter. No sockets: the route itself is exercised by the browser test.
#include "adapters/http/device_event_stream.h"

#include <gtest/gtest.h>

#include <vector>

namespace gh::http {
namespace {

using namespace std::chrono_literals;

device::State door(const std::string& id) {
  device::State state;
  state.id = id;
  state.registered = true;
  state.online = true;
  return state;
}

std::string take(DeviceStream& stream) {
  std::string out;
  EXPECT_EQ(stream.next(out, 1s), DeviceStream::Next::kFrames);
  return out;
}

TEST(DeviceEventHubTest, StatusesAndAlertsBecomeFramesForEveryStream) {
  DeviceEventHub hub(4, 1 << 16);
  auto a = hub.subscribe("first\n\n");
  auto b = hub.subscribe("");
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_EQ(take(**a), "first\n\n");
  hub.publish_status(door("door1"));
  device::Stranger stranger;
  stranger.picture_id = "0123456789abcdef0123456789abcdef";
  stranger.alert_id = "alert-1";
  stranger.content_type = "image/png";
  stranger.size_bytes = 10;
  hub.stranger_alert("door1", stranger);
  for (auto* stream : {a->get(), b->get()}) {
    const std::string frames = take(*stream);
    EXPECT_NE(frames.find("event: status\ndata: {"), std::string::npos) << frames;
    EXPECT_NE(frames.find("\"id\":\"door1\""), std::string::npos) << frames;
    EXPECT_NE(frames.find("event: stranger\ndata: {"), std::string::npos) << frames;
    EXPECT_NE(frames.find("\"device\":\"door1\""), std::string::npos) << frames;
    EXPECT_NE(frames.find("\"alert_id\":\"alert-1\""), std::string::npos) << frames;
  }
  std::string out;
  EXPECT_EQ((*a)->next(out, 1ms), DeviceStream::Next::kIdle);
  EXPECT_EQ(hub.open_streams(), 2u);
}

TEST(DeviceEventHubTest, RefusesStreamsBeyondTheCapAndAfterStop) {
  DeviceEventHub hub(1, 1 << 16);
  auto a = hub.subscribe("");
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(hub.subscribe("").status().code(), Code::kUnavailable);
  a->reset();  // closing one frees its place
  EXPECT_EQ(hub.open_streams(), 0u);
  auto b = hub.subscribe("");
  ASSERT_TRUE(b.is_ok());
  hub.stop();
  std::string out;
  EXPECT_EQ((*b)->next(out, 1s), DeviceStream::Next::kEnded);
  EXPECT_NE(out.find("\"reason\":\"stopping\""), std::string::npos) << out;
  EXPECT_EQ(hub.subscribe("").status().code(), Code::kUnavailable);
  b->reset();
  EXPECT_TRUE(hub.wait_closed(1s));
}

TEST(DeviceEventHubTest, RefusesStreamsBeyondTheCapPerCaller) {
  DeviceEventHub hub(8, 1 << 16, 2);
  auto a = hub.subscribe("token ops", "");
  auto b = hub.subscribe("token ops", "");
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_EQ(hub.subscribe("token ops", "").status().code(), Code::kFailedPrecondition);
  EXPECT_TRUE(hub.subscribe("user olga", "").is_ok());
  a->reset();
  EXPECT_TRUE(hub.subscribe("token ops", "").is_ok());
}

TEST(DeviceEventHubTest, DropsAClientThatFallsTooFarBehind) {
  DeviceEventHub hub(2, 600);
  auto slow = hub.subscribe("");
  ASSERT_TRUE(slow.is_ok());
  for (int i = 0; i < 10; ++i) hub.publish_status(door("door" + std::to_string(i)));
  std::string out;
  EXPECT_EQ((*slow)->next(out, 1s), DeviceStream::Next::kEnded);
  EXPECT_NE(out.find("\"reason\":\"too_slow\""), std::string::npos) << out;
}

TEST(DeviceEventHubTest, SessionEndEndsTheStreamAfterItsFrames) {
  DeviceEventHub hub(2, 1 << 16);
  auto stream = hub.subscribe("ready\n\n");
  ASSERT_TRUE(stream.is_ok());
  (*stream)->end("session_ended");
  std::string out;
  EXPECT_EQ((*stream)->next(out, 1s), DeviceStream::Next::kEnded);
  EXPECT_EQ(out.rfind("ready\n\n", 0), 0u) << out;
  EXPECT_NE(out.find("\"reason\":\"session_ended\""), std::string::npos) << out;
}

class Recorder : public device::DeviceEffects {
 public:
  void send_command(const std::string& id, events::LockAction, const std::string&) override {
    calls.push_back("command " + id);
  }
  void publish_status(const device::State& state) override {
    calls.push_back("status " + state.id);
  }
  void stranger_alert(const std::string& id, const device::Stranger&) override {
    calls.push_back("alert " + id);
  }
  std::vector<std::string> calls;
};

TEST(DeviceEffectsTeeTest, ForwardsToBothUntilTheSecondIsCleared) {
  Recorder mqtt, web;
  DeviceEffectsTee tee(&mqtt);
  tee.publish_status(door("d1"));  // no second yet
  tee.set_second(&web);
  tee.send_command("d1", events::LockAction{}, "c1");
  tee.stranger_alert("d1", device::Stranger{});
  tee.set_second(nullptr);
  tee.publish_status(door("d2"));
  EXPECT_EQ(mqtt.calls,
            (std::vector<std::string>{"status d1", "command d1", "alert d1", "status d2"}));
  EXPECT_EQ(web.calls, (std::vector<std::string>{"command d1", "alert d1"}));
}

}  // namespace
}  // namespace gh::http
