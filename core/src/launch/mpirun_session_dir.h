// A directory of one mpirun's own for Open MPI's session files (its MCA parameter
// orte_tmpdir_base), removed when the launch ends.
//
// Every mpirun of a user on a host otherwise shares one top directory, /tmp/ompi.<host>.<uid>,
// and the one that finishes last removes it: when two launches overlap (ctest -j, two jobs of a
// user), one can remove it between the other's creating it and creating its own pid directory
// inside, and that mpirun dies in orte_init ("unable to create the desired directory ...
// pid.N"). A directory per launch has no second owner.
#pragma once

#include <filesystem>

namespace trellis {

class MpirunSessionDir {
 public:
  // Creates a fresh directory under $TMPDIR (or /tmp). Throws Error when it cannot.
  MpirunSessionDir();
  ~MpirunSessionDir();
  MpirunSessionDir(const MpirunSessionDir&) = delete;
  MpirunSessionDir& operator=(const MpirunSessionDir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace trellis
