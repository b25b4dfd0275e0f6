// The CredentialRegistry against a real RocksDB journal in a temporary directory: writes are
// durable before they are visible or reported, refusals write nothing, a reopen replays the
// same tables, and the asynchronous issue answers on the registry's worker.
#include "actors/system/credential_registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "actors/system/secret.h"
#include "tests/events/temp_store.h"

namespace gh::credentials {
namespace {

using testing::TempStore;

events::Cause api_token(const std::string& name) {
  events::Cause cause;
  cause.set_kind(events::Cause::API_TOKEN);
  cause.set_name(name);
  cause.set_channel("http");
  return cause;
}

// Records every call; checks that the change is in the journal when it is reported.
class RecordingListener : public CredentialListener {
 public:
  explicit RecordingListener(const Journal& journal) : journal_(journal) {}
  void on_door_credential(const std::string& id,
                          const std::optional<std::string>& sha256) override {
    record("door " + id, sha256, door_credentials::kStream);
  }
  void on_provisioning_key(const std::string& name,
                           const std::optional<std::string>& sha256) override {
    record("key " + name, sha256, provisioning_keys::kStream);
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  std::atomic<int> not_durable{0};

 private:
  void record(const std::string& what, const std::optional<std::string>& sha256,
              std::string_view stream) {
    // Durable before reported: the log already holds as many events as calls so far + 1.
    std::lock_guard lock(mu_);
    size_t in_stream = 0;
    for (const auto& [name, _] : calls_)
      if (name.starts_with(stream == door_credentials::kStream ? "door " : "key ")) ++in_stream;
    auto version = journal_.stream_version(std::string(stream));
    if (!version.is_ok() || *version < in_stream + 1) not_durable.fetch_add(1);
    calls_.emplace_back(what, sha256);
  }
  const Journal& journal_;
  std::mutex mu_;
  std::vector<std::pair<std::string, std::optional<std::string>>> calls_;
};

class CredentialRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void open(CredentialRegistryOptions options = {}) {
    auto opened = CredentialRegistry::open(store_.journal(), options);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    registry_ = std::move(*opened);
  }
  TempStore store_;
  std::unique_ptr<CredentialRegistry> registry_;
};

TEST_F(CredentialRegistryTest, IssueRotateAndRevokeADoor) {
  RecordingListener listener(store_.journal());
  registry_->add_listener(&listener);

  auto secret = registry_->issue_door("door1", api_token("ops"));
  ASSERT_TRUE(secret.is_ok()) << secret.status().to_string();
  EXPECT_TRUE(secrets::is_secret_hex(*secret)) << *secret;
  EXPECT_TRUE(registry_->has_door("door1"));
  EXPECT_TRUE(registry_->door_secret_valid("door1", *secret));
  EXPECT_FALSE(registry_->door_secret_valid("door2", *secret));
  auto doors = registry_->doors();
  ASSERT_EQ(doors.size(), 1u);
  EXPECT_EQ(doors[0].first, "door1");
  EXPECT_EQ(doors[0].second, secrets::sha256_of(*secret));
  auto info = registry_->door("door1");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->issued_by.name(), "ops");
  EXPECT_GT(info->issued_at_ms, 0);
  EXPECT_EQ(info->version, 1u);

  // The log holds the hash, never the secret.
  auto events = store_.journal().read_stream(std::string(door_credentials::kStream), 1);
  ASSERT_TRUE(events.is_ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].door_credential_issued().secret_sha256(), secrets::sha256_of(*secret));
  EXPECT_EQ((*events)[0].SerializeAsString().find(*secret), std::string::npos);

  auto rotated = registry_->issue_door("door1", api_token("ops"));
  ASSERT_TRUE(rotated.is_ok());
  EXPECT_NE(*rotated, *secret);
  EXPECT_FALSE(registry_->door_secret_valid("door1", *secret));
  EXPECT_TRUE(registry_->door_secret_valid("door1", *rotated));
  EXPECT_EQ(registry_->door("door1")->version, 2u);

  EXPECT_EQ(registry_->issue_door("door1", api_token("ops"), door_credentials::Issue::kNewOnly)
                .status()
                .code(),
            Code::kAlreadyExists);

  ASSERT_TRUE(registry_->revoke_door("door1", api_token("ops")).is_ok());
  EXPECT_FALSE(registry_->has_door("door1"));
  EXPECT_FALSE(registry_->door("door1"));
  EXPECT_FALSE(registry_->door_secret_valid("door1", *rotated));

  auto calls = listener.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].first, "door door1");
  EXPECT_EQ(calls[0].second, secrets::sha256_of(*secret));
  EXPECT_EQ(calls[1].second, secrets::sha256_of(*rotated));
  EXPECT_EQ(calls[2].second, std::nullopt);
  EXPECT_EQ(listener.not_durable.load(), 0);
}

TEST_F(CredentialRegistryTest, RefusalsWriteNothingAndTellNoOne) {
  RecordingListener listener(store_.journal());
  registry_->add_listener(&listener);
  const auto before = store_.journal().last_position();
  EXPECT_EQ(registry_->revoke_door("door1", api_token("ops")).code(), Code::kNotFound);
  EXPECT_EQ(registry_->issue_door("bad id", api_token("ops")).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(registry_->create_provisioning_key("bad/name", api_token("ops")).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(registry_->revoke_provisioning_key("nope", api_token("ops")).code(), Code::kNotFound);
  EXPECT_EQ(store_.journal().last_position(), before);
  EXPECT_TRUE(listener.calls().empty());
}

TEST_F(CredentialRegistryTest, ProvisioningKeys) {
  RecordingListener listener(store_.journal());
  registry_->add_listener(&listener);
  auto text = registry_->create_provisioning_key("factory.1", api_token("ops"));
  ASSERT_TRUE(text.is_ok()) << text.status().to_string();
  auto parsed = provisioning_keys::parse_provisioning_secret(*text);
  ASSERT_TRUE(parsed.is_ok()) << *text;
  EXPECT_EQ(parsed->name, "factory.1");
  EXPECT_TRUE(registry_->has_provisioning_key("factory.1"));
  EXPECT_TRUE(registry_->provisioning_key_valid("factory.1", parsed->secret));
  EXPECT_FALSE(registry_->provisioning_key_valid("factory.1", *text));  // the whole text is not
  EXPECT_FALSE(registry_->provisioning_key_valid("factory.2", parsed->secret));
  auto keys = registry_->provisioning_keys();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].second, secrets::sha256_of(parsed->secret));
  auto list = registry_->provisioning_key_list();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].name, "factory.1");
  EXPECT_EQ(list[0].created_by.name(), "ops");
  EXPECT_EQ(registry_->create_provisioning_key("factory.1", api_token("ops")).status().code(),
            Code::kAlreadyExists);

  ASSERT_TRUE(registry_->revoke_provisioning_key("factory.1", api_token("ops")).is_ok());
  EXPECT_FALSE(registry_->has_provisioning_key("factory.1"));
  EXPECT_FALSE(registry_->provisioning_key_valid("factory.1", parsed->secret));
  auto calls = listener.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].first, "key factory.1");
  EXPECT_EQ(calls[0].second, secrets::sha256_of(parsed->secret));
  EXPECT_EQ(calls[1].second, std::nullopt);
  EXPECT_EQ(listener.not_durable.load(), 0);
}

TEST_F(CredentialRegistryTest, AReopenReplaysTheSameTables) {
  auto door1 = registry_->issue_door("door1", api_token("ops"));
  auto door2 = registry_->issue_door("door2", api_token("ops"));
  ASSERT_TRUE(door1.is_ok() && door2.is_ok());
  ASSERT_TRUE(registry_->revoke_door("door2", api_token("ops")).is_ok());
  auto key = registry_->create_provisioning_key("k", api_token("ops"));
  ASSERT_TRUE(key.is_ok());
  const auto doors = registry_->doors();
  const auto keys = registry_->provisioning_keys();
  registry_.reset();
  store_.reopen();
  open();
  EXPECT_EQ(registry_->doors(), doors);
  EXPECT_EQ(registry_->provisioning_keys(), keys);
  EXPECT_TRUE(registry_->door_secret_valid("door1", *door1));
  EXPECT_FALSE(registry_->has_door("door2"));
  // And it goes on from the replayed versions.
  EXPECT_TRUE(registry_->issue_door("door2", api_token("ops")).is_ok());
  EXPECT_EQ(registry_->door("door2")->version, 4u);
}

TEST_F(CredentialRegistryTest, AFailedAppendChangesNothing) {
  auto secret = registry_->issue_door("door1", api_token("ops"));
  ASSERT_TRUE(secret.is_ok());
  registry_.reset();
  store_.reopen(OpenMode::kReadOnly);  // every append now fails
  open();
  RecordingListener listener(store_.journal());
  registry_->add_listener(&listener);
  EXPECT_FALSE(registry_->issue_door("door1", api_token("ops")).is_ok());
  EXPECT_FALSE(registry_->revoke_door("door1", api_token("ops")).is_ok());
  EXPECT_FALSE(registry_->create_provisioning_key("k", api_token("ops")).is_ok());
  EXPECT_TRUE(registry_->door_secret_valid("door1", *secret));
  EXPECT_FALSE(registry_->has_provisioning_key("k"));
  EXPECT_TRUE(listener.calls().empty());
}

TEST_F(CredentialRegistryTest, ConcurrentWritersEachGetTheirOwnDoor) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i)
        if (registry_
                ->issue_door("door-" + std::to_string(t) + "-" + std::to_string(i),
                             api_token("ops"))
                .is_ok())
          ok.fetch_add(1);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 40);
  EXPECT_EQ(registry_->doors().size(), 40u);
  EXPECT_EQ(*store_.journal().stream_version(std::string(door_credentials::kStream)), 40u);
}

TEST_F(CredentialRegistryTest, AsyncIssueAnswersOnTheWorker) {
  std::promise<Result<std::string>> answered;
  std::promise<std::thread::id> on;
  registry_->issue_door_async("door1", api_token("ops"), door_credentials::Issue::kNewOnly,
                              [&](Result<std::string> r) {
                                on.set_value(std::this_thread::get_id());
                                answered.set_value(std::move(r));
                              });
  auto result = answered.get_future().get();
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  EXPECT_NE(on.get_future().get(), std::this_thread::get_id());
  EXPECT_TRUE(registry_->door_secret_valid("door1", *result));

  std::promise<Result<std::string>> refused;
  registry_->issue_door_async("door1", api_token("ops"), door_credentials::Issue::kNewOnly,
                              [&](Result<std::string> r) { refused.set_value(std::move(r)); });
  EXPECT_EQ(refused.get_future().get().status().code(), Code::kAlreadyExists);
  EXPECT_TRUE(registry_->door_secret_valid("door1", *result));
}

// Holds the worker inside its first listener call until released.
class GateListener : public CredentialListener {
 public:
  void on_door_credential(const std::string&, const std::optional<std::string>&) override {
    std::unique_lock lock(mu);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
  }
  void on_provisioning_key(const std::string&, const std::optional<std::string>&) override {}
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, open = false;
};

TEST_F(CredentialRegistryTest, AFullQueueIsRefusedAtOnceAndQueuedCallsFinishOnShutdown) {
  registry_.reset();
  open(CredentialRegistryOptions{.max_queue = 1});
  GateListener gate;
  registry_->add_listener(&gate);
  std::mutex mu;
  std::vector<Code> codes;
  auto record = [&](Result<std::string> r) {
    std::lock_guard lock(mu);
    codes.push_back(r.is_ok() ? Code::kOk : r.status().code());
  };
  const auto mode = door_credentials::Issue::kNewOnly;
  registry_->issue_door_async("door1", api_token("ops"), mode, record);  // runs, held
  {
    std::unique_lock lock(gate.mu);
    ASSERT_TRUE(gate.cv.wait_for(lock, std::chrono::seconds(60), [&] { return gate.entered; }));
  }
  registry_->issue_door_async("door2", api_token("ops"), mode, record);  // queued
  registry_->issue_door_async("door3", api_token("ops"), mode, record);  // refused at once
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(codes.size(), 1u);
    EXPECT_EQ(codes[0], Code::kUnavailable);
  }
  {
    std::lock_guard lock(gate.mu);
    gate.open = true;
  }
  gate.cv.notify_all();
  registry_.reset();  // answers the queued call before joining
  ASSERT_EQ(codes.size(), 3u);
  EXPECT_EQ(codes[1], Code::kOk);
  EXPECT_EQ(codes[2], Code::kOk);
}

}  // namespace
}  // namespace gh::credentials

namespace gh::credentials {
namespace {

// Two registries on one journal stand for two nodes of a cluster writing the same streams
// (docs/cluster.md, "The system streams"): a write decided on a stale state is decided again
// on the log's, never written over the other's; follow() brings the other's writes in once.
TEST_F(CredentialRegistryTest, AWriteOnAStaleStateIsDecidedAgainAndFollowBringsTheOthersIn) {
  auto other = CredentialRegistry::open(store_.journal());
  ASSERT_TRUE(other.is_ok()) << other.status().to_string();
  RecordingListener listener(store_.journal());
  registry_->add_listener(&listener);

  auto d1 = (*other)->issue_door("d1", api_token("ops"));  // the other node writes first
  ASSERT_TRUE(d1.is_ok()) << d1.status().to_string();
  EXPECT_FALSE(registry_->has_door("d1")) << "not followed yet";
  // This registry still holds version 0: its append conflicts, it reads the stream again
  // and decides again on it, so d1's credential is kept and d2's appended after it.
  auto d2 = registry_->issue_door("d2", api_token("ops"));
  ASSERT_TRUE(d2.is_ok()) << d2.status().to_string();
  auto log = store_.journal().read_stream(std::string(door_credentials::kStream), 1);
  ASSERT_TRUE(log.is_ok());
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ(log->at(0).door_credential_issued().device_id(), "d1");
  EXPECT_EQ(log->at(1).door_credential_issued().device_id(), "d2");
  EXPECT_TRUE(registry_->door_secret_valid("d1", *d1));
  // Decided again, a "new only" issue for a door the other node provisioned is refused.
  auto again = registry_->issue_door("d1", api_token("ops"), door_credentials::Issue::kNewOnly);
  EXPECT_EQ(again.status().code(), Code::kAlreadyExists) << again.status().to_string();

  // The other follows the log: d2 once, however often it is handed over, in order.
  EXPECT_FALSE((*other)->has_door("d2"));
  for (const auto& e : *log) (*other)->follow(e);
  for (const auto& e : *log) (*other)->follow(e);
  EXPECT_TRUE((*other)->door_secret_valid("d2", *d2));
  EXPECT_EQ((*other)->door("d2")->version, 2u);
  // This registry's listener heard of d1 (brought in after the conflict) and d2, once each;
  // following what it holds already tells it nothing more.
  for (const auto& e : *log) registry_->follow(e);
  auto calls = listener.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].first, "door d1");
  EXPECT_EQ(calls[1].first, "door d2");
  EXPECT_EQ(listener.not_durable.load(), 0);
}

}  // namespace
}  // namespace gh::credentials
