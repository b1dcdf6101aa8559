// send/recv: a ring (to rank + 1, from rank - 1), a rank to itself, two tags between the same
// pair received in the opposite order to the sends, and every pair of ranks at once (recvs
// posted before the sends). A group of one has no peer (SelfCommunicator refuses both), so
// nothing is checked there.
#include <string>
#include <vector>

#include "suite.h"
#include "tensor_check.h"
#include "values.h"

namespace trellis::conformance {

namespace {

constexpr DType kDtypes[] = {DType::f32, DType::i32};

// The message `from` sends `to`, `shift` telling apart several between the same pair.
Tensor message(Suite& suite, DType dtype, int from, int to, std::int64_t n, int shift = 0) {
  Tensor tensor = Tensor::empty(Shape{n}, dtype, suite.allocator);
  fill(tensor, [&](std::int64_t i) { return message_value(dtype, from, to, i + shift); });
  return tensor;
}

std::string received(const Tensor& tensor, DType dtype, int from, int to, int shift = 0) {
  const std::string found =
      check(tensor, [&](std::int64_t i) { return message_value(dtype, from, to, i + shift); });
  return found.empty() ? found : "received from rank " + std::to_string(from) + ": " + found;
}

}  // namespace

void check_point_to_point(Suite& suite, Communicator& comm) {
  const int rank = comm.rank(), size = comm.size();
  if (size == 1) return;
  const int right = (rank + 1) % size, left = (rank + size - 1) % size;
  const std::string group = group_label(comm);

  for (DType dtype : kDtypes) {
    for (std::int64_t n : suite.counts) {
      const CaseId ring{"send/recv ring", dtype, n, Placement::single_buffer, group};
      suite.report.run(ring, [&] {
        const Tensor incoming = filled_tensor(suite.allocator, dtype, n, kUntouched);
        const Tensor outgoing = message(suite, dtype, rank, right, n);
        WorkPtr recv = comm.recv(incoming, left, 11);
        WorkPtr send = comm.send(outgoing, right, 11);
        recv->wait();
        send->wait();
        std::string wrong = received(incoming, dtype, left, rank);
        if (wrong.empty()) {
          const std::string changed = received(outgoing, dtype, rank, right);
          if (!changed.empty()) wrong = "the sent buffer changed: " + changed;
        }
        return wrong;
      });

      const CaseId to_self{"send/recv to self", dtype, n, Placement::single_buffer, group};
      suite.report.run(to_self, [&] {
        // The send first: a backend must not need the receive posted to start a send to itself.
        const Tensor outgoing = message(suite, dtype, rank, rank, n);
        const Tensor incoming = filled_tensor(suite.allocator, dtype, n, kUntouched);
        WorkPtr send = comm.send(outgoing, rank, 12);
        WorkPtr recv = comm.recv(incoming, rank, 12);
        recv->wait();
        send->wait();
        return received(incoming, dtype, rank, rank);
      });
    }
  }

  for (std::int64_t n : {std::int64_t{7}, std::int64_t{262147}}) {
    const CaseId tags{"send/recv two tags, received in reverse order", DType::i32, n,
                      Placement::single_buffer, group};
    suite.report.run(tags, [&] {
      const Tensor first = filled_tensor(suite.allocator, DType::i32, n, kUntouched);
      const Tensor second = filled_tensor(suite.allocator, DType::i32, n, kUntouched);
      WorkPtr recv_second = comm.recv(second, left, 22);
      WorkPtr recv_first = comm.recv(first, left, 21);
      WorkPtr send_first = comm.send(message(suite, DType::i32, rank, right, n, 0), right, 21);
      WorkPtr send_second = comm.send(message(suite, DType::i32, rank, right, n, 1), right, 22);
      recv_first->wait();
      recv_second->wait();
      send_second->wait();
      send_first->wait();
      std::string wrong = received(first, DType::i32, left, rank, 0);
      if (wrong.empty()) wrong = received(second, DType::i32, left, rank, 1);
      return wrong.empty() ? wrong : "tag mix-up: " + wrong;
    });

    const CaseId all_pairs{"send/recv every pair at once", DType::f32, n, Placement::single_buffer,
                           group};
    suite.report.run(all_pairs, [&] {
      std::vector<Tensor> incoming;
      std::vector<WorkPtr> recvs, sends;
      for (int peer = 0; peer < size; ++peer) {
        incoming.push_back(filled_tensor(suite.allocator, DType::f32, n, kUntouched));
        recvs.push_back(comm.recv(incoming.back(), peer, 31));
      }
      for (int k = 0; k < size; ++k) {
        const int peer = (rank + k) % size;  // not everyone sending to rank 0 first
        sends.push_back(comm.send(message(suite, DType::f32, rank, peer, n), peer, 31));
      }
      for (int peer = size - 1; peer >= 0; --peer) recvs[peer]->wait();
      for (WorkPtr& send : sends) send->wait();
      for (int peer = 0; peer < size; ++peer) {
        std::string wrong = received(incoming[peer], DType::f32, peer, rank);
        if (!wrong.empty()) return wrong;
      }
      return std::string();
    });
  }
}

}  // namespace trellis::conformance
