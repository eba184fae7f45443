// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// streamml demo: the horse race end to end (see docs/horse_race.md). Without
// --step it runs everything on one cluster (embedded unless -b): history to
// Kafka, training from it, live races in accelerated real time, the ranking
// service, the leaderboard and the report. With --step it runs one step
// against any broker, so the same pipeline can be run by hand:
//   history -> train -> (serve & live & leaderboard).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "cli_common.h"
#include "command.h"
#include "horse_race/demo_log_file.h"
#include "horse_race/race_demo.h"
#include "horse_race/race_models.h"
#include "horse_race/race_web.h"
#include "horse_race/ranking_service.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/serve/processor.h"

namespace streamml::cli {
namespace {

struct DemoCliOptions {
  KafkaOptions kafka;
  std::string step = "all";
  uint64_t seed = 42;
  size_t history_races = 500;
  size_t live_races = 200;
  double speed = 20.0;
  size_t concurrent = 20;
  std::string out = "demo-out";
  std::string topic_prefix = "race";
  std::string model_spec = "mlp:32,16";
  int epochs = 4;
  size_t tick_stride = 4;
  bool quiet = false;
  bool plain = false;
  int64_t idle_timeout_ms = 30000;
  int web_port = -1;  // --web: serve the race page on this port (0: any free one); -1: no page
  std::string web_bind = "127.0.0.1";
};

std::string topic(const DemoCliOptions& o, const char* suffix) { return o.topic_prefix + "-" + suffix; }
std::string out_file(const DemoCliOptions& o, const char* name) {
  return (std::filesystem::path(o.out) / name).string();
}
int64_t first_live_race(const DemoCliOptions& o) { return static_cast<int64_t>(o.history_races) + 1; }

demo::RaceModelOptions model_options(const DemoCliOptions& o) {
  demo::RaceModelOptions m;
  m.spec = o.model_spec;
  m.epochs = o.epochs;
  m.tick_stride = o.tick_stride;
  m.seed = o.seed;
  return m;
}

demo::LeaderboardPrinter::Mode printer_mode(const DemoCliOptions& o) {
  return o.plain ? demo::LeaderboardPrinter::Mode::kLines : demo::LeaderboardPrinter::Mode::kAuto;
}

// Sends every log line to <out>/demo.log while the board is on the terminal, and says so in one line.
std::unique_ptr<demo::DemoLogFile> log_to_out_dir(const DemoCliOptions& o) {
  auto log = std::make_unique<demo::DemoLogFile>(out_file(o, "demo.log"));
  std::printf("streamml demo: logs go to %s\n", log->path().c_str());
  std::fflush(stdout);
  return log;
}

// --web: the race page, serving before the demo starts so that a browser can open it at once; says where.
std::unique_ptr<demo::RaceWebServer> start_web(const DemoCliOptions& o) {
  if (o.web_port < 0) return nullptr;
  std::unique_ptr<demo::RaceWebServer> web;
  try {
    web = std::make_unique<demo::RaceWebServer>(demo::RaceWebOptions{.host = o.web_bind, .port = o.web_port});
  } catch (const Error& e) {
    throw ConfigError(fmt::format("--web {} --web-bind {}: {}", o.web_port, o.web_bind, e.what()));
  }
  std::printf("streamml demo: the race live at %s\n", web->url().c_str());
  std::fflush(stdout);
  return web;
}

int run_all(DemoCliOptions& o, const std::atomic<bool>& stop) {
  const auto log = log_to_out_dir(o);
  const auto web = start_web(o);
  demo::DemoOptions d;
  d.brokers = o.kafka.brokers;
  d.properties = o.kafka.properties;
  d.seed = o.seed;
  d.history_races = o.history_races;
  d.live_races = o.live_races;
  d.live.speed = o.speed;
  d.live.concurrent_races = o.concurrent;
  d.model = model_options(o);
  d.topic_prefix = o.topic_prefix;
  d.out_dir = o.out;
  d.quiet = o.quiet;
  d.mode = printer_mode(o);
  d.observer = web.get();
  const demo::DemoSummary s = demo::run_demo(d, stop);
  if (web) web->finish();  // the open pages get the final state before the server goes
  std::printf("\n%s", s.report.text.c_str());
  std::printf("\nDemo finished in %.1f s: %zu history records, %zu live records, %zu rankings (%zu rejected). "
              "Report: %s, chart: %s, log: %s\n",
              s.seconds, s.history_records, s.live_records, s.rankings, s.rejected, out_file(o, "report.md").c_str(),
              s.report.chart_svg.empty() ? "(none)" : out_file(o, "late_surge.svg").c_str(), log->path().c_str());
  if (stop.load()) return kExitFailure;
  return s.rankings >= s.live_records && s.probability_sum_violations == 0 ? kExitOk : kExitFailure;
}

int run_history(DemoCliOptions& o) {
  const kafka::Config config = o.kafka.make_config();
  const std::string t = topic(o, "history");
  const size_t bytes = demo::race_history_bytes(o.seed, 1, o.history_races);
  demo::create_race_topic(config, t, demo::partitions_for_bytes(bytes), /*reuse=*/false);
  const size_t n = demo::produce_races(config, t, o.seed, 1, o.history_races);
  std::printf("produced %zu history races (%zu records) to %s\n", o.history_races, n, t.c_str());
  return kExitOk;
}

int run_train(DemoCliOptions& o) {
  const kafka::Config config = o.kafka.make_config();
  const demo::RaceModelOptions m = model_options(o);
  demo::RaceTrainingSet training(m.tick_stride);
  const demo::RaceHistoryStats read =
      demo::read_race_history(config, {topic(o, "history")}, [&](const demo::RecordedRace& r) { training.add(r); });
  std::filesystem::create_directories(o.out);
  for (const auto set : {demo::FeatureSet::kLive, demo::FeatureSet::kFormOnly}) {
    model::Model model = training.train(set, m);
    model.set_offsets(read.offsets);
    const std::string path =
        out_file(o, set == demo::FeatureSet::kLive ? "live_model.smlm" : "form_model.smlm");
    model.save(path);
    std::printf("trained %s on %zu races (%zu rows) from %s\n", path.c_str(), read.races, training.rows(set),
                topic(o, "history").c_str());
  }
  return kExitOk;
}

// The live and rankings topics, sized for the live races (created by whichever step starts first: the service
// needs both to exist before it subscribes, the leaderboard reads the rankings topic).
void ensure_live_topic(const kafka::Config& config, const DemoCliOptions& o, const std::vector<demo::Race>& races) {
  demo::create_race_topic(config, topic(o, "live"), demo::partitions_for_bytes(demo::race_live_bytes(races)),
                          /*reuse=*/true);
}
void ensure_rankings_topic(const kafka::Config& config, const DemoCliOptions& o,
                           const std::vector<demo::Race>& races) {
  demo::create_race_topic(config, topic(o, "rankings"), demo::partitions_for_bytes(demo::race_rankings_bytes(races)),
                          /*reuse=*/true);
}

int run_live(DemoCliOptions& o, const std::atomic<bool>& stop) {
  const kafka::Config config = o.kafka.make_config();
  if (stop.load()) return kExitFailure;  // interrupted while it started
  const std::vector<demo::Race> races = demo::simulate_races(o.seed, first_live_race(o), o.live_races);
  ensure_live_topic(config, o, races);
  const size_t n = demo::stream_live_races(config, topic(o, "live"), races,
                                           demo::LiveStreamOptions{.speed = o.speed, .concurrent_races = o.concurrent},
                                           stop);
  std::printf("streamed %zu live races (%zu records) to %s\n", races.size(), n, topic(o, "live").c_str());
  return stop.load() ? kExitFailure : kExitOk;
}

// The ranking service (serve::Server with the race processor) until --idle-timeout ms pass without input.
int run_serve(DemoCliOptions& o, const std::atomic<bool>& stop) {
  const kafka::Config config = o.kafka.make_config();
  if (stop.load()) return kExitOk;  // stopped while it started, like `serve`
  const std::string path = out_file(o, "live_model.smlm");
  auto model = std::make_shared<model::Model>(model::Model::load(path));
  serve::ProcessorFactory factory = demo::race_ranking_factory(model, demo::RaceRankingOptions{.version = path});
  const std::vector<demo::Race> races = demo::simulate_races(o.seed, first_live_race(o), o.live_races);
  ensure_live_topic(config, o, races);
  ensure_rankings_topic(config, o, races);
  demo::RankingServiceOptions s;
  s.input_topic = topic(o, "live");
  s.output_topic = topic(o, "rankings");
  s.group = o.topic_prefix + "-ranking-service";
  s.metrics_interval_ms = 5000;  // a metrics line on stderr every 5 s while it serves
  demo::RankingService service(config, s, std::move(factory));
  // Say when the group has assigned the live partitions, so that a script starts the live races only then
  // and the group join (~3 s) stays out of the latency figures (docs/horse_race.md).
  if (service.wait_until_assigned(stop, std::chrono::seconds(60))) {
    std::printf("ranking service: serving %s (%zu partitions assigned)\n", s.input_topic.c_str(),
                service.stats().assigned_partitions);
    std::fflush(stdout);
  }
  service.wait_until_idle(stop, std::chrono::milliseconds(o.idle_timeout_ms));
  const serve::ServerStats stats = service.stop();
  std::printf("ranking service: %llu records in, %llu rankings out, %llu rejected\n",
              static_cast<unsigned long long>(stats.records_in), static_cast<unsigned long long>(stats.records_out),
              static_cast<unsigned long long>(stats.rejected));
  return kExitOk;
}

int run_leaderboard_step(DemoCliOptions& o, const std::atomic<bool>& stop) {
  const auto log = log_to_out_dir(o);
  const auto web = start_web(o);
  const kafka::Config config = o.kafka.make_config();
  if (stop.load()) return kExitFailure;  // interrupted while it started
  const std::vector<demo::Race> races = demo::simulate_races(o.seed, first_live_race(o), o.live_races);
  std::map<int64_t, int32_t> winners;
  size_t expected = 0;
  for (const auto& r : races) {
    winners[r.race_id] = r.result.winner();
    expected += r.num_records();
  }
  ensure_rankings_topic(config, o, races);
  auto form_model = std::make_shared<model::Model>(model::Model::load(out_file(o, "form_model.smlm")));
  if (demo::race_model_feature_set(*form_model) != demo::FeatureSet::kFormOnly) {
    throw InputError(out_file(o, "form_model.smlm") + " is not a pre-race (form) model");
  }
  demo::LeaderboardRunOptions b;
  b.topic = topic(o, "rankings");
  b.expected_rankings = expected;
  b.idle_timeout_ms = o.idle_timeout_ms;
  b.out = stdout;
  b.quiet = o.quiet;
  b.mode = printer_mode(o);
  b.observer = web.get();
  const demo::LeaderboardResult board = demo::run_leaderboard(config, b, winners, stop);
  if (web) web->finish();
  const demo::DemoReport report = demo::make_demo_report(
      board.traces, races, demo::model_scorer(form_model), board.latencies_us,
      {fmt::format("seed {}, live races {}..{}, rankings from '{}'", o.seed, first_live_race(o),
                   first_live_race(o) + static_cast<int64_t>(o.live_races) - 1, b.topic)});
  std::filesystem::create_directories(o.out);
  std::ofstream(out_file(o, "report.md")) << report.markdown;
  if (!report.chart_svg.empty()) std::ofstream(out_file(o, "late_surge.svg")) << report.chart_svg;
  std::printf("\n%s\nReport: %s\n", report.text.c_str(), out_file(o, "report.md").c_str());
  return board.rankings >= expected && board.probability_sum_violations == 0 ? kExitOk : kExitFailure;
}

int run(DemoCliOptions& o) {
  if (o.step == "all") {
    install_stop_signals();
    return run_all(o, stop_flag());
  }
  if (o.kafka.brokers.empty()) throw ConfigError("--step " + o.step + " needs -b BROKERS");
  if (o.web_port >= 0 && o.step != "leaderboard") throw ConfigError("--web shows --step all or leaderboard only");
  if (o.step == "history" || o.step == "train") {
    // Short batch steps with no stop flag: a signal ends them at once.
    restore_stop_signals();
    return o.step == "history" ? run_history(o) : run_train(o);
  }
  install_stop_signals();
  if (o.step == "live") return run_live(o, stop_flag());
  if (o.step == "serve") return run_serve(o, stop_flag());
  if (o.step == "leaderboard") return run_leaderboard_step(o, stop_flag());
  throw ConfigError("--step '" + o.step + "': expected all, history, train, live, serve or leaderboard");
}

RunFunction setup(CLI::App& sub) {
  auto o = std::make_shared<DemoCliOptions>();
  o->kafka.add_to(sub, /*brokers_required=*/false);
  sub.add_option("--step", o->step, "all | history | train | live | serve | leaderboard")->capture_default_str();
  sub.add_option("--seed", o->seed, "Simulator seed (same seed, same races)")->capture_default_str();
  sub.add_option("--history-races", o->history_races, "Races in the history topic")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub.add_option("--live-races", o->live_races, "Live races")->capture_default_str()->check(CLI::PositiveNumber);
  sub.add_option("--speed", o->speed, "Race time runs this many times faster than real time")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub.add_option("--concurrent-races", o->concurrent, "About this many live races run at once")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub.add_option("--out", o->out, "Output directory (report.md, late_surge.svg, model files)")->capture_default_str();
  sub.add_option("--topic-prefix", o->topic_prefix, "Topics <prefix>-history, -live, -rankings")
      ->capture_default_str();
  sub.add_option("--model", o->model_spec, "Network of both models")->capture_default_str();
  sub.add_option("--epochs", o->epochs, "Training epochs")->capture_default_str()->check(CLI::PositiveNumber);
  sub.add_option("--tick-stride", o->tick_stride, "Live model trains on every n-th tick")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub.add_option("--idle-timeout", o->idle_timeout_ms, "serve/leaderboard steps: stop after this many ms without input")
      ->capture_default_str();
  sub.add_flag("--quiet", o->quiet, "Only a periodic summary instead of the live board");
  sub.add_flag("--plain", o->plain, "Plain lines even on a terminal");
  sub.add_option("--web", o->web_port,
                 "all and leaderboard steps: show the race in a browser at http://127.0.0.1:PORT/ (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->type_name("PORT");
  sub.add_option("--web-bind", o->web_bind, "Address the --web page listens on")
      ->capture_default_str()
      ->type_name("ADDR");
  set_examples(sub, {"streamml demo", "streamml demo --history-races 100 --live-races 20 --web 8080",
                     "streamml demo -b localhost:9092 --step leaderboard --web 8080"});
  return [o] { return run(*o); };
}

}  // namespace

STREAMML_REGISTER_COMMAND("demo", "The horse race end to end: history, training, live ranking, leaderboard, report",
                          80, setup);

}  // namespace streamml::cli
