#include "adapters/mqtt/broker_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>
#include <vector>

extern char** environ;

namespace gh::mqtt_adapter {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kPortAttempts = 5;
constexpr auto kPollInterval = std::chrono::milliseconds(10);

// Binds port 0 on loopback to let the kernel choose, then releases it for mosquitto. Another
// process may grab it in between; start() retries on another port when that happens.
Result<uint16_t> free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return unavailable(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::string error = std::strerror(errno);
    ::close(fd);
    return unavailable("cannot pick a free port: " + error);
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// kUnavailable naming `address`:`port` and what to do when something else listens there:
// mosquitto would otherwise only say "Address already in use" in its log.
Status check_port_free(const std::string& address, uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return unavailable(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // as mosquitto binds
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1) {
    ::close(fd);
    return invalid_argument("broker listener address '" + address + "' is not an IPv4 address");
  }
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int error = errno;
  ::close(fd);
  if (rc == 0) return Status::ok();
  const std::string where = address + ":" + std::to_string(port);
  if (error == EADDRINUSE) {
    return unavailable(
        "MQTT port " + where +
        " is in use by another program (see `ss -ltnp 'sport = :" + std::to_string(port) +
        "'`; often the system's own mosquitto: `systemctl disable --now "
        "mosquitto`), or choose another port (--mqtt.port / --mqtt.listen)");
  }
  return unavailable("cannot listen on " + where + ": " + std::strerror(error));
}

// True when process `pid` owns a TCP socket listening on `port`. Merely connecting to the
// port would be fooled by someone else listening there (mosquitto would then exit with
// "address in use" right after we declared it ready), so we match the listening socket's
// inode in /proc/net/tcp against the child's file descriptors.
bool listens_on(pid_t pid, uint16_t port) {
  std::vector<std::string> inodes;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode;
      auto colon = local.rfind(':');
      if (state != "0A" || colon == std::string::npos) continue;  // 0A: LISTEN
      if (std::strtoul(local.c_str() + colon + 1, nullptr, 16) == port) inodes.push_back(inode);
    }
  }
  if (inodes.empty()) return false;
  // The error_code overloads throughout: the child may exit while we look, and a range-for
  // over directory_iterator would throw from its increment.
  std::error_code ec;
  auto fd_dir = std::filesystem::path("/proc") / std::to_string(pid) / "fd";
  std::filesystem::directory_iterator it(fd_dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::error_code link_ec;
    auto target = std::filesystem::read_symlink(it->path(), link_ec);
    if (link_ec) continue;
    for (const auto& inode : inodes) {
      if (target.string() == "socket:[" + inode + "]") return true;
    }
  }
  return false;
}

std::string tail_of(const std::filesystem::path& path, size_t max_bytes = 2000) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  if (text.size() > max_bytes) text = text.substr(text.size() - max_bytes);
  return text;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

std::string access_text(const std::optional<BrokerAccess>& access) {
  if (!access) return "allow_anonymous true\n";
  std::string c;
  // The plugin decides every CONNECT (anonymous ones included) and every topic.
  c += "allow_anonymous false\n";
  c += "plugin " + access->plugin.string() + "\n";
  c += "plugin_opt_server_username " + access->server_username + "\n";
  c += "plugin_opt_server_sha256 " + access->server_sha256_hex + "\n";
  c += "plugin_opt_server_client_id " + access->server_client_id + "\n";
  c += "plugin_opt_prefix " + access->prefix + "\n";
  c += "plugin_opt_anonymous " + access->anonymous + "\n";
  c += std::string("plugin_opt_legacy ") + (access->legacy ? "on" : "off") + "\n";
  if (!access->legacy_topics.empty()) {
    c += "plugin_opt_legacy_topics " + join(access->legacy_topics) + "\n";
  }
  if (!access->discovery_prefix.empty()) {
    c += "plugin_opt_discovery_prefix " + access->discovery_prefix + "\n";
  }
  c += "plugin_opt_publish_rate " + std::to_string(access->publish_rate) + "\n";
  if (access->publish_rate > 0) {
    c += "plugin_opt_publish_burst " + std::to_string(access->publish_burst) + "\n";
  }
  return c;
}

std::string listener_text(const BrokerListener& l) {
  std::string c = "listener " + std::to_string(l.port) + " " + l.address + "\n";
  if (!l.certfile.empty()) {
    c += "certfile " + l.certfile.string() + "\n";
    c += "keyfile " + l.keyfile.string() + "\n";
    c += "tls_version tlsv1.2\n";
    if (!l.client_ca.empty()) {
      c += "cafile " + l.client_ca.string() + "\n";
      c += "require_certificate true\n";
    }
  }
  return c;
}

std::string config_text(const BrokerProcessOptions& options, uint16_t port,
                        const std::filesystem::path& log_path) {
  std::string config;
  config += "# generated by gatehouse (adapters/mqtt/broker_process.cpp)\n";
  config += "listener " + std::to_string(port) + " 127.0.0.1\n";
  for (const auto& listener : options.listeners) config += listener_text(listener);
  config += access_text(options.access);
  if (options.max_packet_bytes > 0) {
    config += "max_packet_size " + std::to_string(options.max_packet_bytes) + "\n";
  }
  // DESIGN.md "Latency": without this every QoS 1 round trip waits for a delayed ACK.
  config += "set_tcp_nodelay true\n";
  config += "persistence false\n";
  // mosquitto's defaults (20 QoS 1 messages in flight to a client, 1000 queued behind them)
  // silently drop the rest of a burst: 64 chat clients with 100 requests outstanding each
  // lost most of them on their way to gatehouse (docs/benchmarks.md "Over the wire"). The
  // queue stays bounded in bytes, as the 1000 messages of at most max-payload bounded it.
  config += "max_inflight_messages 1000\n";
  config += "max_queued_messages 100000\n";
  config += "max_queued_bytes 67108864\n";
  // A client's QoS 0 messages reach gatehouse at its subscription's QoS 1, so gatehouse answers
  // each with a PUBACK. Otherwise a QoS 0 flood fills gatehouse's socket faster than a starved
  // gatehouse reads it, gatehouse's own QoS 1 publishes stop at the broker's Receive Maximum
  // (their PUBACKs wait behind the flood), and with nothing to send for 1.5 keep-alives
  // mosquitto disconnected gatehouse ("exceeded timeout"; docs/reliability.md "Exhaustion").
  // At QoS 1 the backlog also waits in the broker's bounded queue, not in the socket.
  config += "upgrade_outgoing_qos true\n";
  config += "log_dest file " + log_path.string() + "\n";
  config += "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n";
  config += "connection_messages true\n";
  // Started as root, mosquitto would switch to user "mosquitto" and could not write its log
  // in our directory; staying as whoever we are is what a private broker wants.
  if (passwd* pw = ::getpwuid(::geteuid()); pw != nullptr && pw->pw_name != nullptr) {
    config += std::string("user ") + pw->pw_name + "\n";
  }
  return config;
}

// Sends `signal` and polls for exit until `deadline`; true when the child was reaped.
bool signal_and_reap(pid_t pid, int signal, Clock::time_point deadline) {
  ::kill(pid, signal);
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

// A previous run that crashed (no destructor, no SIGTERM) leaves its mosquitto running. Its
// pid is in `pid_path`; stop it if that process still runs our config file, so that brokers
// do not pile up across crashes. Anything else with that pid (reused) is left alone.
void stop_stale_broker(const std::filesystem::path& pid_path,
                       const std::filesystem::path& config_path, std::chrono::milliseconds wait) {
  std::ifstream in(pid_path);
  long pid = 0;
  if (!(in >> pid) || pid <= 1) return;
  std::ifstream cmdline_file("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string cmdline((std::istreambuf_iterator<char>(cmdline_file)),
                      std::istreambuf_iterator<char>());
  if (cmdline.find("mosquitto") == std::string::npos ||
      cmdline.find(config_path.string()) == std::string::npos) {
    return;
  }
  ::kill(static_cast<pid_t>(pid), SIGTERM);
  // Not our child: we cannot reap it, only watch it disappear.
  auto deadline = Clock::now() + wait;
  while (::kill(static_cast<pid_t>(pid), 0) == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(kPollInterval);
  }
  if (::kill(static_cast<pid_t>(pid), 0) == 0) ::kill(static_cast<pid_t>(pid), SIGKILL);
}

// fork + exec rather than posix_spawn for one reason: PR_SET_PDEATHSIG, so that a server
// (or test) that crashes does not leave its broker running. The process already runs
// threads, so between fork and exec the child makes only async-signal-safe calls; an exec
// failure comes back through a close-on-exec pipe.
Result<pid_t> spawn_broker(const std::string& exe, const std::string& config,
                           const std::string& out_path, bool stop_with_parent) {
  std::string exe_arg = exe, flag = "-c", conf = config;
  std::vector<char*> argv = {exe_arg.data(), flag.data(), conf.data(), nullptr};
  int error_pipe[2];
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) {
    return unavailable(std::string("pipe: ") + std::strerror(errno));
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(error_pipe[0]);
    ::close(error_pipe[1]);
    return unavailable(std::string("fork: ") + std::strerror(e));
  }
  if (pid == 0) {
    ::close(error_pipe[0]);
    // The child inherits the signal mask, and exec keeps it: gatehouse blocks SIGTERM and
    // SIGINT in every thread to sigwait() for them, which would leave mosquitto deaf to
    // the SIGTERM of stop() and of PR_SET_PDEATHSIG (then only SIGKILL ends it).
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (stop_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    }
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in >= 0) ::dup2(in, STDIN_FILENO);
    if (out >= 0) {
      ::dup2(out, STDOUT_FILENO);
      ::dup2(out, STDERR_FILENO);
    }
    if (in > STDERR_FILENO) ::close(in);
    if (out > STDERR_FILENO) ::close(out);
    ::execve(exe.c_str(), argv.data(), environ);
    int e = errno;
    ssize_t ignored = ::write(error_pipe[1], &e, sizeof e);
    (void)ignored;
    ::_exit(127);
  }
  ::close(error_pipe[1]);
  int exec_errno = 0;
  ssize_t n;
  do {
    n = ::read(error_pipe[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  ::close(error_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof exec_errno)) {
    ::waitpid(pid, nullptr, 0);
    return unavailable("cannot start " + exe + ": " + std::strerror(exec_errno));
  }
  return pid;
}

}  // namespace

// Installed (cmake --install, the Debian package): PREFIX/lib/gatehouse next to PREFIX/bin;
// otherwise the one in the build tree.
std::filesystem::path default_plugin_path() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto installed = self.parent_path().parent_path() / "lib" / "gatehouse" / "gatehouse_auth.so";
    if (std::filesystem::is_regular_file(installed, ec)) return installed;
  }
  return GH_BROKER_PLUGIN_PATH;
}

BrokerProcess::BrokerProcess(BrokerProcessOptions options, uint16_t port, pid_t pid)
    : options_(std::move(options)),
      port_(port),
      pid_(pid),
      log_path_(options_.work_dir / "mosquitto.log") {}

BrokerProcess::~BrokerProcess() { (void)stop(); }

std::string BrokerProcess::url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

Result<std::unique_ptr<BrokerProcess>> BrokerProcess::start(BrokerProcessOptions options) {
  if (options.work_dir.empty()) return invalid_argument("broker work_dir is required");
  std::error_code ec;
  std::filesystem::create_directories(options.work_dir, ec);
  if (ec) return unavailable("cannot create " + options.work_dir.string() + ": " + ec.message());
  auto config_path = options.work_dir / "mosquitto.conf";
  auto log_path = options.work_dir / "mosquitto.log";
  auto out_path = options.work_dir / "mosquitto.out";
  auto pid_path = options.work_dir / "mosquitto.pid";
  stop_stale_broker(pid_path, config_path, options.stop_timeout);

  Status last_error = unavailable("mosquitto did not start");
  int attempts = options.port == 0 ? kPortAttempts : 1;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    uint16_t port = options.port;
    if (port == 0) {
      auto chosen = free_loopback_port();
      if (!chosen) return chosen.status();
      port = *chosen;
    } else {
      GH_RETURN_IF_ERROR(check_port_free("127.0.0.1", port));
    }
    for (const auto& listener : options.listeners) {
      GH_RETURN_IF_ERROR(check_port_free(listener.address, listener.port));
    }
    {
      std::ofstream config(config_path, std::ios::trunc);
      config << config_text(options, port, log_path);
      if (!config.good()) return unavailable("cannot write " + config_path.string());
    }

    auto spawned = spawn_broker(options.executable, config_path.string(), out_path.string(),
                                options.stop_with_parent);
    if (!spawned) return spawned.status();
    pid_t pid = *spawned;
    std::unique_ptr<BrokerProcess> broker(new BrokerProcess(options, port, pid));
    std::ofstream(pid_path, std::ios::trunc) << pid << "\n";

    auto deadline = Clock::now() + options.start_timeout;
    for (;;) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        broker->pid_ = 0;  // already reaped
        last_error =
            unavailable("mosquitto on port " + std::to_string(port) +
                        " exited during startup; log: " + tail_of(log_path) + tail_of(out_path));
        break;
      }
      if (listens_on(pid, port)) return broker;
      if (Clock::now() >= deadline) {
        (void)broker->stop();
        return unavailable("mosquitto did not accept connections on port " + std::to_string(port) +
                           " within " + std::to_string(options.start_timeout.count()) +
                           " ms; log: " + tail_of(log_path) + tail_of(out_path));
      }
      std::this_thread::sleep_for(kPollInterval);
    }
  }
  return last_error;
}

bool BrokerProcess::exited() {
  if (pid_ <= 0) return true;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return false;
  // Reaped now, or not our child any more (ECHILD): either way it is gone.
  pid_ = 0;
  std::error_code ec;
  std::filesystem::remove(options_.work_dir / "mosquitto.pid", ec);
  return true;
}

Status BrokerProcess::stop() {
  if (pid_ <= 0) return Status::ok();
  pid_t pid = pid_;
  if (!signal_and_reap(pid, SIGTERM, Clock::now() + options_.stop_timeout) &&
      !signal_and_reap(pid, SIGKILL, Clock::now() + options_.stop_timeout)) {
    return internal_error("mosquitto pid " + std::to_string(pid) + " could not be reaped");
  }
  pid_ = 0;
  std::error_code ec;
  std::filesystem::remove(options_.work_dir / "mosquitto.pid", ec);
  return Status::ok();
}

}  // namespace gh::mqtt_adapter
