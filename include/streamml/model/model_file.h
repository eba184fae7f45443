// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The model file format: the one place that knows its header. Model::save()
// and Model::load() (model/model.h) write and read whole files; the serving
// layer and the CLI recognise files and name their content with the
// functions here. No LibTorch: any translation unit can include this header.
//
// Model file format (version kModelFormatVersion = 1):
//
//   offset  size  field
//   0       8     magic "SMLMODEL"
//   8       4     format version, uint32 little-endian
//   12      8     payload length in bytes, uint64 little-endian
//   20      4     CRC-32 (IEEE, as zlib) of the payload, uint32 little-endian
//   24      n     payload: a torch::serialize archive (the zip archive written
//                 by torch::serialize::OutputArchive) with these entries:
//     streamml_version   str        version of streamml that wrote the file
//     task               str        Task::to_string(), e.g. "multiclass:3"
//     kind               str        "mlp" or "torchscript"
//     model_spec         str        ModelSpec::to_string() (mlp), or ""
//     num_features       int
//     feature_names      List[str]
//     decoder_spec       str        data::Decoder spec of the training records
//     standardize        bool
//     stats_mean/stats_std  Tensor  float [num_features], absent without stats
//     offset_topics      List[str]  topic-partitions with the next offset to
//     offset_partitions  List[int]  train on (Model::offsets()), as three
//     offset_offsets     List[int]  parallel lists
//     metadata_keys      List[str]  free-form metadata, as two parallel lists
//     metadata_values    List[str]
//     network            archive    mlp only: torch::nn::Sequential::save
//     torchscript        Tensor     torchscript only: uint8 bytes of
//                                   torch::jit::Module::save (a zip archive)
//     optimizer_kind     str        "", "sgd", "adam" or "adamw"
//     optimizer          Tensor     uint8 bytes of the torch::serialize archive
//                                   of torch::optim::Optimizer::save (only when
//                                   optimizer_kind is not "")
//
// The header makes truncation, corruption and files from newer versions
// detectable before LibTorch parses anything; readers reject a version they
// do not know with an InputError naming the file. Compatibility: a reader of
// version N reads every version <= N; adding an entry that older readers can
// ignore needs no new version, removing one or changing its meaning does.
//
// Thread-safety: every function here is pure or reads its file only; all are
// safe to call concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace streamml::model {

// The newest format version this build writes and reads.
inline constexpr uint32_t kModelFormatVersion = 1;

// Header layout (offsets and sizes in bytes).
inline constexpr std::string_view kModelFileMagic = "SMLMODEL";
inline constexpr size_t kModelFileVersionOffset = 8;
inline constexpr size_t kModelFileLengthOffset = 12;
inline constexpr size_t kModelFileCrcOffset = 20;
inline constexpr size_t kModelFileHeaderSize = 24;

// The fixed-size header in front of the payload.
struct ModelFileHeader {
  uint32_t format_version = kModelFormatVersion;
  uint64_t payload_length = 0;
  uint32_t payload_crc = 0;  // model_file_crc32() of the payload
};

// CRC-32 (IEEE 802.3, the checksum of zlib and gzip) of `bytes`.
uint32_t model_file_crc32(std::string_view bytes);

// The kModelFileHeaderSize bytes of a file holding `payload` in the current
// format version (kModelFormatVersion).
std::string encode_model_file_header(std::string_view payload);

// Reads the header fields of `file`. Precondition: file.size() >=
// kModelFileHeaderSize. Checks nothing (neither magic, nor version, nor CRC):
// the reader (Model::deserialize) does, with its own error messages.
ModelFileHeader decode_model_file_header(std::string_view file);

// True when `file` is at least a header long and starts with the magic.
bool has_model_file_magic(std::string_view file);

// True when the file at `path` can be opened and starts with the magic.
// False (never throws) for a missing or unreadable file, a directory, a
// file shorter than the magic or any other content. Reads 8 bytes only: a
// true result does not mean the rest of the file is intact.
bool is_model_file(const std::string& path);

// A version id of a model file's content: "crc-" and the 8 lowercase hex
// digits of the payload CRC stored in its header. Equal bytes give equal
// ids; a change of the payload changes the id (up to CRC-32 collisions).
// Throws InputError naming `name` when `file` is not a model file (shorter
// than the header or without the magic). Does not verify the CRC: use it on
// files that Model::deserialize accepted.
std::string content_id(std::string_view file, const std::string& name = "<memory>");

}  // namespace streamml::model
