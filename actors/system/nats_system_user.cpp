#include "actors/system/nats_system_user.h"

#include <nlohmann/json.hpp>

#include "actors/system/nats_jwt.h"

namespace gh::nats_system_user {
namespace {

constexpr std::string_view kJwtBegin = "-----BEGIN NATS USER JWT-----";
constexpr std::string_view kJwtEnd = "------END NATS USER JWT------";
constexpr std::string_view kSeedBegin = "-----BEGIN USER NKEY SEED-----";
constexpr std::string_view kSeedEnd = "------END USER NKEY SEED------";

// The text between `begin` and `end`, spaces and line ends trimmed; empty when absent.
std::string block(std::string_view text, std::string_view begin, std::string_view end) {
  const auto from = text.find(begin);
  if (from == std::string_view::npos) return {};
  const auto start = from + begin.size();
  const auto to = text.find(end, start);
  if (to == std::string_view::npos) return {};
  std::string out;
  for (char ch : text.substr(start, to - start))
    if (ch != '\n' && ch != '\r' && ch != ' ' && ch != '\t') out.push_back(ch);
  return out;
}

}  // namespace

std::string lookup_subject(const std::string& account) {
  return "$SYS.REQ.ACCOUNT." + account + ".CLAIMS.LOOKUP";
}

std::string user_jwt(const nkeys::KeyPair& system_account, const nkeys::KeyPair& user,
                     int64_t now_s) {
  nlohmann::json nats = {{"type", "user"},
                         {"version", 2},
                         {"allowed_connection_types", {"STANDARD"}},
                         {"pub", {{"allow", {kClaimsUpdate, "$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP"}}}},
                         {"sub", {{"allow", {"_INBOX.>"}}}},
                         {"subs", -1},
                         {"data", -1},
                         {"payload", -1}};
  nlohmann::json claims = {
      {"sub", user.public_text()}, {"name", "gatehouse revocations"}, {"nats", std::move(nats)}};
  return nats_jwt::encode(system_account, std::move(claims), now_s);
}

std::string creds_text(const std::string& jwt, const nkeys::KeyPair& user) {
  return std::string(kJwtBegin) + "\n" + jwt + "\n" + std::string(kJwtEnd) +
         "\n\n************************* IMPORTANT *************************\n"
         "NKEY Seed printed below can be used to sign and prove identity.\n"
         "NKEYs are sensitive and should be treated as secrets.\n\n" +
         std::string(kSeedBegin) + "\n" + user.seed_text() + "\n" + std::string(kSeedEnd) + "\n";
}

Result<Credentials> parse_creds(std::string_view text) {
  const std::string jwt = block(text, kJwtBegin, kJwtEnd);
  const std::string seed = block(text, kSeedBegin, kSeedEnd);
  if (jwt.empty()) return invalid_argument("no NATS USER JWT block in the credentials");
  if (seed.empty()) return invalid_argument("no USER NKEY SEED block in the credentials");
  auto user = nkeys::parse_seed(seed);
  if (!user) return user.status();
  if (user->kind != nkeys::Kind::kUser)
    return invalid_argument("the credentials' seed is not a user's (SU...)");
  auto claims = nats_jwt::decode(jwt);
  if (!claims) return claims.status();
  if (claims->value("sub", "") != user->public_text())
    return invalid_argument("the credentials' JWT is not of the user of their seed");
  return Credentials{jwt, std::move(*user)};
}

}  // namespace gh::nats_system_user
