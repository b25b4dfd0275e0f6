#include "actors/system/nats_account_update.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "actors/system/nats_jwt.h"
#include "actors/system/nats_revocations.h"
#include "actors/system/nats_system_user.h"

namespace gh::nats_client {
namespace {

// The resolver's answer to a push: {"data":{"code":200,...}} or {"error":{"description":...}}.
Status push_answer(const std::string& text) {
  auto answer = nlohmann::json::parse(text, nullptr, false);
  if (answer.is_discarded() || !answer.is_object())
    return unavailable("NATS answered the account push with no JSON: " + text.substr(0, 200));
  if (answer.contains("error")) {
    const auto& error = answer["error"];
    return failed_precondition(
        "NATS refused the account JWT: " +
        (error.is_object() ? error.value("description", error.dump()) : error.dump()));
  }
  if (answer.contains("data") && answer["data"].is_object() &&
      answer["data"].value("code", 0) == 200)
    return Status::ok();
  return unavailable("NATS answered the account push with " + text.substr(0, 200));
}

}  // namespace

Result<bool> update_account(NatsConnection& connection, const std::string& account,
                            const nkeys::KeyPair& signing_key,
                            const std::map<std::string, int64_t>& wanted, int64_t now_s,
                            std::chrono::milliseconds timeout) {
  auto current = connection.request(nats_system_user::lookup_subject(account), "", timeout);
  if (!current) return current.status();
  auto claims = nats_jwt::decode(*current);
  if (!claims)
    return unavailable("NATS' resolver has no valid JWT of account " + account + ": " +
                       claims.status().message());
  if (claims->value("sub", "") != account)
    return unavailable("NATS' resolver answered with the JWT of another account");
  if (claims->value("iss", "") != signing_key.public_text())
    return failed_precondition(
        "the account JWT NATS holds is not signed by the operator signing key (pushed by "
        "whoever else holds the system user's credentials?): not building on it");
  auto& nats = (*claims)["nats"];
  const nlohmann::json held = nats.contains("revocations") ? nats["revocations"] : nlohmann::json();
  if (nats_revocations::covers(held, wanted)) return false;
  nats["revocations"] = nats_revocations::merged(held, wanted);
  const int64_t iat = std::max(now_s, claims->value("iat", int64_t{0}) + 1);
  const std::string jwt = nats_jwt::encode(signing_key, std::move(*claims), iat);
  auto answer = connection.request(nats_system_user::kClaimsUpdate, jwt, timeout);
  if (!answer) return answer.status();
  GH_RETURN_IF_ERROR(push_answer(*answer));
  return true;
}

}  // namespace gh::nats_client
