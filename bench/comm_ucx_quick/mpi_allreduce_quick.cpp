// Raw MPI_Allreduce, f32 sum, out of place: the yardstick for the ucx backend
// (run.sh runs both side by side). mpirun -n 2 mpi_allreduce_quick [MAX_BYTES]
#include <mpi.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "bench_sizes.h"

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  const std::size_t max_bytes = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 64u << 20;
  if (rank == 0) trellis::bench::print_header("MPI_Allreduce", ranks);
  for (std::size_t bytes : trellis::bench::all_reduce_sizes(max_bytes)) {
    const int count = static_cast<int>(bytes / sizeof(float));
    std::vector<float> in(static_cast<std::size_t>(count), 1.0f), out(in.size());
    const int iterations = trellis::bench::iterations_for(bytes);
    for (int i = 0; i < 5; ++i) {
      MPI_Allreduce(in.data(), out.data(), count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    const double start = MPI_Wtime();
    double best = 1e30, last = start;
    for (int i = 0; i < iterations; ++i) {
      MPI_Allreduce(in.data(), out.data(), count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
      const double now = MPI_Wtime();
      best = std::min(best, now - last);
      last = now;
    }
    const double seconds = (last - start) / iterations;
    if (rank == 0) trellis::bench::print_row(bytes, seconds, best, ranks);
  }
  MPI_Finalize();
  return 0;
}
