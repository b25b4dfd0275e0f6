#include "server/nats_revocation.h"

#include "actors/system/door_credential_model.h"
#include "actors/system/nats_identities.h"
#include "actors/system/nats_system_user.h"
#include "events/clock.h"
#include "server/secret_file.h"

namespace gh::server {
namespace {

Status option_error(const std::string& option, const Status& status) {
  return Status(status.code(), option + ": " + status.message());
}

}  // namespace

Result<std::unique_ptr<NatsRevocation>> NatsRevocation::open(const Config& config,
                                                             const nkeys::KeyPair& account) {
  std::unique_ptr<NatsRevocation> out(new NatsRevocation(account));
  if (config.cluster_nats_url.empty()) return out;
  auto seed_text = read_secret(config.cluster_nats_operator_signing_seed_file);
  if (!seed_text)
    return option_error("cluster.nats-operator-signing-seed-file", seed_text.status());
  auto seed = nkeys::parse_seed(*seed_text);
  if (!seed || seed->kind != nkeys::Kind::kOperator)
    return invalid_argument("cluster.nats-operator-signing-seed-file: " +
                            config.cluster_nats_operator_signing_seed_file +
                            " does not hold a NATS operator seed (SO...)");
  auto creds_text = read_secret(config.cluster_nats_system_creds_file);
  if (!creds_text) return option_error("cluster.nats-system-creds-file", creds_text.status());
  auto creds = nats_system_user::parse_creds(*creds_text);
  if (!creds) return option_error("cluster.nats-system-creds-file", creds.status());
  auto urls = nats_client::parse_urls(config.cluster_nats_url);
  if (!urls) return option_error("cluster.nats-url", urls.status());
  nats_client::RevocationPushOptions options;
  options.urls = std::move(*urls);
  options.system_user = {creds->jwt, creds->user};
  options.signing_key = std::move(*seed);
  options.account = account.public_text();
  auto* self = out.get();
  options.wanted = [self] {
    std::lock_guard lock(self->mu_);
    return nats_revocations::wanted(self->state_, [self](const std::string& id) {
      auto& user = self->users_[id];
      if (user.empty()) user = nats_identities::door_user_key(self->account_, id).public_text();
      return user;
    });
  };
  options.now_s = [] { return unix_now_ms() / 1000; };
  out->push_ = std::make_unique<nats_client::RevocationPush>(std::move(options));
  return out;
}

Status NatsRevocation::replay(Journal& journal) {
  auto events = journal.read_stream(std::string(door_credentials::kStream), 1);
  if (!events) return events.status();
  std::lock_guard lock(mu_);
  for (const auto& event : *events) nats_revocations::apply(state_, event);
  return Status::ok();
}

void NatsRevocation::apply(const events::Envelope& event) {
  const bool ended =
      event.has_door_credential_revoked() ||
      (event.has_door_credential_issued() && event.door_credential_issued().replaced());
  if (!ended && !event.has_door_credential_issued()) return;
  {
    std::lock_guard lock(mu_);
    nats_revocations::apply(state_, event);
  }
  if (ended && push_) push_->changed();
}

int64_t NatsRevocation::jwt_issued_at(const std::string& device_id, int64_t now_s) const {
  std::lock_guard lock(mu_);
  return nats_revocations::jwt_issued_at(state_, device_id, now_s);
}

void NatsRevocation::start() {
  if (push_) push_->start();
}

std::vector<std::pair<std::string, double>> NatsRevocation::metrics() const {
  if (!push_) return {};
  return push_->metrics();
}

}  // namespace gh::server
