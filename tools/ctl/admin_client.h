// gatehousectl's side of the admin socket (admin_wire.h): which verbs a running server takes,
// and handing one over. Thread-compatible.
#pragma once

#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace gh::ctl {

// True for the verbs that write (token create|revoke, user grant|revoke|erase, snapshot,
// device add|rotate|revoke, provisioning-key create|revoke, action install|disable|enable|
// remove) and for `events ... --follow`: those run inside a running server. `args` is the
// verb's arguments after the verb.
bool runs_in_server(const std::string& verb, const std::vector<std::string>& args);

// The admin socket of the gatehouse whose store.path is `store_path`: `<store>/admin.sock` on
// RocksDB; on PostgreSQL the one its BACKEND marker names (`admin-socket PATH`, written by
// the node at start: its run directory's admin.sock).
std::string admin_socket_of_store(const std::string& store_path);
// The admin socket named by the BACKEND marker of a cluster node's store.path; nullopt for a
// RocksDB store (no marker) or a marker naming none.
std::optional<std::string> cluster_node_socket(const std::string& store_path);

// Runs `verb args` in the server listening on the admin socket at `socket`, copying its
// output to `out` and `err` as it comes: the verb's exit status, or nullopt when no server
// answers there (the caller then opens the store itself, or says so). A `user erase`
// without --yes is confirmed here first, reading the name from `in`.
std::optional<int> run_in_running_server(const std::string& socket, const std::string& verb,
                                         const std::vector<std::string>& args, std::istream& in,
                                         std::ostream& out, std::ostream& err);

}  // namespace gh::ctl
