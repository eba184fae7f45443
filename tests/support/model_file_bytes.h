// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Writes streamml model files byte by byte, for tests and fuzz targets that
// build valid or deliberately damaged files without going through Model:
// "SMLMODEL", format version (u32 LE), payload size (u64 LE), CRC-32 of the
// payload (u32 LE), then the payload (a LibTorch archive). Header-only; links
// LibTorch through its user.
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace streamml::testing {

inline uint32_t crc32(std::string_view data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : data) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
  }
  return crc ^ 0xFFFFFFFFu;
}

template <typename T>
void put_le(std::string& out, T value) {
  for (size_t i = 0; i < sizeof(T); ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
}

// A model file (format version 1) whose payload is `archive`.
inline std::string model_file_of(torch::serialize::OutputArchive& archive) {
  std::string payload;
  archive.save_to([&payload](const void* data, size_t size) -> size_t {
    payload.append(static_cast<const char*>(data), size);
    return size;
  });
  std::string file = "SMLMODEL";
  put_le<uint32_t>(file, 1);
  put_le<uint64_t>(file, payload.size());
  put_le<uint32_t>(file, crc32(payload));
  return file + payload;
}

}  // namespace streamml::testing
