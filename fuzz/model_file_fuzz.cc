// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The model-file reader (model::Model::deserialize, which Model::load uses)
// on arbitrary bytes. Every input is read twice: as given, which exercises the
// header checks, and, when it starts with the magic, with its length and CRC
// fields rewritten to match, so that mutations reach LibTorch's archive
// parser and the entry checks behind it. A read either throws InputError or
// gives a model that predicts, summarises and round-trips through serialize().
// Seeds: model_file_seed writes small valid model files (scripts/fuzz.sh).
//
// Known limit, in LibTorch: its unpickler allocates and zero-fills whatever
// string length an archive claims before reading the string, so a crafted
// file (a damaged one fails the CRC first) can make torch::jit::load use
// gigabytes before it fails with an InputError. streamml cannot bound that
// allocation; scripts/fuzz.sh runs this target with -ignore_ooms (fork mode),
// so such inputs are saved (oom-*) but do not fail the run.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "streamml/common/error.h"
#include "streamml/data/batch.h"
#include "streamml/model/model.h"

namespace {

constexpr char kMagic[8] = {'S', 'M', 'L', 'M', 'O', 'D', 'E', 'L'};
constexpr size_t kHeaderSize = 24;

uint32_t crc32(std::string_view data) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : data) crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

void put_le(std::string& out, size_t at, uint64_t value, size_t size) {
  for (size_t i = 0; i < size; ++i) out[at + i] = static_cast<char>((value >> (8 * i)) & 0xFF);
}

void use(streamml::model::Model& model) {
  const size_t n = model.num_features();
  if (n > 4096) return;  // keep each run fast; the reader itself ran already
  streamml::data::Batch batch;
  batch.size = 2;
  batch.num_features = n;
  batch.features.assign(2 * n, 0.5f);
  batch.meta.resize(2);
  try {
    const auto predictions = model.predict(batch);
    if (predictions.size != 2) std::abort();
  } catch (const streamml::InputError&) {
    // e.g. a TorchScript module that does not take this input: named, not a crash
  }
  (void)model.summary();
  const std::string again = model.serialize();
  (void)streamml::model::Model::deserialize(again, "<round trip>");  // must not throw
}

void read(std::string_view bytes) {
  try {
    auto model = streamml::model::Model::deserialize(bytes, "fuzz");
    use(model);
  } catch (const streamml::InputError& e) {
    if (std::string_view(e.what()).empty()) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  read(bytes);
  if (size >= kHeaderSize && std::memcmp(data, kMagic, sizeof(kMagic)) == 0) {
    std::string fixed(bytes);
    put_le(fixed, 8, 1, 4);  // format version
    put_le(fixed, 12, size - kHeaderSize, 8);
    put_le(fixed, 20, crc32(bytes.substr(kHeaderSize)), 4);
    read(fixed);
  }
  return 0;
}
