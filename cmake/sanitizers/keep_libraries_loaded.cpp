// Linked into every executable of a TRELLIS_SANITIZE build (cmake/TrellisSanitize.cmake), and
// into nothing else: it interposes dlclose so that libraries Trellis does not build stay loaded
// until the process exits.
//
// Why: LeakSanitizer reports leaks at exit and names the library of each frame from what is
// loaded then. Open MPI closes its components (mca_*.so) in MPI_Finalize, and when Trellis
// unloads its mpi or ucx plugin the MPI and UCX libraries go with it; their allocations are then
// reported from "<unknown module>", which no suppression can name. Kept loaded, every such leak
// names its library, and cmake/sanitizers/lsan.supp suppresses it by that name.
//
// Trellis's own libraries (libtrellis_*: the core and every plugin, in-tree or not) are closed as
// in any build: the registry's unloading is part of what the tests check.
#include <dlfcn.h>
#include <link.h>

#include <cstring>

namespace {

bool is_trellis_library(const char* path) {
  const char* slash = std::strrchr(path, '/');
  const char* file = slash != nullptr ? slash + 1 : path;
  return std::strncmp(file, "libtrellis_", std::strlen("libtrellis_")) == 0;
}

}  // namespace

extern "C" int dlclose(void* handle) {
  using Dlclose = int (*)(void*);
  static const auto real_dlclose = reinterpret_cast<Dlclose>(::dlsym(RTLD_NEXT, "dlclose"));
  link_map* map = nullptr;
  if (::dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map != nullptr && map->l_name != nullptr &&
      !is_trellis_library(map->l_name)) {
    return 0;  // kept: the handle stays valid, as if another reference held the library
  }
  return real_dlclose(handle);
}
