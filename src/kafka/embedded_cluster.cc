// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/kafka/embedded_cluster.h"

#include <librdkafka/rdkafka.h>
#include <dirent.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "internal.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"

namespace streamml::kafka {
namespace {

std::mutex& registry_mutex() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, EmbeddedCluster*>& registry() {
  static std::map<std::string, EmbeddedCluster*> clusters;  // guarded by registry_mutex()
  return clusters;
}

std::string runtime_dir() {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  std::string base = (xdg != nullptr && *xdg != '\0') ? xdg : "/tmp";
  std::string dir = base + "/streamml-" + std::to_string(::getuid());
  ::mkdir(dir.c_str(), 0700);
  return dir;
}

// "127.0.0.1:1234" -> "1234" when the host is loopback, else "".
std::string loopback_port(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return {};
  std::string host = address.substr(0, colon);
  if (host != "localhost" && host.rfind("127.", 0) != 0 && host != "[::1]" && host != "::1") return {};
  return address.substr(colon + 1);
}

std::string socket_path_for_port(const std::string& port) {
  return runtime_dir() + "/embedded-" + port + ".sock";
}

// Sets TCP_NODELAY on this process's listening TCP sockets bound to one of
// `ports`: the mock brokers' listeners (librdkafka offers no option for them).
// Linux copies TCP_NODELAY from a listener to the connections it accepts, so
// the brokers' responses are not held back by Nagle's algorithm waiting for a
// client's delayed ACK (40 ms), which otherwise put a ~45 ms tail on the
// latency of small requests. Returns how many listeners it changed.
int disable_nagle_on_listeners(const std::vector<int>& ports) {
  int changed = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  while (dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == ::dirfd(dir)) continue;
    int listening = 0;
    socklen_t len = sizeof listening;
    if (::getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_storage addr{};
    len = sizeof addr;
    if (::getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&addr), &len) != 0) continue;
    int port = -1;
    if (addr.ss_family == AF_INET) port = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    if (addr.ss_family == AF_INET6) port = ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
    if (std::find(ports.begin(), ports.end(), port) == ports.end()) continue;
    int one = 1;
    if (::setsockopt(static_cast<int>(fd), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0) ++changed;
  }
  ::closedir(dir);
  return changed;
}

int connect_unix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string read_line(int fd, int timeout_ms) {
  std::string line;
  char c;
  while (line.size() < 4096) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) break;
    ssize_t n = ::recv(fd, &c, 1, 0);
    if (n <= 0 || c == '\n') break;
    line.push_back(c);
  }
  return line;
}

}  // namespace

struct EmbeddedCluster::Impl {
  HandlePtr owner;  // the mock cluster lives inside this client handle
  rd_kafka_mock_cluster_t* mock = nullptr;
  std::string bootstrap;
  int brokers = 0;
  std::vector<int> ports;  // the brokers' listening ports
  std::mutex mu;  // serializes mock API calls

  // Control socket (optional).
  std::vector<std::string> socket_paths;  // one per broker port (symlinks to the first)
  std::string socket_path;
  int listen_fd = -1;
  std::atomic<bool> stop{false};
  std::thread server;

  void serve_control(EmbeddedCluster* self);
  std::string handle_command(const std::string& line, EmbeddedCluster* self);
};

EmbeddedCluster::EmbeddedCluster(EmbeddedClusterOptions options) : impl_(std::make_unique<Impl>()) {
  if (options.brokers < 1) throw ConfigError("embedded cluster: --brokers must be at least 1");
  Config config{{"log_level", "3"}};
  ConfPtr conf = internal::make_conf(RD_KAFKA_PRODUCER, config);
  impl_->owner = internal::make_handle(RD_KAFKA_PRODUCER, std::move(conf));
  {
    // The mock cluster's thread inherits this thread's signal mask. librdkafka
    // 2.0's mock ends its poll loop on EINTR ("Mock cluster failed to poll
    // ... Interrupted system call"), which kills the cluster: seen when
    // PyTorch DataLoader workers exited (SIGCHLD) in a process hosting it.
    // Its thread takes no signal; the process's other threads do.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    impl_->mock = rd_kafka_mock_cluster_new(impl_->owner.get(), options.brokers);
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  }
  if (impl_->mock == nullptr) {
    throw KafkaException(RD_KAFKA_RESP_ERR__FAIL, "cannot start the embedded Kafka cluster");
  }
  impl_->bootstrap = rd_kafka_mock_cluster_bootstraps(impl_->mock);
  impl_->brokers = options.brokers;
  for (const auto& address : internal::split_bootstrap(impl_->bootstrap)) {
    const std::string port = loopback_port(address);
    if (!port.empty()) impl_->ports.push_back(std::atoi(port.c_str()));
  }
  const int changed = disable_nagle_on_listeners(impl_->ports);
  if (changed != static_cast<int>(impl_->ports.size())) {
    log_warn("embedded Kafka cluster: TCP_NODELAY set on {} of {} broker listeners; small responses may wait "
             "for delayed ACKs (up to 40 ms)", changed, impl_->ports.size());
  }
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    for (const auto& address : internal::split_bootstrap(impl_->bootstrap)) registry()[address] = this;
  }
  if (options.publish_control_socket) {
    auto addresses = internal::split_bootstrap(impl_->bootstrap);
    impl_->socket_path = socket_path_for_port(loopback_port(addresses.front()));
    ::unlink(impl_->socket_path.c_str());
    impl_->listen_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, impl_->socket_path.c_str(), sizeof(addr.sun_path) - 1);
    if (impl_->listen_fd < 0 ||
        ::bind(impl_->listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(impl_->listen_fd, 8) != 0) {
      throw KafkaException(RD_KAFKA_RESP_ERR__FAIL, "cannot publish control socket " + impl_->socket_path +
                                                        ": " + std::strerror(errno));
    }
    for (size_t i = 1; i < addresses.size(); ++i) {
      std::string link = socket_path_for_port(loopback_port(addresses[i]));
      ::unlink(link.c_str());
      if (::symlink(impl_->socket_path.c_str(), link.c_str()) == 0) impl_->socket_paths.push_back(link);
    }
    impl_->server = std::thread([this] { impl_->serve_control(this); });
  }
  log_debug("embedded Kafka cluster with {} broker(s) at {}", options.brokers, impl_->bootstrap);
}

EmbeddedCluster::~EmbeddedCluster() {
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    for (const auto& address : internal::split_bootstrap(impl_->bootstrap)) registry().erase(address);
  }
  if (impl_->server.joinable()) {
    impl_->stop = true;
    impl_->server.join();
  }
  if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
  if (!impl_->socket_path.empty()) ::unlink(impl_->socket_path.c_str());
  for (const auto& link : impl_->socket_paths) ::unlink(link.c_str());
  if (impl_->mock != nullptr) rd_kafka_mock_cluster_destroy(impl_->mock);
}

void EmbeddedCluster::Impl::serve_control(EmbeddedCluster* self) {
  while (!stop.load()) {
    pollfd p{listen_fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::string line = read_line(fd, 2000);
    write_all(fd, handle_command(line, self) + "\n");
    ::close(fd);
  }
}

std::string EmbeddedCluster::Impl::handle_command(const std::string& line, EmbeddedCluster* self) {
  std::istringstream in(line);
  std::string verb;
  in >> verb;
  if (verb == "ping") return "ok " + bootstrap;
  if (verb == "create") {
    std::string name;
    int partitions = 0, rf = 0;
    if (!(in >> name >> partitions >> rf)) return "error usage: create <topic> <partitions> <replication>";
    try {
      self->create_topic(name, partitions, rf);
      return "ok";
    } catch (const std::exception& e) {
      return std::string("error ") + e.what();
    }
  }
  return "error unknown command '" + verb + "'";
}

const std::string& EmbeddedCluster::bootstrap_servers() const { return impl_->bootstrap; }
int EmbeddedCluster::num_brokers() const { return impl_->brokers; }

std::vector<int32_t> EmbeddedCluster::broker_ids() const {
  std::vector<int32_t> ids;
  for (int i = 1; i <= impl_->brokers; ++i) ids.push_back(i);
  return ids;
}

void EmbeddedCluster::create_topic(const std::string& name, int partitions, int replication_factor) {
  if (name.empty()) throw ConfigError("topic name must not be empty");
  if (partitions < 1) throw ConfigError("topic '" + name + "': partitions must be at least 1");
  if (partitions > kMaxPartitions) {
    throw ConfigError("topic '" + name + "': " + std::to_string(partitions) +
                      " partitions is more than the embedded cluster's limit of " + std::to_string(kMaxPartitions));
  }
  if (replication_factor < 1 || replication_factor > impl_->brokers) {
    throw ConfigError("topic '" + name + "': replication factor " + std::to_string(replication_factor) +
                      " must be between 1 and the number of brokers (" + std::to_string(impl_->brokers) + ")");
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  internal::check(rd_kafka_mock_topic_create(impl_->mock, name.c_str(), partitions, replication_factor),
                  "creating topic '" + name + "'");
}

void EmbeddedCluster::broker_down(int32_t broker_id) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  internal::check(rd_kafka_mock_broker_set_down(impl_->mock, broker_id), "broker_down");
}

void EmbeddedCluster::broker_up(int32_t broker_id) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  internal::check(rd_kafka_mock_broker_set_up(impl_->mock, broker_id), "broker_up");
  // The mock broker listens on a new socket once up again (same port):
  // without this, the connections it accepts from then on have Nagle on.
  disable_nagle_on_listeners(impl_->ports);
}

void EmbeddedCluster::set_round_trip_time(int32_t broker_id, milliseconds rtt) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  internal::check(rd_kafka_mock_broker_set_rtt(impl_->mock, broker_id, static_cast<int>(rtt.count())),
                  "set_round_trip_time");
}

void EmbeddedCluster::push_request_errors(ApiKey api, const std::vector<int>& errors) {
  std::vector<rd_kafka_resp_err_t> codes;
  for (int e : errors) codes.push_back(static_cast<rd_kafka_resp_err_t>(e));
  std::lock_guard<std::mutex> lock(impl_->mu);
  rd_kafka_mock_push_request_errors_array(impl_->mock, static_cast<int16_t>(api), codes.size(), codes.data());
}

void EmbeddedCluster::clear_request_errors(ApiKey api) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  rd_kafka_mock_clear_request_errors(impl_->mock, static_cast<int16_t>(api));
}

void EmbeddedCluster::set_partition_leader(const std::string& topic, int32_t partition, int32_t broker_id) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  internal::check(rd_kafka_mock_partition_set_leader(impl_->mock, topic.c_str(), partition, broker_id),
                  "set_partition_leader " + topic);
}

void EmbeddedCluster::set_group_coordinator(const std::string& group, int32_t broker_id) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  internal::check(rd_kafka_mock_coordinator_set(impl_->mock, "group", group.c_str(), broker_id),
                  "set_group_coordinator " + group);
}

const std::string& EmbeddedCluster::control_socket_path() const { return impl_->socket_path; }

EmbeddedCluster* EmbeddedCluster::find_in_process(const std::string& address) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  auto it = registry().find(address);
  if (it != registry().end()) return it->second;
  // "localhost:port" names the same listener as "127.0.0.1:port".
  std::string port = loopback_port(address);
  if (!port.empty()) {
    it = registry().find("127.0.0.1:" + port);
    if (it != registry().end()) return it->second;
  }
  return nullptr;
}

std::string EmbeddedCluster::find_control_socket(const std::string& address) {
  std::string port = loopback_port(address);
  if (port.empty()) return {};
  std::string path = socket_path_for_port(port);
  int fd = connect_unix(path);
  if (fd < 0) return {};
  bool alive = write_all(fd, "ping\n") && read_line(fd, 2000).rfind("ok", 0) == 0;
  ::close(fd);
  return alive ? path : std::string();
}

bool EmbeddedCluster::is_embedded(const std::string& bootstrap_servers) {
  for (const auto& address : internal::split_bootstrap(bootstrap_servers)) {
    if (find_in_process(address) != nullptr || !find_control_socket(address).empty()) return true;
  }
  return false;
}

void EmbeddedCluster::apply_consumer_defaults(Config& config) {
  auto servers = config.get("bootstrap.servers");
  if (!servers || !is_embedded(*servers)) return;
  config.set_default("fetch.wait.max.ms", "1");
  config.set_default("session.timeout.ms", "6000");
  config.set_default("heartbeat.interval.ms", "1000");
  config.set_default("max.poll.interval.ms", "10000");
}

void EmbeddedCluster::create_topic_via_socket(const std::string& socket_path, const std::string& name,
                                              int partitions, int replication_factor) {
  int fd = connect_unix(socket_path);
  if (fd < 0) {
    throw KafkaException(RD_KAFKA_RESP_ERR__TRANSPORT,
                         "cannot reach the embedded cluster's control socket " + socket_path);
  }
  std::string answer;
  if (write_all(fd, "create " + name + " " + std::to_string(partitions) + " " +
                        std::to_string(replication_factor) + "\n")) {
    answer = read_line(fd, 10000);
  }
  ::close(fd);
  if (answer == "ok") return;
  if (answer.rfind("error ", 0) == 0) answer = answer.substr(6);
  if (answer.empty()) answer = "no answer from the embedded cluster";
  throw KafkaException(RD_KAFKA_RESP_ERR__FAIL, answer);
}

}  // namespace streamml::kafka
