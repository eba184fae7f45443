// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "internal.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

#include "streamml/common/error.h"
#include "streamml/common/logging.h"

namespace streamml::kafka {

void HandleDeleter::operator()(rd_kafka_s* rk) const noexcept { rd_kafka_destroy(rk); }
void ConfDeleter::operator()(rd_kafka_conf_s* conf) const noexcept { rd_kafka_conf_destroy(conf); }
void PartitionListDeleter::operator()(rd_kafka_topic_partition_list_s* list) const noexcept {
  rd_kafka_topic_partition_list_destroy(list);
}
void QueueDeleter::operator()(rd_kafka_queue_s* queue) const noexcept { rd_kafka_queue_destroy(queue); }
void ErrorDeleter::operator()(rd_kafka_error_s* error) const noexcept { rd_kafka_error_destroy(error); }

namespace internal {
namespace {

void log_callback(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  // syslog levels: 0-3 error, 4 warning, 5-6 notice/info, 7 debug.
  LogLevel ours = level <= 3 ? LogLevel::kError
                  : level == 4 ? LogLevel::kWarn
                  : level <= 6 ? LogLevel::kInfo
                               : LogLevel::kDebug;
  // librdkafka is chatty at notice level about reconnects; keep those at debug
  // unless they are warnings or worse.
  if (ours == LogLevel::kInfo) ours = LogLevel::kDebug;
  log(ours, "librdkafka {} [{}]: {}", rk != nullptr ? rd_kafka_name(rk) : "-", facility, message);
}

// librdkafka's property table ("name | C/P | range | ..."), read once from
// rd_kafka_conf_properties_show(), so that it matches the linked version.
std::map<std::string, PropertyKind> read_property_kinds() {
  std::map<std::string, PropertyKind> kinds;
  char* text = nullptr;
  size_t size = 0;
  FILE* out = ::open_memstream(&text, &size);
  if (out == nullptr) return kinds;
  rd_kafka_conf_properties_show(out);
  std::fclose(out);
  std::istringstream lines(std::string(text, size));
  std::free(text);
  std::string line;
  auto trim = [](std::string field) {
    while (!field.empty() && field.front() == ' ') field.erase(field.begin());
    while (!field.empty() && field.back() == ' ') field.pop_back();
    return field;
  };
  while (std::getline(lines, line)) {
    const size_t first = line.find('|');
    const size_t second = first == std::string::npos ? first : line.find('|', first + 1);
    if (second == std::string::npos) continue;
    const std::string name = trim(line.substr(0, first));
    const std::string kind = trim(line.substr(first + 1, second - first - 1));
    if (kind == "C") kinds[name] = PropertyKind::kConsumer;
    if (kind == "P") kinds[name] = PropertyKind::kProducer;
  }
  return kinds;
}

}  // namespace

PropertyKind property_kind(const std::string& name) {
  static const std::map<std::string, PropertyKind> kinds = read_property_kinds();
  auto it = kinds.find(name);
  return it == kinds.end() ? PropertyKind::kAny : it->second;
}

ConfPtr make_conf(rd_kafka_type_t type, const Config& config) {
  ConfPtr conf(rd_kafka_conf_new());
  char errstr[512];
  // streamml's one default for every client: TCP_NODELAY. With Nagle on (librdkafka's
  // default), a small request written while an earlier one is unacknowledged waits for
  // the peer's delayed ACK (40 ms on Linux): at a few thousand records/s that put a
  // ~45 ms tail on serve's end-to-end latency. librdkafka batches by itself, so Nagle
  // buys nothing. `-X socket.nagle.disable=false` turns it back on.
  rd_kafka_conf_set(conf.get(), "socket.nagle.disable", "true", errstr, sizeof errstr);
  const PropertyKind other = type == RD_KAFKA_PRODUCER ? PropertyKind::kConsumer : PropertyKind::kProducer;
  for (const auto& [key, value] : config.entries()) {
    if (property_kind(key) == other) {
      log_debug("Kafka property {} is for {}s only: not given to this {}", key,
                other == PropertyKind::kConsumer ? "consumer" : "producer",
                type == RD_KAFKA_PRODUCER ? "producer" : "consumer");
      continue;
    }
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
      throw ConfigError("invalid Kafka property '" + key + "': " + errstr);
    }
  }
  rd_kafka_conf_set_log_cb(conf.get(), &log_callback);
  return conf;
}

HandlePtr make_handle(rd_kafka_type_t type, ConfPtr conf) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof errstr);
  if (rk == nullptr) {
    throw KafkaException(RD_KAFKA_RESP_ERR__INVALID_ARG,
                         std::string("cannot create Kafka client: ") + errstr);
  }
  conf.release();  // owned by rk now
  return HandlePtr(rk);
}

KafkaError to_error(rd_kafka_resp_err_t err, std::string detail) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  bool retriable = err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT ||
                   err == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT ||
                   err == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION ||
                   err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE ||
                   err == RD_KAFKA_RESP_ERR__QUEUE_FULL ||
                   err == RD_KAFKA_RESP_ERR_NOT_COORDINATOR ||
                   err == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE ||
                   err == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS ||
                   err == RD_KAFKA_RESP_ERR__WAIT_COORD ||
                   err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN;
  bool fatal = err == RD_KAFKA_RESP_ERR__FATAL || err == RD_KAFKA_RESP_ERR__FENCED ||
               err == RD_KAFKA_RESP_ERR_PRODUCER_FENCED;
  return KafkaError(err, std::move(detail), fatal, retriable);
}

KafkaError to_error(rd_kafka_error_t* error) {
  if (error == nullptr) return {};
  return KafkaError(rd_kafka_error_code(error), rd_kafka_error_string(error),
                    rd_kafka_error_is_fatal(error) != 0, rd_kafka_error_is_retriable(error) != 0,
                    rd_kafka_error_txn_requires_abort(error) != 0);
}

void check(rd_kafka_resp_err_t err, const std::string& what) {
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) throw_if_error(to_error(err), what);
}

PartitionListPtr to_list(const std::vector<TopicPartitionOffset>& offsets) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& tpo : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), tpo.topic.c_str(), tpo.partition)->offset = tpo.offset;
  }
  return list;
}

PartitionListPtr to_list(const std::vector<TopicPartition>& partitions) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const auto& tp : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
  }
  return list;
}

std::vector<TopicPartitionOffset> from_list(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartitionOffset> out;
  if (list == nullptr) return out;
  out.reserve(list->cnt);
  for (int i = 0; i < list->cnt; ++i) {
    out.push_back({list->elems[i].topic, list->elems[i].partition, list->elems[i].offset});
  }
  return out;
}

std::vector<std::string> split_bootstrap(const std::string& servers) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= servers.size()) {
    size_t comma = servers.find(',', start);
    if (comma == std::string::npos) comma = servers.size();
    std::string item = servers.substr(start, comma - start);
    // Strip an optional "PLAINTEXT://" style prefix and spaces.
    if (auto pos = item.find("://"); pos != std::string::npos) item = item.substr(pos + 3);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

}  // namespace internal

// error.h
std::string KafkaError::name() const {
  return rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(code_));
}

std::string KafkaError::message() const {
  std::string text = name() + ": " + rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(code_));
  if (!detail_.empty() && detail_ != rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(code_))) {
    text += ": " + detail_;
  }
  return text;
}

bool KafkaError::is_message_too_large() const noexcept {
  return code_ == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE || code_ == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE;
}

bool KafkaError::is_queue_full() const noexcept { return code_ == RD_KAFKA_RESP_ERR__QUEUE_FULL; }

bool KafkaError::is_membership_lost() const noexcept {
  return code_ == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID || code_ == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
         code_ == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS;
}

bool KafkaError::is_offset_out_of_range() const noexcept {
  return code_ == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE || code_ == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET;
}

static_assert(kErrFail == RD_KAFKA_RESP_ERR__FAIL);
static_assert(kErrMessageTimedOut == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT);

void throw_if_error(const KafkaError& err, const std::string& what) {
  if (err.ok()) return;
  throw KafkaException(err.code(), what + ": " + err.message());
}

}  // namespace streamml::kafka
