// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Decode throughput of the data layer's decoders, one core. Goal for CSV:
// >= 1M rows/s for 30 float features + a label. Reported as items/s (rows).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "streamml/data/decoder.h"

namespace {

constexpr int kFeatures = 30;
constexpr size_t kRows = 4096;

// `format` is printf's, for one feature and its comma.
std::vector<std::string> csv_rows(const char* format = "%f,") {
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 10.0f);
  std::vector<std::string> rows;
  char field[48];
  for (size_t r = 0; r < kRows; ++r) {
    std::string line;
    for (int c = 0; c < kFeatures; ++c) {
      std::snprintf(field, sizeof(field), format, static_cast<double>(normal(rng)));
      line += field;
    }
    line += std::to_string(r % 2);
    rows.push_back(std::move(line));
  }
  return rows;
}

std::vector<std::string> json_rows() {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 10.0f);
  std::vector<std::string> rows;
  for (size_t r = 0; r < kRows; ++r) {
    std::string doc = "{";
    for (int c = 0; c < kFeatures; ++c) doc += "\"f" + std::to_string(c) + "\":" + std::to_string(normal(rng)) + ",";
    doc += "\"y\":" + std::to_string(r % 2) + "}";
    rows.push_back(std::move(doc));
  }
  return rows;
}

void run(benchmark::State& state, const streamml::data::Decoder& decoder,
         const std::vector<std::string>& rows) {
  std::vector<float> features(decoder.num_features());
  std::vector<float> labels(decoder.num_labels());
  size_t i = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string& row = rows[i++ % rows.size()];
    auto error = decoder.decode(row, features.data(), labels.data());
    if (error) state.SkipWithError(error->c_str());
    bytes += row.size();
    benchmark::DoNotOptimize(features.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_CsvDecode30Features(benchmark::State& state) {
  static const std::vector<std::string> rows = csv_rows();
  auto decoder = streamml::data::make_decoder("csv:columns=31,label=30");
  run(state, *decoder, rows);
}
BENCHMARK(BM_CsvDecode30Features);

// Four decimals (~7.5 B a field, ~235 B a record): data_ingest_bench's records.
void BM_CsvDecode30Features4Decimals(benchmark::State& state) {
  static const std::vector<std::string> rows = csv_rows("%.4f,");
  auto decoder = streamml::data::make_decoder("csv:columns=31,label=30");
  run(state, *decoder, rows);
}
BENCHMARK(BM_CsvDecode30Features4Decimals);

void BM_CsvDecodeQuoted30Features(benchmark::State& state) {
  static const std::vector<std::string> rows = [] {
    std::vector<std::string> quoted;
    for (const std::string& line : csv_rows()) {
      std::string q = "\"";
      for (char c : line) q += c == ',' ? std::string("\",\"") : std::string(1, c);
      quoted.push_back(q + "\"");
    }
    return quoted;
  }();
  auto decoder = streamml::data::make_decoder("csv:columns=31,label=30");
  run(state, *decoder, rows);
}
BENCHMARK(BM_CsvDecodeQuoted30Features);

void BM_JsonDecode30Features(benchmark::State& state) {
  static const std::vector<std::string> rows = json_rows();
  std::string features;
  for (int c = 0; c < kFeatures; ++c) features += (c ? "+f" : "f") + std::to_string(c);
  auto decoder = streamml::data::make_decoder("json:features=" + features + ",label=y");
  run(state, *decoder, rows);
}
BENCHMARK(BM_JsonDecode30Features);

void BM_RawFloat32Decode(benchmark::State& state) {
  std::vector<std::string> rows(16, std::string(4 * (kFeatures + 1), '\x01'));
  auto decoder = streamml::data::make_decoder("raw:float32=31,label=30");
  run(state, *decoder, rows);
}
BENCHMARK(BM_RawFloat32Decode);

}  // namespace

BENCHMARK_MAIN();
