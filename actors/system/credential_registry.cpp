#include "actors/system/credential_registry.h"

#include "actors/system/secret.h"
#include "events/system_writer.h"

namespace gh::credentials {

Result<std::unique_ptr<CredentialRegistry>> CredentialRegistry::open(
    Journal& journal, CredentialRegistryOptions options) {
  auto doors = journal.read_stream(std::string(door_credentials::kStream), 1);
  if (!doors) return doors.status();
  auto keys = journal.read_stream(std::string(provisioning_keys::kStream), 1);
  if (!keys) return keys.status();
  std::unique_ptr<CredentialRegistry> registry(new CredentialRegistry(journal, options));
  registry->doors_ = door_credentials::replay(*doors);
  registry->keys_ = provisioning_keys::replay(*keys);
  return registry;
}

CredentialRegistry::CredentialRegistry(Journal& journal, CredentialRegistryOptions options)
    : journal_(journal), options_(options), worker_([this] { work(); }) {}

CredentialRegistry::~CredentialRegistry() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

void CredentialRegistry::add_listener(CredentialListener* listener) {
  std::lock_guard lock(write_mu_);
  listeners_.push_back(listener);
}

void CredentialRegistry::work() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(queue_mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained: every queued call was answered
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

Result<Envelope> CredentialRegistry::append(std::string_view stream, uint64_t expected,
                                            Envelope event, const events::Cause& cause) {
  std::vector<Envelope> events;
  events.push_back(std::move(event));
  auto result = write_and_wait(journal_, stream, expected, cause, std::move(events));
  if (!result) return result.status();
  if (result->events.size() != 1) return internal_error("the journal wrote no event");
  return std::move(result->events.front());
}

void CredentialRegistry::reload(std::string_view stream) {
  auto events = journal_.read_stream(std::string(stream), 1);
  if (!events) return;  // keep what we had; the next append's version check protects the log
  std::unique_lock lock(state_mu_);
  if (stream == door_credentials::kStream)
    doors_ = door_credentials::replay(*events);
  else
    keys_ = provisioning_keys::replay(*events);
}

uint64_t CredentialRegistry::version_of(std::string_view stream) const {
  std::shared_lock lock(state_mu_);
  return stream == door_credentials::kStream ? doors_.version : keys_.version;
}

bool CredentialRegistry::advance(const Envelope& e) {
  {
    std::unique_lock lock(state_mu_);
    const bool doors = e.stream() == door_credentials::kStream;
    const uint64_t version = doors ? doors_.version : keys_.version;
    if (e.version() != version + 1) return false;
    if (doors)
      door_credentials::apply(doors_, e);
    else
      provisioning_keys::apply(keys_, e);
  }
  for (auto* listener : listeners_) {
    if (e.has_door_credential_issued())
      listener->on_door_credential(e.door_credential_issued().device_id(),
                                   e.door_credential_issued().secret_sha256());
    if (e.has_door_credential_revoked())
      listener->on_door_credential(e.door_credential_revoked().device_id(), std::nullopt);
    if (e.has_provisioning_key_created())
      listener->on_provisioning_key(e.provisioning_key_created().name(),
                                    e.provisioning_key_created().secret_sha256());
    if (e.has_provisioning_key_revoked())
      listener->on_provisioning_key(e.provisioning_key_revoked().name(), std::nullopt);
  }
  return true;
}

Result<Envelope> CredentialRegistry::decide_and_append(
    std::string_view stream, const std::function<Result<Envelope>()>& decide,
    const events::Cause& cause) {
  for (int attempt = 1;; ++attempt) {
    // Decided on the state as it is now (only writers holding write_mu_ change it).
    const uint64_t expected = version_of(stream);
    auto event = decide();
    if (!event) return event.status();
    auto written = append(stream, expected, std::move(*event), cause);
    if (written) {
      (void)advance(*written);
      return written;
    }
    if (written.status().code() != Code::kConflict) {
      reload(stream);  // the outcome may be unknown: the log is the truth
      return written;
    }
    // Another node wrote the stream since this one read it: bring its events in, then
    // decide again on what the stream holds now.
    if (!catch_up(stream) || attempt == kAttempts) return written;
  }
}

bool CredentialRegistry::catch_up(std::string_view stream) {
  auto missing = journal_.read_stream(std::string(stream), version_of(stream) + 1);
  if (!missing) return false;
  for (const auto& m : *missing) {
    if (!advance(m)) {
      reload(stream);  // not the next version: the log is the truth
      return true;
    }
  }
  return true;
}

void CredentialRegistry::follow(const Envelope& e) {
  if (e.stream() != door_credentials::kStream && e.stream() != provisioning_keys::kStream) return;
  std::lock_guard write(write_mu_);
  if (e.version() <= version_of(e.stream()) || advance(e)) return;
  (void)catch_up(e.stream());  // versions in between are missing here: read them first
}

Result<std::string> CredentialRegistry::issue_door(const std::string& device_id,
                                                   const events::Cause& cause,
                                                   door_credentials::Issue mode) {
  std::lock_guard write(write_mu_);
  auto secret = secrets::new_secret();
  // Only writers holding write_mu_ change doors_: reading it unlocked is safe.
  auto written = decide_and_append(
      door_credentials::kStream,
      [&] { return door_credentials::issue(doors_, device_id, secret.sha256, mode); }, cause);
  if (!written) return written.status();
  return std::move(secret.hex);
}

Status CredentialRegistry::revoke_door(const std::string& device_id, const events::Cause& cause) {
  std::lock_guard write(write_mu_);
  auto written = decide_and_append(
      door_credentials::kStream, [&] { return door_credentials::revoke(doors_, device_id); },
      cause);
  return written.is_ok() ? Status::ok() : written.status();
}

Result<std::string> CredentialRegistry::create_provisioning_key(const std::string& name,
                                                                const events::Cause& cause) {
  std::lock_guard write(write_mu_);
  auto secret = secrets::new_secret();
  auto written = decide_and_append(
      provisioning_keys::kStream,
      [&] { return provisioning_keys::create(keys_, name, secret.sha256); }, cause);
  if (!written) return written.status();
  return provisioning_keys::provisioning_secret_text(name, secret.hex);
}

Status CredentialRegistry::revoke_provisioning_key(const std::string& name,
                                                   const events::Cause& cause) {
  std::lock_guard write(write_mu_);
  auto written = decide_and_append(
      provisioning_keys::kStream, [&] { return provisioning_keys::revoke(keys_, name); }, cause);
  return written.is_ok() ? Status::ok() : written.status();
}

void CredentialRegistry::issue_door_async(const std::string& device_id, const events::Cause& cause,
                                          door_credentials::Issue mode, SecretCallback done) {
  {
    std::lock_guard lock(queue_mu_);
    if (!stopping_ && queue_.size() < options_.max_queue) {
      queue_.push_back(
          [this, device_id, cause, mode, done] { done(issue_door(device_id, cause, mode)); });
      wake_.notify_one();
      return;
    }
  }
  done(unavailable("the credential registry is busy; try again"));
}

std::vector<std::pair<std::string, std::string>> CredentialRegistry::doors() const {
  std::shared_lock lock(state_mu_);
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(doors_.doors.size());
  for (const auto& [id, credential] : doors_.doors) out.emplace_back(id, credential.sha256);
  return out;
}

std::vector<std::pair<std::string, std::string>> CredentialRegistry::provisioning_keys() const {
  std::shared_lock lock(state_mu_);
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(keys_.active.size());
  for (const auto& [name, key] : keys_.active) out.emplace_back(name, key.sha256);
  return out;
}

bool CredentialRegistry::has_door(const std::string& device_id) const {
  std::shared_lock lock(state_mu_);
  return doors_.doors.count(device_id) > 0;
}

std::optional<DoorCredentialInfo> CredentialRegistry::door(const std::string& device_id) const {
  std::shared_lock lock(state_mu_);
  auto it = doors_.doors.find(device_id);
  if (it == doors_.doors.end()) return std::nullopt;
  return DoorCredentialInfo{it->second.issued_at_ms, it->second.issued_by, it->second.version};
}

std::vector<std::pair<std::string, DoorCredentialInfo>> CredentialRegistry::door_list() const {
  std::shared_lock lock(state_mu_);
  std::vector<std::pair<std::string, DoorCredentialInfo>> out;
  out.reserve(doors_.doors.size());
  for (const auto& [id, c] : doors_.doors)
    out.emplace_back(id, DoorCredentialInfo{c.issued_at_ms, c.issued_by, c.version});
  return out;
}

bool CredentialRegistry::door_secret_valid(const std::string& device_id,
                                           const std::string& secret) const {
  const std::string hash = secrets::sha256_of(secret);  // outside the lock: it costs the most
  std::shared_lock lock(state_mu_);
  return door_credentials::matches(doors_, device_id, hash);
}

bool CredentialRegistry::has_provisioning_key(const std::string& name) const {
  std::shared_lock lock(state_mu_);
  return keys_.active.count(name) > 0;
}

std::vector<ProvisioningKeyInfo> CredentialRegistry::provisioning_key_list() const {
  std::shared_lock lock(state_mu_);
  std::vector<ProvisioningKeyInfo> out;
  out.reserve(keys_.active.size());
  for (const auto& [name, key] : keys_.active)
    out.push_back(ProvisioningKeyInfo{name, key.created_at_ms, key.created_by});
  return out;
}

bool CredentialRegistry::provisioning_key_valid(const std::string& name,
                                                const std::string& secret) const {
  const std::string hash = secrets::sha256_of(secret);
  std::shared_lock lock(state_mu_);
  return provisioning_keys::matches(keys_, name, hash);
}

}  // namespace gh::credentials
