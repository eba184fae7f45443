// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// _streamml's model part: streamml.Model, export and import. Uses the model
// layer's public headers only (no LibTorch header; the model layer links it).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <string>

#include "_streamml.h"
#include "streamml/common/error.h"
#include "streamml/data/batch.h"
#include "streamml/model/model.h"
#include "streamml/model/torchscript_export.h"

namespace py = pybind11;

namespace streamml::python {
namespace {

// Predictions of `x` (float32 [n, num_features]): P(class 1) [n] (binary), probabilities [n, K] (multiclass), values
// [n] (regression); and the classes [n] (classification) or None.
std::pair<py::array, py::object> predict(model::Model& m, const py::array& input) {
  auto x = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(input);
  if (!x) throw ConfigError("predict needs a float array");
  const size_t width = m.num_features();
  if (x.ndim() != 2 || static_cast<size_t>(x.shape(1)) != width) {
    std::string shape;
    for (py::ssize_t i = 0; i < x.ndim(); ++i) shape += (i ? ", " : "") + std::to_string(x.shape(i));
    throw InputError("predict: the model reads " + std::to_string(width) + " features; the array has shape [" +
                     shape + "]");
  }
  data::Batch batch;
  batch.size = static_cast<size_t>(x.shape(0));
  batch.num_features = width;
  batch.features.assign(x.data(), x.data() + batch.size * width);
  model::Predictions p;
  {
    py::gil_scoped_release release;
    p = m.predict(batch);
  }
  const auto n = static_cast<py::ssize_t>(p.size);
  py::array_t<float> values = p.width() == 1 ? py::array_t<float>({n})
                                              : py::array_t<float>({n, static_cast<py::ssize_t>(p.width())});
  std::copy(p.values.begin(), p.values.end(), values.mutable_data());
  py::object classes = py::none();
  if (!p.classes.empty()) {
    py::array_t<int64_t> c({n});
    std::copy(p.classes.begin(), p.classes.end(), c.mutable_data());
    classes = c;
  }
  return {values, classes};
}

py::dict metadata_of(const model::Model& m) {
  py::dict out;
  out["task"] = m.task().to_string();
  out["kind"] = m.kind() == model::ModelKind::kMlp ? "mlp" : "torchscript";
  out["model_spec"] = m.kind() == model::ModelKind::kMlp ? m.spec().to_string() : std::string();
  out["decoder_spec"] = m.features().decoder_spec;
  out["num_features"] = m.num_features();
  out["feature_names"] = m.features().feature_names;
  out["standardize"] = m.standardizes();
  out["has_stats"] = m.has_stats();
  py::list offsets;
  for (const auto& o : m.offsets()) offsets.append(py::make_tuple(o.topic, o.partition, o.offset));
  out["offsets"] = offsets;
  out["saved_by_version"] = m.saved_by_version();
  out["extra"] = m.metadata();
  return out;
}

}  // namespace

void register_model(py::module_& m) {
  py::class_<model::Model>(m, "_Model")
      .def_static("load", [](const std::string& path) {
        py::gil_scoped_release release;
        return model::Model::load(path);
      })
      .def("predict", &predict)
      .def("metadata", &metadata_of)
      .def("summary", &model::Model::summary)
      .def("save", [](const model::Model& self, const std::string& path) {
        py::gil_scoped_release release;
        self.save(path);
      })
      .def("export", [](model::Model& self, const std::string& path) {
        py::gil_scoped_release release;
        model::export_torchscript(self, path);
      });
  m.def("_import_torchscript", [](const std::string& path, const std::string& decoder, const std::string& task) {
    py::gil_scoped_release release;
    return model::import_torchscript(path, decoder, task);
  });
}

}  // namespace streamml::python
