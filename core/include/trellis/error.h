// Errors raised by Trellis and by plugins.
//
// Every error is a trellis::Error. Its class decides what the process does with it: InputError
// (a bad config, argument or file) exits with code 2 before any work starts; everything else
// exits with code 1. Messages are written for the user: they name the key, file, operation or
// peer concerned, say what is wrong and what would be valid.
#pragma once

#include <stdexcept>
#include <string>

namespace trellis {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad input: configuration, command-line arguments, files. Exit code 2.
class InputError : public Error {
 public:
  using Error::Error;
};

// A plugin could not be found, loaded or used as asked (unknown name, ABI mismatch, wrong kind).
// It is bad input: the run names plugins in its config.
class PluginError : public InputError {
 public:
  using InputError::InputError;
};

// A communication operation failed: a peer is gone, a backend call returned an error.
class CommError : public Error {
 public:
  using Error::Error;
};

// A wait ran past its timeout. The message names the operation, the group and the peer waited for.
class TimeoutError : public CommError {
 public:
  using CommError::CommError;
};

// The operation exists in the interface but this implementation does not provide it,
// e.g. "backend ucx does not support all_to_all".
class UnsupportedError : public Error {
 public:
  using Error::Error;
};

}  // namespace trellis
