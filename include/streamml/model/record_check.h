// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The check that makes a data source treat a record a model cannot use as a
// bad record, so that its bad-record policy (fail, skip, dead-letter) covers
// invalid records as it covers undecodable ones.
#pragma once

#include <string>
#include <vector>

#include "streamml/data/bad_record.h"
#include "streamml/model/task.h"

namespace streamml::model {

// Rejects a feature that is not finite (nan, inf, or a number beyond float
// range such as 1e39) and, in records with one label, a label outside `task`
// (Task::check_label). Records without labels (prediction) are checked for
// their features only. `feature_names` name the features in the reasons
// (their index where a name is missing). The check is immutable: it may run
// on any thread.
data::RecordCheck usable_record_check(const Task& task, std::vector<std::string> feature_names = {});

}  // namespace streamml::model
