// Copyright streamml authors. Licensed under the Apache License 2.0.
#include <optional>

#include "streamml/train/trainer.h"

namespace streamml::train {

int64_t predict(model::Model& model, data::BatchSource& source, const Callbacks& callbacks) {
  int64_t records = 0;
  while (std::optional<data::Batch> batch = source.next()) {
    if (batch->empty()) continue;
    model::Predictions predictions = model.predict(*batch);
    for (Callback* cb : callbacks) cb->on_predict_batch_end(*batch, predictions);
    source.commit();
    records += static_cast<int64_t>(batch->size);
  }
  return records;
}

}  // namespace streamml::train
