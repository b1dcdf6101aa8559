// A rank program for the sanitizer build's own tests (cmake/TrellisSanitize.cmake): rank 1 reads
// one byte past a heap allocation, every other rank exits 0. The tests run it under trellis-run
// and under trellis-run --mpirun and require the run to fail with the sanitizers' exit status and
// the report to be written: a finding in any one rank fails the whole run.
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace {

// UBSan's object-size check would see the read first and print to stderr; this program is about
// ASan's report file.
__attribute__((no_sanitize("undefined"))) int read_past_the_end() {
  volatile char* bytes = new char[8];
  volatile std::size_t past_the_end = 8;  // unknown to the compiler, which would warn
  const int value = bytes[past_the_end];
  delete[] bytes;
  return value;
}

}  // namespace

int main() {
  const char* rank = std::getenv("TRELLIS_RANK");
  if (rank == nullptr) rank = std::getenv("OMPI_COMM_WORLD_RANK");  // under mpirun
  if (rank == nullptr || std::strcmp(rank, "1") != 0) return 0;
  return read_past_the_end();
}
