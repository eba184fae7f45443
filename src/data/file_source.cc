// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/file_source.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <span>

#include "data/decoder_factories.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/data/csv_decoder.h"
#include "streamml/data/decoder_spec.h"

namespace streamml::data {

namespace {
// Longest CSV record, in bytes, that quoted line breaks may build.
constexpr size_t kMaxJoinedRecordBytes = 1 << 20;
}  // namespace

FileSource::FileSource(FileSourceOptions options)
    : options_(std::move(options)), bad_(options_.max_reported) {
  if (options_.paths.empty()) throw ConfigError("file source: no input file given");
  if (options_.batch_size == 0) throw ConfigError("file source: option 'batch_size' must be >= 1");
  if (options_.bad_records == BadRecordPolicy::kDeadLetter && !options_.dead_letter) {
    throw ConfigError(
        "file source: bad-record policy dead-letter needs a dead-letter sink (use skip or fail "
        "for files)");
  }
  const DecoderSpec spec = DecoderSpec::parse(options_.decoder_spec);
  if (spec.format() == "csv") {
    csv_ = true;
    header_ = spec.has("header");
  } else if (spec.format() != "json") {
    throw ConfigError("file source: decoder spec \"" + options_.decoder_spec +
                      "\": files hold csv or json (one document per line), not " + spec.format());
  }
  // Fail early on a missing file rather than mid-epoch.
  for (const std::string& path : options_.paths) {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) {
      throw InputError("cannot open input file \"" + path + "\": " + std::strerror(errno));
    }
  }
  if (!header_) decoder_ = make_decoder(options_.decoder_spec);
  if (!open_file(0) && decoder_ == nullptr) {
    throw InputError("input file \"" + options_.paths[0] +
                     "\" is empty: the spec says it starts with a header line");
  }
  if (decoder_ == nullptr) decoder_ = make_decoder(file_decoder_->spec());
  log_debug("file source: {} file(s), decoder {}", options_.paths.size(), decoder_->spec());
}

FileSource::~FileSource() = default;

bool FileSource::open_file(size_t index) {
  file_index_ = index;
  in_.close();
  in_.clear();
  line_ = 0;
  const std::string& path = options_.paths[index];
  in_.open(path, std::ios::binary);
  if (!in_) throw InputError("cannot open input file \"" + path + "\": " + std::strerror(errno));
  open_ = true;
  if (!header_) {
    file_decoder_.reset();
    return true;
  }
  std::string header_line;
  int64_t header_at = 0;
  if (!read_record(header_line, header_at)) {
    // An empty file has no header and no records.
    file_decoder_.reset();
    return false;
  }
  std::string error;
  const DecoderSpec spec = DecoderSpec::parse(options_.decoder_spec);
  auto names = split_csv_line(header_line, internal::csv_delimiter(spec), &error);
  if (!names) throw InputError(fmt::format("{}:{}: unusable header: {}", path, header_at, error));
  try {
    const auto* first = dynamic_cast<const CsvDecoder*>(decoder_.get());
    if (first == nullptr) {
      file_decoder_ = make_decoder(options_.decoder_spec, *names);
    } else {
      // Later files (and later epochs) select the first file's columns by
      // name, so files may order their columns differently.
      CsvOptions csv = first->options();
      csv.names = std::move(*names);
      csv.num_columns = 0;
      csv.features.clear();
      csv.labels.clear();
      for (std::string& name : first->feature_names()) csv.features.push_back(ColumnRef::named(std::move(name)));
      for (std::string& name : first->label_names()) csv.labels.push_back(ColumnRef::named(std::move(name)));
      file_decoder_ = std::make_unique<CsvDecoder>(std::move(csv));
    }
  } catch (const ConfigError& e) {
    throw InputError(fmt::format("{}:{}: the header does not fit the decoder spec: {}", path,
                                 header_at, e.what()));
  }
  if (decoder_ != nullptr && (file_decoder_->feature_names() != decoder_->feature_names() ||
                              file_decoder_->label_names() != decoder_->label_names())) {
    throw InputError(fmt::format(
        "{}:{}: the header selects other columns than the first file \"{}\" (features {} vs {})",
        path, header_at, options_.paths[0], fmt::join(file_decoder_->feature_names(), "+"),
        fmt::join(decoder_->feature_names(), "+")));
  }
  return true;
}

bool FileSource::read_record(std::string& record, int64_t& line_number) {
  while (true) {
    if (!std::getline(in_, record)) {
      if (in_.bad()) {
        throw InputError(fmt::format("cannot read input file \"{}\" after line {}",
                                     options_.paths[file_index_], line_));
      }
      return false;
    }
    ++line_;
    line_number = line_;
    if (!record.empty() && record.back() == '\r') record.pop_back();
    if (record.empty()) continue;  // blank lines separate nothing
    // A quoted CSV field may hold line breaks: the record goes on.
    // Bounded: an unmatched quote cannot pull the rest of the file into one
    // record; past the bound the decoder reports the unterminated field.
    while (csv_ && record.size() < kMaxJoinedRecordBytes && csv_line_is_open(record) &&
           std::getline(in_, line_buffer_)) {
      ++line_;
      if (!line_buffer_.empty() && line_buffer_.back() == '\r') line_buffer_.pop_back();
      record += '\n';
      record += line_buffer_;
    }
    return true;
  }
}

std::optional<Batch> FileSource::next() {
  const Decoder& reference = *decoder_;
  const size_t nf = reference.num_features();
  const size_t nl = reference.num_labels();
  Batch batch;
  batch.num_features = nf;
  batch.num_labels = nl;
  batch.features.reserve(options_.batch_size * nf);
  batch.labels.reserve(options_.batch_size * nl);
  std::string record;
  while (batch.size < options_.batch_size) {
    if (!open_) {
      if (file_index_ + 1 >= options_.paths.size()) break;
      open_file(file_index_ + 1);
      continue;
    }
    int64_t line = 0;
    if (!read_record(record, line)) {
      in_.close();
      open_ = false;
      continue;
    }
    const Decoder& decoder = file_decoder_ != nullptr ? *file_decoder_ : reference;
    batch.features.resize((batch.size + 1) * nf);
    batch.labels.resize((batch.size + 1) * nl);
    auto error = decoder.decode(record, batch.features.data() + batch.size * nf,
                                nl == 0 ? nullptr : batch.labels.data() + batch.size * nl);
    RecordMeta meta;
    meta.topic = options_.paths[file_index_];
    meta.offset = line;
    if (!error && options_.check) {
      error = options_.check(std::span<const float>(batch.features.data() + batch.size * nf, nf),
                             std::span<const float>(batch.labels.data() + batch.size * nl, nl));
    }
    if (error) {
      batch.features.resize(batch.size * nf);
      batch.labels.resize(batch.size * nl);
      switch (options_.bad_records) {
        case BadRecordPolicy::kFail:
          throw InputError(meta.location() + ": " + *error);
        case BadRecordPolicy::kDeadLetter:
          options_.dead_letter(meta, record, *error);
          [[fallthrough]];
        case BadRecordPolicy::kSkip:
          bad_.add(meta.location(), *error);
          continue;
      }
    }
    batch.meta.push_back(std::move(meta));
    ++batch.size;
  }
  if (batch.size == 0) {
    if (!reported_) {
      reported_ = true;
      const BadRecordReport report = bad_.report();
      if (report.count > 0) {
        log_warn("file source: {} {}",
                 options_.bad_records == BadRecordPolicy::kSkip ? "skipped" : "dead-lettered", report.summary());
      }
    }
    return std::nullopt;
  }
  rows_ += batch.size;
  return batch;
}

void FileSource::reset() {
  in_.close();
  in_.clear();
  open_ = false;
  rows_ = 0;
  bad_.clear();
  reported_ = false;
  open_file(0);
}

}  // namespace streamml::data
