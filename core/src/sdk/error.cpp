// The key functions of the error classes: their vtables and type information live here, in
// libtrellis_sdk, and nowhere else (see trellis/error.h).
#include "trellis/error.h"

namespace trellis {

Error::~Error() = default;
InputError::~InputError() = default;
PluginError::~PluginError() = default;
CommError::~CommError() = default;
TimeoutError::~TimeoutError() = default;
UnsupportedError::~UnsupportedError() = default;
MemoryLimitError::~MemoryLimitError() = default;

}  // namespace trellis
