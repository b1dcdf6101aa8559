// TrellisTransport: the benchmark's operations through a Trellis Communicator, each started and
// then waited for (the figures are those of a caller that needs the result before going on).
#pragma once

#include <memory>

#include "bench_transport.h"
#include "trellis/comm.h"

namespace trellis::bench {

class TrellisTransport final : public BenchTransport {
 public:
  TrellisTransport(Communicator& comm, std::shared_ptr<Allocator> allocator);

  int rank() const override { return comm_.rank(); }
  int size() const override { return comm_.size(); }
  std::string cannot(BenchOp op, bool in_place) const override;
  void run(const BenchCall& call) override;
  double max_over_ranks(double value) override;
  std::int64_t sum_over_ranks(std::int64_t value) override;
  void barrier() override;

 private:
  // Starts `call`; an Error from the call itself (not from waiting) is a refusal.
  WorkPtr start(const BenchCall& call);

  Communicator& comm_;
  std::shared_ptr<Allocator> allocator_;
  Tensor scalar_f32_;
  Tensor scalar_i32_;
};

}  // namespace trellis::bench
