// OpTask: an algorithm written as a C++20 coroutine.
//
// Each collective algorithm is one coroutine function that posts transfers and co_awaits them,
// so it reads top to bottom like the textbook algorithm, while the rank stays free to progress
// other operations: the coroutine suspends whenever it must wait, and its Operation resumes it
// from Work::test()/wait_for() once what it waits for has happened. The task starts suspended
// (the Operation runs it to its first wait when it is registered) and stays suspended at its end,
// so the Operation decides when the frame (which owns the algorithm's scratch buffers) goes.
#pragma once

#include <coroutine>
#include <exception>
#include <utility>

namespace trellis::ucx {

class OpTask {
 public:
  struct promise_type {
    std::exception_ptr error;

    OpTask get_return_object() {
      return OpTask(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { error = std::current_exception(); }
  };

  OpTask() = default;
  explicit OpTask(std::coroutine_handle<promise_type> handle) : handle_(handle) {}
  OpTask(OpTask&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  OpTask& operator=(OpTask&& other) noexcept {
    if (this != &other) {
      if (handle_) handle_.destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  ~OpTask() {
    if (handle_) handle_.destroy();
  }

  bool valid() const noexcept { return static_cast<bool>(handle_); }
  bool finished() const noexcept { return !handle_ || handle_.done(); }

  // Runs the algorithm until it next waits or ends; rethrows what it threw.
  void resume() {
    handle_.resume();
    if (handle_.done() && handle_.promise().error) {
      std::rethrow_exception(handle_.promise().error);
    }
  }

 private:
  std::coroutine_handle<promise_type> handle_;
};

}  // namespace trellis::ucx
