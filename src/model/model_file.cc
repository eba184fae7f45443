// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/model/model_file.h"

#include <fmt/format.h>

#include <array>
#include <fstream>

#include "streamml/common/error.h"

namespace streamml::model {
namespace {

static_assert(kModelFileMagic.size() == kModelFileVersionOffset);
static_assert(kModelFileVersionOffset + sizeof(uint32_t) == kModelFileLengthOffset);
static_assert(kModelFileLengthOffset + sizeof(uint64_t) == kModelFileCrcOffset);
static_assert(kModelFileCrcOffset + sizeof(uint32_t) == kModelFileHeaderSize);

template <typename T>
void put_le(std::string& out, T value) {
  for (size_t i = 0; i < sizeof(T); ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
}

template <typename T>
T get_le(std::string_view in, size_t at) {
  T value = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    value |= static_cast<T>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  }
  return value;
}

}  // namespace

uint32_t model_file_crc32(std::string_view bytes) {
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
  for (unsigned char byte : bytes) crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

std::string encode_model_file_header(std::string_view payload) {
  std::string header(kModelFileMagic);
  header.reserve(kModelFileHeaderSize);
  put_le<uint32_t>(header, kModelFormatVersion);
  put_le<uint64_t>(header, payload.size());
  put_le<uint32_t>(header, model_file_crc32(payload));
  return header;
}

ModelFileHeader decode_model_file_header(std::string_view file) {
  ModelFileHeader header;
  header.format_version = get_le<uint32_t>(file, kModelFileVersionOffset);
  header.payload_length = get_le<uint64_t>(file, kModelFileLengthOffset);
  header.payload_crc = get_le<uint32_t>(file, kModelFileCrcOffset);
  return header;
}

bool has_model_file_magic(std::string_view file) {
  return file.size() >= kModelFileHeaderSize && file.substr(0, kModelFileMagic.size()) == kModelFileMagic;
}

bool is_model_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::array<char, kModelFileMagic.size()> magic{};
  if (!in.read(magic.data(), magic.size())) return false;
  return std::string_view(magic.data(), magic.size()) == kModelFileMagic;
}

std::string content_id(std::string_view file, const std::string& name) {
  if (!has_model_file_magic(file)) {
    throw InputError(fmt::format("'{}' is not a streamml model file: no content id", name));
  }
  return fmt::format("crc-{:08x}", decode_model_file_header(file).payload_crc);
}

}  // namespace streamml::model
