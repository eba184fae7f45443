// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/distributed.h"

#include <fmt/format.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <csignal>
#include <cmath>
#include <cstring>
#include <thread>

#include <signal.h>

#include "streamml/common/logging.h"
#include "streamml/model/model.h"
#include "model/model_impl.h"
#include "train/distributed_impl.h"

namespace streamml::train {
namespace {

using Clock = std::chrono::steady_clock;

std::string first_line(const std::string& text) {
  const size_t nl = text.find('\n');
  return nl == std::string::npos ? text : text.substr(0, nl);
}

}  // namespace

struct ProcessGroup::Impl {
  DistributedOptions options;
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
  CollectiveStats stats;

  // Which ranks are gone, asked of the rendezvous store after a collective
  // failed: every rank that sees the failure says so under "failed/<rank>";
  // a rank that did not say so within a few seconds is named. When the store
  // itself does not answer, rank 0 (its host) is gone.
  std::string who_is_gone() {
    try {
      store->setTimeout(std::chrono::seconds(3));
      store->set("failed/" + std::to_string(options.rank), std::vector<uint8_t>{1});
    } catch (const std::exception&) {
      return "rank 0 (the rendezvous host) is gone";
    }
    std::vector<int> missing;
    const auto deadline = Clock::now() + std::chrono::seconds(3);
    while (true) {
      missing.clear();
      try {
        for (int r = 0; r < options.world_size; ++r) {
          if (r != options.rank && !store->check({"failed/" + std::to_string(r)})) missing.push_back(r);
        }
      } catch (const std::exception&) {
        return "rank 0 (the rendezvous host) is gone";
      }
      if (missing.empty() || Clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (missing.empty()) return "every rank reports the failure";
    std::string names;
    for (int r : missing) names += (names.empty() ? "" : ", ") + std::to_string(r);
    return fmt::format("rank{} {} {} gone (died, was stopped or stopped answering)", missing.size() > 1 ? "s" : "",
                       names, missing.size() > 1 ? "are" : "is");
  }

  [[noreturn]] void fail(const std::string& what, const std::exception& e) {
    const std::string gone = who_is_gone();
    throw DistributedError(fmt::format("rank {} of {}: {} failed: {} ({}; timeout {} ms)", options.rank,
                                       options.world_size, what, gone, first_line(e.what()),
                                       options.timeout.count()));
  }

  void wait(const c10::intrusive_ptr<c10d::Work>& work, const std::string& what) {
    try {
      work->wait();
    } catch (const std::exception& e) {
      fail(what, e);
    }
  }

  void broadcast(torch::Tensor& tensor, const std::string& what) {
    std::vector<torch::Tensor> tensors{tensor};
    c10::intrusive_ptr<c10d::Work> work;
    try {
      work = group->broadcast(tensors);
    } catch (const std::exception& e) {
      fail(what, e);
    }
    wait(work, what);
  }
};

void DistributedOptions::validate() const {
  if (world_size < 1) throw ConfigError(fmt::format("world size {} is invalid: use 1 or more ranks", world_size));
  if (rank < 0 || rank >= world_size) {
    throw ConfigError(fmt::format("rank {} is invalid for world size {}: use 0 to {}", rank, world_size,
                                  world_size - 1));
  }
  if (host.empty()) throw ConfigError("the rendezvous host is empty: use HOST:PORT");
  if (port == 0) throw ConfigError("rendezvous port 0 is invalid: use a port in 1..65535");
  if (timeout.count() <= 0) throw ConfigError("the distributed timeout must be > 0 ms");
  if (bucket_bytes < 1024) throw ConfigError("bucket_bytes must be >= 1024");
}

std::string DistributedOptions::rendezvous() const { return fmt::format("{}:{}", host, port); }

void parse_rendezvous(const std::string& text, DistributedOptions& options, const std::string& flag) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    throw ConfigError(fmt::format("{} '{}' is not HOST:PORT (e.g. 127.0.0.1:29500)", flag, text));
  }
  const std::string port = text.substr(colon + 1);
  int value = 0;
  try {
    size_t used = 0;
    value = std::stoi(port, &used);
    if (used != port.size()) value = -1;
  } catch (const std::exception&) {
    value = -1;
  }
  if (value < 1 || value > 65535) {
    throw ConfigError(fmt::format("{} '{}': port '{}' is not a number in 1..65535", flag, text, port));
  }
  options.host = text.substr(0, colon);
  if (options.host.size() > 2 && options.host.front() == '[' && options.host.back() == ']') {
    options.host = options.host.substr(1, options.host.size() - 2);
  }
  options.port = static_cast<uint16_t>(value);
}

ProcessGroup::ProcessGroup(DistributedOptions options) : impl_(std::make_unique<Impl>()) {
  options.validate();
  // Gloo and the store write to peers that may have closed (a rank that
  // finished or died): that must be an error, not a SIGPIPE that kills this
  // rank (Python, and so torchrun's workers, ignore SIGPIPE too).
  struct sigaction current {};
  if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) std::signal(SIGPIPE, SIG_IGN);
  Impl& d = *impl_;
  d.options = std::move(options);
  const DistributedOptions& o = d.options;
  log_info("distributed: rank {} of {} joining the group at {} (timeout {} ms)", o.rank, o.world_size,
           o.rendezvous(), o.timeout.count());
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = o.port;
    store_options.isServer = o.rank == 0;
    store_options.numWorkers = static_cast<size_t>(o.world_size);
    store_options.waitWorkers = false;
    store_options.timeout = o.timeout;
    d.store = c10::make_intrusive<c10d::TCPStore>(o.host, store_options);
  } catch (const std::exception& e) {
    throw DistributedError(fmt::format(
        "rank {} of {}: cannot {} the rendezvous store at {}: {}", o.rank, o.world_size,
        o.rank == 0 ? "start" : "reach", o.rendezvous(), first_line(e.what())));
  }
  try {
    auto gloo = c10d::ProcessGroupGloo::Options::create(o.timeout);
    // The interface that reaches the rendezvous host reaches the other ranks.
    gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(
        o.host == "localhost" ? std::string("127.0.0.1") : o.host));
    gloo->threads = 1;
    d.group = c10::make_intrusive<c10d::ProcessGroupGloo>(d.store, o.rank, o.world_size, gloo);
  } catch (const std::exception& e) {
    throw DistributedError(fmt::format("rank {} of {}: the {} ranks did not all join at {} within {} ms: {}", o.rank,
                                       o.world_size, o.world_size, o.rendezvous(), o.timeout.count(),
                                       first_line(e.what())));
  }
  log_info("distributed: rank {} of {} joined", o.rank, o.world_size);
}

ProcessGroup::~ProcessGroup() = default;

int ProcessGroup::rank() const { return impl_->options.rank; }
int ProcessGroup::world_size() const { return impl_->options.world_size; }
const DistributedOptions& ProcessGroup::options() const { return impl_->options; }
CollectiveStats ProcessGroup::stats() const { return impl_->stats; }

void ProcessGroup::broadcast_model(model::Model& model) {
  Impl& d = *impl_;
  std::string bytes = d.options.rank == 0 ? model.serialize() : std::string();
  torch::Tensor size = torch::tensor({static_cast<int64_t>(bytes.size())}, torch::kLong);
  d.broadcast(size, "broadcasting the model's size from rank 0");
  const int64_t n = size.item<int64_t>();
  torch::Tensor data = torch::empty({n}, torch::kUInt8);
  if (d.options.rank == 0) std::memcpy(data.data_ptr(), bytes.data(), bytes.size());
  d.broadcast(data, "broadcasting the model from rank 0");
  if (d.options.rank != 0) {
    model = model::Model::deserialize(
        std::string_view(static_cast<const char*>(data.data_ptr()), static_cast<size_t>(n)), "rank 0's model");
  }
  log_info("distributed: rank {} holds rank 0's model ({} bytes)", d.options.rank, n);
}

std::vector<double> ProcessGroup::all_reduce_sum(const std::vector<double>& values, const std::string& what) {
  Impl& d = *impl_;
  torch::Tensor t = torch::tensor(values, torch::kDouble);
  if (values.empty()) return {};
  std::vector<torch::Tensor> tensors{t};
  c10::intrusive_ptr<c10d::Work> work;
  try {
    work = d.group->allreduce(tensors);
  } catch (const std::exception& e) {
    d.fail(what, e);
  }
  d.wait(work, what);
  const double* p = t.data_ptr<double>();
  return std::vector<double>(p, p + values.size());
}

std::vector<std::string> ProcessGroup::all_gather(const std::string& text, const std::string& what) {
  Impl& d = *impl_;
  const int n = d.options.world_size;
  std::vector<double> sizes(static_cast<size_t>(n), 0.0);
  sizes[static_cast<size_t>(d.options.rank)] = static_cast<double>(text.size());
  sizes = all_reduce_sum(sizes, what);
  int64_t longest = 1;
  for (double s : sizes) longest = std::max<int64_t>(longest, static_cast<int64_t>(s));
  torch::Tensor mine = torch::zeros({longest}, torch::kUInt8);
  std::memcpy(mine.data_ptr(), text.data(), text.size());
  std::vector<std::vector<torch::Tensor>> outputs(1);
  for (int r = 0; r < n; ++r) outputs[0].push_back(torch::empty({longest}, torch::kUInt8));
  std::vector<torch::Tensor> inputs{mine};
  c10::intrusive_ptr<c10d::Work> work;
  try {
    work = d.group->allgather(outputs, inputs);
  } catch (const std::exception& e) {
    d.fail(what, e);
  }
  d.wait(work, what);
  std::vector<std::string> out;
  for (int r = 0; r < n; ++r) {
    out.emplace_back(static_cast<const char*>(outputs[0][static_cast<size_t>(r)].data_ptr()),
                     static_cast<size_t>(sizes[static_cast<size_t>(r)]));
  }
  return out;
}

void ProcessGroup::barrier(const std::string& what) { all_reduce_sum({1.0}, what); }

double weights_l2(model::Model& model) {
  torch::NoGradGuard no_grad;
  double sum = 0.0;
  for (const torch::Tensor& p : model::detail_impl(model).parameters()) {
    sum += p.to(torch::kDouble).pow(2).sum().item<double>();
  }
  return std::sqrt(sum);
}

namespace detail {

void all_reduce_gradients(ProcessGroup& group, std::vector<torch::Tensor>& grads, torch::Tensor& control,
                          int64_t step) {
  ProcessGroup::Impl& d = group.impl();
  const auto start = Clock::now();
  const std::string what = fmt::format("the gradient all-reduce of step {}", step);
  // Consecutive gradients share a bucket until it holds bucket_bytes.
  const int64_t bucket_elements = static_cast<int64_t>(d.options.bucket_bytes / sizeof(float));
  std::vector<std::pair<size_t, size_t>> ranges;  // [first, last) gradient of each bucket
  int64_t in_bucket = 0;
  for (size_t i = 0; i < grads.size(); ++i) {
    if (ranges.empty() || (in_bucket > 0 && in_bucket + grads[i].numel() > bucket_elements)) {
      ranges.push_back({i, i});
      in_bucket = 0;
    }
    ranges.back().second = i + 1;
    in_bucket += grads[i].numel();
  }
  std::vector<torch::Tensor> flats;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  try {
    std::vector<torch::Tensor> control_list{control};
    works.push_back(d.group->allreduce(control_list));
    for (const auto& [first, last] : ranges) {
      std::vector<torch::Tensor> parts;
      for (size_t i = first; i < last; ++i) parts.push_back(grads[i].reshape({-1}));
      flats.push_back(torch::cat(parts));
      std::vector<torch::Tensor> bucket{flats.back()};
      works.push_back(d.group->allreduce(bucket));
      d.stats.gradient_bytes += flats.back().numel() * static_cast<int64_t>(sizeof(float));
    }
  } catch (const std::exception& e) {
    d.fail(what, e);
  }
  for (const auto& work : works) d.wait(work, what);
  for (size_t b = 0; b < ranges.size(); ++b) {
    int64_t offset = 0;
    for (size_t i = ranges[b].first; i < ranges[b].second; ++i) {
      const int64_t n = grads[i].numel();
      grads[i].copy_(flats[b].slice(0, offset, offset + n).view_as(grads[i]));
      offset += n;
    }
  }
  ++d.stats.gradient_reductions;
  d.stats.buckets += static_cast<int64_t>(ranges.size());
  d.stats.gradient_seconds += std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace detail
}  // namespace streamml::train
