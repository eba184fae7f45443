// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Project exceptions. Invalid configuration and unusable input discovered at
// construction throw one of these, with a message that names the option, file
// or record at fault. Expected outcomes on hot paths (timeouts, end of
// partition, one undecodable record) are values, never exceptions.
#pragma once

#include <stdexcept>
#include <string>

namespace streamml {

// Base of every exception streamml throws.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A configuration key, command-line option or spec string is invalid.
// The message names the key/option and why it was rejected.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// Input data (a file, a record, a model file) cannot be used. The message
// names the file or the record (topic, partition, offset).
class InputError : public Error {
 public:
  using Error::Error;
};

// Requested records are no longer in the log: retention moved the log start
// past them. Never skipped silently.
class DataLossError : public Error {
 public:
  using Error::Error;
};

}  // namespace streamml
