// An operator's NATS setup for cluster mode on NATS (docs/cluster.md, "Device identity on
// NATS"): NATS' decentralised authentication ("operator mode") with three keys,
// - the operator, which signs the accounts (its seed is needed again only to change them),
// - gatehouse's account, whose seed gatehouse holds (cluster.nats-account-seed-file) to sign
//   the users of doors and nodes; its JWT carries the session groups' subject mappings,
// - the system account NATS requires;
// and the part of nats-server's configuration that trusts them (a MEMORY resolver preloaded
// with both accounts' JWTs). gatehousectl nats-auth writes them (tools/ctl/nats_auth_admin.h).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "actors/system/nats_nkey.h"

namespace gh::nats_setup {

struct Keys {
  nkeys::KeyPair operator_key{nkeys::Kind::kOperator, {}, {}};
  nkeys::KeyPair account{nkeys::Kind::kAccount, {}, {}};
  nkeys::KeyPair system_account{nkeys::Kind::kAccount, {}, {}};
};

// Fresh keys from libsodium's CSPRNG.
Keys new_keys();

std::string operator_jwt(const Keys& keys, int64_t now_s);
std::string system_account_jwt(const Keys& keys, int64_t now_s);
// gatehouse's account with the subject mappings of every prefix in `prefixes` to
// `groups` session groups, and `revocations` (user public key -> Unix seconds).
std::string account_jwt(const Keys& keys, const std::vector<std::string>& prefixes, uint32_t groups,
                        const std::map<std::string, int64_t>& revocations, int64_t now_s);

// nats-server configuration lines (to include in each node's file) trusting the operator
// JWT at `operator_jwt_path`, with both accounts preloaded.
std::string server_config(const Keys& keys, const std::string& operator_jwt_path,
                          const std::string& account_jwt, const std::string& system_jwt);

}  // namespace gh::nats_setup
