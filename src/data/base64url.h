// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// base64url (RFC 4648 section 5: '-' and '_' for '+' and '/'), unpadded, as
// decoder specs carry inline binary such as an Avro schema (schema64=).
// Internal to the data layer. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace streamml::data::internal {

// Unpadded base64url of `bytes`.
std::string base64url_encode(std::string_view bytes);
// The bytes that `text` encodes; trailing '=' padding is tolerated. nullopt
// on a character outside the base64url alphabet or a bad length.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace streamml::data::internal
