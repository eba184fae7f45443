// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// streamml consume: read ranges (topic[:partition[:start[:end]]], end
// inclusive; several ranges of one partition are read in the order given) or
// a consumer group, and print records with kcat-style format tokens. kcat's
// -t TOPIC [-p P] [-o OFFSET] name one more range.
#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <deque>
#include <map>
#include <optional>
#include <set>

#include "cli_common.h"
#include "command.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/kafka/consumer.h"
#include "streamml/kafka/range_spec.h"

namespace streamml::cli {
namespace {

struct ConsumeOptions {
  KafkaOptions kafka;
  std::vector<std::string> specs;
  std::string topic;      // -t (kcat)
  int partition = -1;     // -p (kcat; -1: every partition)
  std::string offset;     // -o (kcat)
  std::string group;
  bool exit_at_end = false;
  bool wait = false;  // --wait: wait for range offsets not produced yet
  int64_t count = -1;             // -1: no limit
  int64_t stream_timeout_ms = -1;  // -1: never stop for quiet
  std::string on_data_loss = "report";  // -G: records lost to retention
  std::string format = "%s\\n";
};

// Writes one record according to the format (%t %p %o %k %s %T %h %S %%, \n \t \\).
void print(const std::string& format, const kafka::Message& m) {
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if (c == '\\' && i + 1 < format.size()) {
      char n = format[++i];
      out += n == 'n' ? '\n' : n == 't' ? '\t' : n == 'r' ? '\r' : n == '0' ? '\0' : n;
      continue;
    }
    if (c != '%' || i + 1 >= format.size()) {
      out += c;
      continue;
    }
    switch (format[++i]) {
      case 't': out += m.topic(); break;
      case 'p': out += std::to_string(m.partition()); break;
      case 'o': out += std::to_string(m.offset()); break;
      case 'k': out += m.key(); break;
      case 's': out += m.value(); break;
      case 'S': out += std::to_string(m.value().size()); break;
      case 'T': out += std::to_string(m.timestamp_ms()); break;
      case 'h': {
        std::string h;
        for (const auto& header : m.headers()) {
          if (!h.empty()) h += ',';
          h += header.name + "=" + header.value.value_or("");
        }
        out += h;
        break;
      }
      case '%': out += '%'; break;
      default: out += '%'; out += format[i]; break;
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
}

// Before the group assigned anything, the stream timeout also allows for the
// join itself (as KafkaDataset does for train --online).
constexpr std::chrono::seconds kJoinGrace{30};

// The ranges of one partition still to print, in the order given: [start, end)
// with end INT64_MAX for an open range.
using RangeQueue = std::deque<std::pair<int64_t, int64_t>>;

// kcat's -o: beginning, end, N (absolute), -N (N records before the end of
// each partition), s@UNIX_MS (the first record at or after that time).
// Returns the start; sets `from_end` for -N.
kafka::OffsetSpec parse_kcat_offset(const std::string& text, int64_t& from_end) {
  from_end = -1;
  auto number = [&](const std::string& digits) {
    int64_t value = 0;
    size_t used = 0;
    try {
      value = std::stoll(digits, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (digits.empty() || used != digits.size() || value < 0) {
      throw ConfigError("-o '" + text + "' is invalid: use beginning, end, N, -N (N before the end) or s@UNIX_MS");
    }
    return value;
  };
  if (text == "beginning") return kafka::OffsetSpec::beginning();
  if (text == "end") return kafka::OffsetSpec::end();
  if (text == "stored") throw ConfigError("-o stored reads a group's committed offsets: use -G GROUP instead");
  if (text.rfind("s@", 0) == 0) return kafka::OffsetSpec::time(number(text.substr(2)));
  if (text.rfind('-', 0) == 0) {
    from_end = number(text.substr(1));
    return kafka::OffsetSpec::end();
  }
  return kafka::OffsetSpec::at(number(text));
}

int run(ConsumeOptions& o) {
  std::vector<kafka::RangeSpec> specs;
  for (const auto& s : o.specs) specs.push_back(kafka::parse_range_spec(s));
  int64_t from_end = -1;  // kcat's -o -N
  if (!o.topic.empty()) {
    kafka::RangeSpec spec;
    spec.topic = o.topic;
    if (o.partition >= 0) spec.partition = o.partition;
    if (!o.offset.empty()) spec.start = parse_kcat_offset(o.offset, from_end);
    specs.push_back(spec);
  } else if (o.partition >= 0 || !o.offset.empty()) {
    throw ConfigError("-p and -o go with -t TOPIC (kcat style), or give a range spec topic:partition:start");
  }
  if (specs.empty()) throw ConfigError("give a topic: -t TOPIC [-p P] [-o OFFSET], or range specs topic[:partition[:start[:end]]]");
  install_stop_signals();
  kafka::Config config = o.kafka.make_config();
  if (stop_requested()) return kExitOk;  // stopped while it started or probed the cluster
  config.set_default("fetch.wait.max.ms", "10");
  const bool group_mode = !o.group.empty();
  if (group_mode) {
    config.set("group.id", o.group);
    config.set_default("auto.offset.reset", "earliest");
  } else {
    // Never jump silently when a requested offset is gone.
    config.set_default("auto.offset.reset", "error");
  }
  if (o.exit_at_end) config.set("enable.partition.eof", "true");
  kafka::Consumer consumer(config);
  consumer.set_data_loss_policy(parse_data_loss_policy(o.on_data_loss));

  using Clock = std::chrono::steady_clock;
  const auto started = Clock::now();
  std::optional<Clock::time_point> assigned_at;  // group mode: the last assignment
  // Partitions still to finish, with their ranges in the order given.
  std::map<kafka::TopicPartition, RangeQueue> open;
  std::map<kafka::TopicPartition, int64_t> next_commit;
  if (group_mode) {
    std::set<std::string> topics;
    for (const auto& s : specs) {
      if (s.partition || s.start != kafka::OffsetSpec::beginning() || s.end != kafka::OffsetSpec::end()) {
        throw ConfigError("with -G the group's committed offsets decide where to start: give topic names only ('" +
                          s.to_string() + "')");
      }
      consumer.partitions_of(s.topic, o.kafka.timeout());  // clear error when it does not exist
      topics.insert(s.topic);
    }
    consumer.subscribe({topics.begin(), topics.end()}, [&](kafka::RebalanceEvent event, const auto&) {
      if (event == kafka::RebalanceEvent::kAssigned) assigned_at = Clock::now();
    });
  } else {
    std::vector<kafka::TopicPartitionOffset> assignment;
    if (from_end >= 0) {
      // -o -N: the last N records of each partition of -t.
      kafka::RangeSpec last = specs.back();
      specs.pop_back();
      std::vector<int32_t> partitions;
      if (last.partition) {
        partitions.push_back(*last.partition);
      } else {
        for (const auto& p : consumer.partitions_of(last.topic, o.kafka.timeout())) partitions.push_back(p);
      }
      for (int32_t p : partitions) {
        const kafka::Watermarks w = consumer.query_watermarks(last.topic, p, o.kafka.timeout());
        kafka::RangeSpec one = last;
        one.partition = p;
        one.start = kafka::OffsetSpec::at(std::max(w.low, w.high - from_end));
        specs.push_back(one);
      }
    }
    for (const auto& spec : specs) {
      // An explicit end (offset or time) bounds the range; otherwise it is open.
      const bool bounded = spec.end.kind != kafka::OffsetSpec::Kind::kEnd;
      const auto future = o.wait ? kafka::FutureOffsets::kWait : kafka::FutureOffsets::kFail;
      for (const auto& r : kafka::resolve_ranges(consumer, {spec}, o.kafka.timeout(), future)) {
        if (bounded && r.size() == 0) continue;
        kafka::TopicPartition tp{r.topic, r.partition};
        RangeQueue& ranges = open[tp];
        // A partition given again is read again, after its earlier ranges.
        if (ranges.empty()) assignment.push_back({r.topic, r.partition, r.start});
        ranges.emplace_back(r.start, bounded ? r.end : INT64_MAX);
      }
    }
    if (!assignment.empty()) consumer.assign(assignment);
  }

  // Drops the finished first range of `tp`; moves to its next one (seeking
  // unless it continues where the finished one ended). Returns true when it
  // seeked: what this poll returned for `tp` after that is stale.
  auto finish_range = [&](const kafka::TopicPartition& tp) {
    RangeQueue& ranges = open[tp];
    const int64_t finished_end = ranges.front().second;
    ranges.pop_front();
    if (ranges.empty()) {
      open.erase(tp);
      return false;
    }
    if (ranges.front().first == finished_end) return false;
    kafka::throw_if_error(consumer.seek({tp.topic, tp.partition, ranges.front().first}, o.kafka.timeout()),
                          "seeking " + tp.topic + ":" + std::to_string(tp.partition) + " to offset " +
                              std::to_string(ranges.front().first));
    return true;
  };

  int64_t printed = 0;
  bool done = !group_mode && open.empty();
  std::set<kafka::TopicPartition> at_end;  // group mode with -e
  auto last_record = started;
  while (!done && !stop_requested()) {
    std::set<kafka::TopicPartition> seeked;  // in this poll
    for (auto& m : consumer.poll_batch(1000, kafka::milliseconds(100))) {
      kafka::TopicPartition tp{m.topic(), m.partition()};
      if (seeked.count(tp)) continue;
      if (m.is_eof()) {
        if (o.exit_at_end && !group_mode && open.count(tp) && finish_range(tp)) seeked.insert(tp);
        if (o.exit_at_end && group_mode) {
          at_end.insert(tp);
          auto assigned = consumer.assignment();
          done = !assigned.empty() && std::all_of(assigned.begin(), assigned.end(),
                                                  [&](const auto& a) { return at_end.count(a) > 0; });
        }
        continue;
      }
      if (kafka::KafkaError err = m.error()) {
        if (err.code() == -140 /* _AUTO_OFFSET_RESET */ || err.code() == 1 /* OFFSET_OUT_OF_RANGE */) {
          throw DataLossError("requested records of " + tp.topic + ":" + std::to_string(tp.partition) +
                              " are no longer in the log: " + err.message());
        }
        if (err.is_fatal()) throw kafka::KafkaException(err.code(), err.message());
        log_warn("consumer: {}", err.message());
        continue;
      }
      last_record = Clock::now();
      bool print_it = group_mode;
      if (!group_mode) {
        // Offsets a partition does not deliver (transaction markers,
        // compaction) are gaps: a range is complete once a later offset came.
        while (open.count(tp)) {
          const auto [start, end] = open[tp].front();
          if (m.offset() < start) break;  // before the range
          if (m.offset() < end) {
            print_it = true;
            if (m.offset() + 1 < end) break;
          }
          if (finish_range(tp)) {
            seeked.insert(tp);
            break;
          }
          if (print_it) break;  // the next range continues after this record
        }
      }
      if (!print_it) continue;
      print(o.format, m);
      next_commit[tp] = m.offset() + 1;
      at_end.erase(tp);
      if (o.count >= 0 && ++printed >= o.count) {
        done = true;
        break;
      }
    }
    if (!group_mode && open.empty()) done = true;
    if (!done && o.stream_timeout_ms >= 0) {
      const auto quiet_since = !group_mode ? last_record
                               : assigned_at ? std::max(last_record, *assigned_at)
                                             : last_record + kJoinGrace;
      if (Clock::now() - quiet_since >= std::chrono::milliseconds(o.stream_timeout_ms)) {
        log_info("consume: no record for {} ms (--stream-timeout): stopping", o.stream_timeout_ms);
        done = true;
      }
    }
  }
  std::fflush(stdout);
  if (group_mode && !next_commit.empty()) {
    std::vector<kafka::TopicPartitionOffset> offsets;
    for (const auto& [tp, off] : next_commit) offsets.push_back({tp.topic, tp.partition, off});
    kafka::throw_if_error(consumer.commit(offsets), "committing offsets of group '" + o.group + "'");
  }
  consumer.close();
  return kExitOk;
}

RunFunction setup(CLI::App& sub) {
  auto o = std::make_shared<ConsumeOptions>();
  o->kafka.add_to(sub);
  sub.add_option("specs", o->specs, "topic[:partition[:start[:end]]] (end inclusive; beginning|end|N|@unix-ms)");
  sub.add_option("-t,--topic", o->topic, "Topic to read (kcat style; with -p and -o)");
  sub.add_option("-p,--partition", o->partition, "With -t: partition (default: every partition)")
      ->check(CLI::NonNegativeNumber);
  sub.add_option("-o,--offset", o->offset, "With -t: start at beginning, end, N, -N (N before the end) or s@UNIX_MS "
                                           "(default: beginning)");
  sub.add_option("-G,--group", o->group, "Consume as this consumer group (commits what it printed)");
  sub.add_flag("-e", o->exit_at_end, "Exit at the end of each partition");
  sub.add_flag("--wait", o->wait, "Wait for range offsets not produced yet (default: fail at once naming them)");
  sub.add_option("-c,--count", o->count, "Exit after this many messages (at least 1; default: no limit)")
      ->check(at_least_check(1, "give at least 1 (omit -c for no limit)", "COUNT>=1"));
  sub.add_option("--stream-timeout", o->stream_timeout_ms,
                 "Stop after this many ms without a record (with -G counted from the group's assignment; "
                 "-1: never)")
      ->check(stream_timeout_check());
  add_on_data_loss_option(sub, o->on_data_loss);
  sub.add_option("-f,--format", o->format, "Output format: %t topic %p partition %o offset %k key %s value "
                                           "%S size %T timestamp %h headers, \\n \\t")
      ->capture_default_str();
  set_examples(sub, {"streamml consume -b localhost:9092 -t events -p 0 -o beginning -e",
                     "streamml consume -b localhost:9092 events:0:100:199 -f '%o %k %s\\n'",
                     "streamml consume -b localhost:9092 -G readers -e events"});
  return [o] { return run(*o); };
}

}  // namespace

STREAMML_REGISTER_COMMAND("consume", "Print records of topic ranges or a consumer group", 40, setup);

}  // namespace streamml::cli
