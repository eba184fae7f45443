// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Internal: spec -> decoder, one function per format (defined next to each
// decoder), dispatched by make_decoder().
#pragma once

#include <memory>
#include <span>
#include <string>

#include "streamml/data/decoder.h"
#include "streamml/data/decoder_spec.h"

namespace streamml::data::internal {

std::unique_ptr<Decoder> make_csv_decoder(const DecoderSpec& spec,
                                          std::span<const std::string> header);
// The delimiter a csv spec names (',' when none); ConfigError when invalid.
char csv_delimiter(const DecoderSpec& spec);
std::unique_ptr<Decoder> make_json_decoder(const DecoderSpec& spec);
std::unique_ptr<Decoder> make_avro_decoder(const DecoderSpec& spec);
std::unique_ptr<Decoder> make_raw_decoder(const DecoderSpec& spec);

}  // namespace streamml::data::internal
