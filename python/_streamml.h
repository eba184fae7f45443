// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Shared between the two translation units of the extension _streamml.
#pragma once

#include <pybind11/pybind11.h>

#include "streamml/kafka/config.h"

namespace streamml::python {

// A dict of librdkafka properties (values: str, int, float, bool) as a
// kafka::Config; None is empty. ConfigError names a bad property.
kafka::Config config_from(const pybind11::handle& value);

void register_exceptions(pybind11::module_& m);
void register_data(pybind11::module_& m);
void register_model(pybind11::module_& m);

}  // namespace streamml::python
