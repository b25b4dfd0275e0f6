// gatehousectl device add/rotate/revoke/remove/credentials and provisioning-key create/revoke/list:
// the doors' broker credentials ("system/door-credentials") and the provisioning keys
// ("system/provisioning-keys") through the server's own CredentialRegistry over the store's
// journal (write verbs need the store open read-write, i.e. the server stopped). Secrets
// are printed once; only their SHA-256 is stored. Thread-compatible.
#pragma once

#include <cstdint>
#include <string>

#include "actors/device/device_model.h"
#include "actors/system/credential_registry.h"
#include "events/journal.h"
#include "events/status.h"

namespace gh::ctl {

// Registers device `id` as POST /devices does (DeviceRegistered, provisioned, in
// device/<id>), then issues its credential; returns the secret. kInvalidArgument (bad id),
// kAlreadyExists (the device is registered: nothing written), or the journal's failure.
// `registry` issues the credential (the server's own when the verb runs inside it).
Result<std::string> add_device(Journal& journal, credentials::CredentialRegistry& registry,
                               const std::string& id, const device::DeviceInfo& info,
                               const events::Cause& by, int64_t now_ms);

// Issues registered device `id` a new secret (its first, or a rotation) and returns it.
// kNotFound when the device is not registered.
Result<std::string> rotate_device_credential(Journal& journal,
                                             credentials::CredentialRegistry& registry,
                                             const std::string& id, const events::Cause& by);

// Removes registered device `id` from a store no server runs on: RemoveDevice decided on its
// replayed state and appended (device_model.h). Answers the state after removal;
// kFailedPrecondition when it is not registered (nothing written).
Result<device::State> remove_device_in_store(Journal& journal, const std::string& id,
                                             const events::Cause& by, int64_t now_ms);

// Whether device `id` is registered now, from its log.
Result<bool> device_registered(const Journal& journal, const std::string& id);

}  // namespace gh::ctl
