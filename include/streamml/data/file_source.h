// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// FileSource: a BatchSource over CSV and JSON-lines files, read in order and
// streamed (memory is bounded by one batch plus one line). Records are
// decoded with the same decoders as Kafka records; the CSV header is read
// from each file when the spec has the `header` flag.
#pragma once

#include <cstddef>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "streamml/data/bad_record.h"
#include "streamml/data/batch.h"
#include "streamml/data/decoder.h"

namespace streamml::data {

// Receives the records a kDeadLetter policy rejects: where, the raw line,
// and why.
using DeadLetterSink =
    std::function<void(const RecordMeta& meta, std::string_view payload, std::string_view reason)>;

struct FileSourceOptions {
  std::vector<std::string> paths;       // files, read in this order (at least one)
  std::string decoder_spec;             // csv:... or json:... (one JSON document per line)
  size_t batch_size = 32;               // rows per batch (>= 1); the last one may be smaller
  BadRecordPolicy bad_records = BadRecordPolicy::kFail;  // undecodable lines, and those failing `check`
  RecordCheck check;                    // rejects decoded records (e.g. non-finite values); empty = none
  DeadLetterSink dead_letter;           // required with kDeadLetter
  size_t max_reported = BadRecordCounter::kDefaultMaxExamples;  // bad lines kept in report()
};

// RecordMeta of each row: topic = the file path, partition = -1, offset =
// the 1-based line number where the record starts.
// Thread-safety: not thread-safe (one consumer thread), like every BatchSource.
class FileSource final : public BatchSource {
 public:
  // Throws ConfigError for invalid options or spec (batch_size 0, no paths,
  // a format other than csv/json, kDeadLetter without a sink), InputError
  // naming the file when one cannot be opened or its header is unusable.
  explicit FileSource(FileSourceOptions options);
  ~FileSource() override;

  // Throws InputError "file:line: reason" for a bad record under kFail, and
  // InputError naming the file when it cannot be read.
  std::optional<Batch> next() override;
  // Rewinds to the first record of the first file: the next epoch yields the
  // same records in the same order. Clears the bad-record report.
  void reset() override;

  size_t num_features() const override { return decoder_->num_features(); }
  size_t num_labels() const override { return decoder_->num_labels(); }
  std::vector<std::string> feature_names() const override { return decoder_->feature_names(); }
  std::string decoder_spec() const override { return decoder_->spec(); }

  // Bad records of the current epoch (kSkip and kDeadLetter).
  BadRecordReport report() const { return bad_.report(); }
  // Rows returned in the current epoch.
  uint64_t rows() const { return rows_; }

 private:
  bool open_file(size_t index);
  bool read_record(std::string& record, int64_t& line_number);

  FileSourceOptions options_;
  bool csv_ = false;
  bool header_ = false;
  std::unique_ptr<Decoder> decoder_;       // the first file's decoder (spec, widths)
  std::unique_ptr<Decoder> file_decoder_;  // the current file's (header resolved per file)
  size_t file_index_ = 0;
  std::ifstream in_;
  bool open_ = false;
  int64_t line_ = 0;  // lines read from the current file
  std::string line_buffer_;
  uint64_t rows_ = 0;
  BadRecordCounter bad_;
  bool reported_ = false;  // the epoch's bad records were logged
};

}  // namespace streamml::data
