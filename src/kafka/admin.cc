// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/kafka/admin.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "internal.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/kafka/embedded_cluster.h"

namespace streamml::kafka {
namespace {

struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* md) const noexcept { rd_kafka_metadata_destroy(md); }
};
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;

MetadataPtr fetch_metadata(rd_kafka_t* rk, const std::string* topic, milliseconds timeout) {
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* rkt = topic != nullptr ? rd_kafka_topic_new(rk, topic->c_str(), nullptr) : nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(rk, topic == nullptr ? 1 : 0, rkt, &md, static_cast<int>(timeout.count()));
  if (rkt != nullptr) rd_kafka_topic_destroy(rkt);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::string servers;
    char buf[1024];
    size_t size = sizeof buf;
    if (rd_kafka_conf_get(rd_kafka_conf(rk), "bootstrap.servers", buf, &size) == RD_KAFKA_CONF_OK) servers = buf;
    throw KafkaException(err, "cannot fetch metadata from " + servers + " within " +
                                  std::to_string(timeout.count()) + " ms: " + rd_kafka_err2str(err));
  }
  return MetadataPtr(md);
}

TopicInfo to_topic_info(const rd_kafka_metadata_topic_t& t) {
  TopicInfo info;
  info.name = t.topic;
  for (int p = 0; p < t.partition_cnt; ++p) {
    const auto& mp = t.partitions[p];
    PartitionInfo pi;
    pi.id = mp.id;
    pi.leader = mp.leader;
    pi.replicas.assign(mp.replicas, mp.replicas + mp.replica_cnt);
    pi.isrs.assign(mp.isrs, mp.isrs + mp.isr_cnt);
    info.partitions.push_back(std::move(pi));
  }
  std::sort(info.partitions.begin(), info.partitions.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  return info;
}

void create_with_admin_api(rd_kafka_t* rk, const std::vector<NewTopic>& topics, milliseconds timeout) {
  char errstr[512];
  std::vector<rd_kafka_NewTopic_t*> new_topics;
  auto cleanup = [&] { for (auto* t : new_topics) rd_kafka_NewTopic_destroy(t); };
  for (const auto& t : topics) {
    rd_kafka_NewTopic_t* nt =
        rd_kafka_NewTopic_new(t.name.c_str(), t.partitions, t.replication_factor, errstr, sizeof errstr);
    if (nt == nullptr) {
      cleanup();
      throw ConfigError("topic '" + t.name + "': " + errstr);
    }
    for (const auto& [key, value] : t.config) {
      rd_kafka_NewTopic_set_config(nt, key.c_str(), value.c_str());
    }
    new_topics.push_back(nt);
  }
  QueuePtr queue(rd_kafka_queue_new(rk));
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(options, static_cast<int>(timeout.count()), errstr, sizeof errstr);
  rd_kafka_AdminOptions_set_operation_timeout(options, static_cast<int>(timeout.count()), errstr, sizeof errstr);
  rd_kafka_CreateTopics(rk, new_topics.data(), new_topics.size(), options, queue.get());
  rd_kafka_AdminOptions_destroy(options);
  cleanup();
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue.get(), static_cast<int>(timeout.count()) + 2000);
  if (event == nullptr) {
    throw KafkaException(RD_KAFKA_RESP_ERR__TIMED_OUT, "creating topics: no answer from the broker");
  }
  std::unique_ptr<rd_kafka_event_t, decltype(&rd_kafka_event_destroy)> owned(event, &rd_kafka_event_destroy);
  if (rd_kafka_event_error(event)) {
    throw KafkaException(rd_kafka_event_error(event),
                         std::string("creating topics: ") + rd_kafka_event_error_string(event));
  }
  const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event);
  size_t n = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &n);
  for (size_t i = 0; i < n; ++i) {
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* msg = rd_kafka_topic_result_error_string(results[i]);
      throw KafkaException(err, std::string("creating topic '") + rd_kafka_topic_result_name(results[i]) +
                                    "': " + (msg ? msg : rd_kafka_err2str(err)));
    }
  }
}

}  // namespace

Admin::Admin(Config config) : config_(std::move(config)) {
  if (!config_.contains("bootstrap.servers")) throw ConfigError("bootstrap.servers is not set (-b BROKERS)");
  handle_ = internal::make_handle(RD_KAFKA_PRODUCER, internal::make_conf(RD_KAFKA_PRODUCER, config_));
}

Admin::~Admin() = default;

void Admin::create_topics(const std::vector<NewTopic>& topics, milliseconds timeout) {
  auto addresses = internal::split_bootstrap(*config_.get("bootstrap.servers"));
  for (const auto& address : addresses) {
    if (EmbeddedCluster* cluster = EmbeddedCluster::find_in_process(address)) {
      for (const auto& t : topics) cluster->create_topic(t.name, t.partitions, t.replication_factor);
      return;
    }
  }
  for (const auto& address : addresses) {
    std::string socket = EmbeddedCluster::find_control_socket(address);
    if (socket.empty()) continue;
    for (const auto& t : topics) {
      try {
        EmbeddedCluster::create_topic_via_socket(socket, t.name, t.partitions, t.replication_factor);
      } catch (const KafkaException& e) {
        throw KafkaException(e.code(), std::string(e.what()));
      }
    }
    return;
  }
  create_with_admin_api(handle_.get(), topics, timeout);
}

std::vector<TopicInfo> Admin::list_topics(milliseconds timeout, bool include_internal) const {
  MetadataPtr md = fetch_metadata(handle_.get(), nullptr, timeout);
  std::vector<TopicInfo> out;
  for (int i = 0; i < md->topic_cnt; ++i) {
    std::string name = md->topics[i].topic;
    if (!include_internal && name.rfind("__", 0) == 0) continue;
    out.push_back(to_topic_info(md->topics[i]));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

TopicInfo Admin::describe_topic(const std::string& name, milliseconds timeout) const {
  // All-topics metadata: asking for one topic by name may auto-create it.
  MetadataPtr md = fetch_metadata(handle_.get(), nullptr, timeout);
  for (int i = 0; i < md->topic_cnt; ++i) {
    if (name != md->topics[i].topic) continue;
    if (md->topics[i].err != RD_KAFKA_RESP_ERR_NO_ERROR || md->topics[i].partition_cnt == 0) {
      rd_kafka_resp_err_t err = md->topics[i].err ? md->topics[i].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
      throw KafkaException(err, "topic '" + name + "' does not exist (" + rd_kafka_err2str(err) + ")");
    }
    TopicInfo info = to_topic_info(md->topics[i]);
    for (auto& p : info.partitions) {
      internal::check(rd_kafka_query_watermark_offsets(handle_.get(), name.c_str(), p.id, &p.watermarks.low,
                                                       &p.watermarks.high, static_cast<int>(timeout.count())),
                      "watermarks of " + name + ":" + std::to_string(p.id));
    }
    return info;
  }
  throw KafkaException(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, "topic '" + name + "' does not exist");
}

std::vector<BrokerInfo> Admin::brokers(milliseconds timeout) const {
  MetadataPtr md = fetch_metadata(handle_.get(), nullptr, timeout);
  std::vector<BrokerInfo> out;
  for (int i = 0; i < md->broker_cnt; ++i) {
    out.push_back({md->brokers[i].id, md->brokers[i].host, md->brokers[i].port});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

bool Admin::topic_exists(const std::string& name, milliseconds timeout) const {
  for (const auto& t : list_topics(timeout, true)) {
    if (t.name == name) return true;
  }
  return false;
}

void Admin::wait_for_topic(const std::string& name, milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    try {
      MetadataPtr md = fetch_metadata(handle_.get(), nullptr, timeout);
      for (int i = 0; i < md->topic_cnt; ++i) {
        const auto& t = md->topics[i];
        if (name != t.topic || t.err || t.partition_cnt == 0) continue;
        bool all_led = true;
        for (int p = 0; p < t.partition_cnt; ++p) all_led &= t.partitions[p].leader >= 0;
        if (all_led) return;
      }
    } catch (const KafkaException&) {
      if (std::chrono::steady_clock::now() >= deadline) throw;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      throw KafkaException(RD_KAFKA_RESP_ERR__TIMED_OUT,
                           "topic '" + name + "' did not become available within " +
                               std::to_string(timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
}

}  // namespace streamml::kafka
