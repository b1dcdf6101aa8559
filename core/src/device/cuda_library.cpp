// Loading libtrellis_cuda on first use (cuda_library.h).
#include "device/cuda_library.h"

#include <dlfcn.h>

#include <filesystem>

#include "trellis/error.h"

namespace trellis {

namespace {

#ifdef TRELLIS_HAVE_CUDA
// Where libtrellis_sdk.so was loaded from: the CUDA library is built and installed beside it.
std::filesystem::path sdk_directory() {
  Dl_info info{};
  // make_cpu_allocator is defined in libtrellis_sdk.so.
  if (::dladdr(reinterpret_cast<void*>(&make_cpu_allocator), &info) == 0 ||
      info.dli_fname == nullptr) {
    return {};
  }
  return std::filesystem::path(info.dli_fname).parent_path();
}

// Loads the library once: the table, or why there is none. Never unloaded (a process that used
// the GPU keeps its runtime until it exits, as when it was linked in).
struct LoadedCudaLibrary {
  const CudaLibrary* table = nullptr;
  std::string problem;

  LoadedCudaLibrary() {
    const std::filesystem::path beside_sdk = sdk_directory() / cuda_library_file;
    // Beside the SDK first (the build tree, an install); else the loader's own search.
    void* handle = ::dlopen(beside_sdk.c_str(), RTLD_NOW | RTLD_LOCAL);
    std::string first_error;
    if (handle == nullptr) {
      const char* error = ::dlerror();
      first_error = error != nullptr ? error : "unknown error";
      handle = ::dlopen(cuda_library_file, RTLD_NOW | RTLD_LOCAL);
    }
    if (handle == nullptr) {
      problem = "the GPU library of this Trellis could not be loaded: " + first_error + " (" +
                cuda_library_file +
                ", built and installed beside libtrellis_sdk.so: build the target trellis_cuda, "
                "or install Trellis whole)";
      return;
    }
    using Entry = const CudaLibrary* (*)();
    auto entry = reinterpret_cast<Entry>(::dlsym(handle, cuda_library_entry));
    if (entry == nullptr) {
      problem = std::string(cuda_library_file) + " has no " + cuda_library_entry +
                ": not a Trellis GPU library";
      return;
    }
    const CudaLibrary* loaded = entry();
    if (loaded == nullptr || loaded->version != CudaLibrary::current_version) {
      problem = std::string(cuda_library_file) + " is of another Trellis build (table version " +
                std::to_string(loaded == nullptr ? 0 : loaded->version) + ", this one expects " +
                std::to_string(CudaLibrary::current_version) + "): rebuild it";
      return;
    }
    table = loaded;
  }
};
#endif

}  // namespace

const CudaLibrary* cuda_library(std::string& problem) {
#ifdef TRELLIS_HAVE_CUDA
  // Immutable once loaded; the first caller loads it, any others wait for that.
  static const LoadedCudaLibrary loaded;
  problem = loaded.problem;
  return loaded.table;
#else
  problem =
      "this Trellis was built without CUDA (configure found no CUDA toolkit; see TRELLIS_CUDA in "
      "the README)";
  return nullptr;
#endif
}

const CudaLibrary& loaded_cuda_library() {
  std::string problem;
  const CudaLibrary* library = cuda_library(problem);
  if (library == nullptr) throw Error(problem);
  return *library;
}

}  // namespace trellis
