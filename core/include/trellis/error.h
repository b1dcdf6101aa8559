// Errors raised by Trellis and by plugins.
//
// Every error is a trellis::Error. Its class decides what the process does with it: InputError
// (a bad config, argument or file) exits with code 2 before any work starts; everything else
// exits with code 1. Messages are written for the user: they name the key, file, operation or
// peer concerned, say what is wrong and what would be valid.
#pragma once

#include <stdexcept>
#include <string>

// Error classes are exported from libtrellis_sdk with their vtables and type information
// defined there once (the out-of-line destructors are their key functions). An exception a
// plugin throws therefore never points into the plugin's own code, so it stays valid after the
// plugin is unloaded, and it is caught by type in core like any other.
#define TRELLIS_EXPORT __attribute__((visibility("default")))

namespace trellis {

class TRELLIS_EXPORT Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  ~Error() override;
};

// Bad input: configuration, command-line arguments, files. Exit code 2.
class TRELLIS_EXPORT InputError : public Error {
 public:
  using Error::Error;
  ~InputError() override;
};

// A plugin could not be found, loaded or used as asked (unknown name, ABI mismatch, wrong kind).
// It is bad input: the run names plugins in its config.
class TRELLIS_EXPORT PluginError : public InputError {
 public:
  using InputError::InputError;
  ~PluginError() override;
};

// A communication operation failed: a peer is gone, a backend call returned an error.
class TRELLIS_EXPORT CommError : public Error {
 public:
  using Error::Error;
  ~CommError() override;
};

// A wait ran past its timeout. The message names the operation, the group and the peer waited for.
class TRELLIS_EXPORT TimeoutError : public CommError {
 public:
  using CommError::CommError;
  ~TimeoutError() override;
};

// The operation exists in the interface but this implementation does not provide it,
// e.g. "backend ucx does not support all_to_all".
class TRELLIS_EXPORT UnsupportedError : public Error {
 public:
  using Error::Error;
  ~UnsupportedError() override;
};

// An allocation would take a rank's tensors past the memory limit it runs under ([device]
// memory_limit_mb, Allocator::set_limit). The message names the limit, what is held and the tensor.
class TRELLIS_EXPORT MemoryLimitError : public Error {
 public:
  using Error::Error;
  ~MemoryLimitError() override;
};

}  // namespace trellis
