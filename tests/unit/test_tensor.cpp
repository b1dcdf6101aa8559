// Tensors, shapes and the counting allocator.
#include <doctest/doctest.h>

#include <vector>

#include "trellis/error.h"
#include "trellis/tensor.h"

using trellis::DType;
using trellis::Shape;
using trellis::Tensor;

TEST_CASE("shapes hold up to six dimensions and count their elements") {
  Shape s{2, 3, 4};
  CHECK(s.rank() == 3);
  CHECK(s.numel() == 24);
  CHECK(s.str() == "[2, 3, 4]");
  CHECK(Shape{}.numel() == 1);
  CHECK(Shape{5, 0}.numel() == 0);
  CHECK(Shape{2, 3} == Shape{2, 3});
  CHECK_FALSE(Shape{2, 3} == Shape{3, 2});
  CHECK_THROWS_AS((Shape{1, 2, 3, 4, 5, 6, 7}), trellis::Error);
  CHECK_THROWS_AS((Shape{2, -1}), trellis::Error);
  CHECK_THROWS_AS(s[3], trellis::Error);
}

TEST_CASE("the allocator counts current and peak bytes") {
  auto alloc = trellis::make_cpu_allocator();
  CHECK(alloc->current_bytes() == 0);
  {
    Tensor a = Tensor::empty({256, 4}, DType::f32, alloc);  // 4096 bytes
    CHECK(alloc->current_bytes() == 4096);
    {
      Tensor b = Tensor::empty({1024}, DType::i32, alloc);  // 4096 bytes
      CHECK(alloc->current_bytes() == 8192);
      CHECK(reinterpret_cast<std::uintptr_t>(b.data_ptr()) % 64 == 0);
    }
    CHECK(alloc->current_bytes() == 4096);
    CHECK(alloc->peak_bytes() == 8192);
    Tensor copy = a;  // a handle: no new memory
    CHECK(alloc->current_bytes() == 4096);
    alloc->reset_peak();
    CHECK(alloc->peak_bytes() == 4096);
  }
  CHECK(alloc->current_bytes() == 0);
}

TEST_CASE("copies share storage; the memory lives until the last handle") {
  auto alloc = trellis::make_cpu_allocator();
  Tensor view;
  {
    Tensor t = Tensor::empty({4, 4}, DType::f32, alloc);
    for (int i = 0; i < 16; ++i) t.data<float>()[i] = static_cast<float>(i);
    view = t.narrow(0, 2, 2);
  }
  CHECK(alloc->current_bytes() == 64);
  CHECK(view.data<float>()[0] == 8.0f);
  view = Tensor();
  CHECK(alloc->current_bytes() == 0);
}

TEST_CASE("narrow along the first dimension stays contiguous; along others it strides") {
  auto alloc = trellis::make_cpu_allocator();
  Tensor t = Tensor::empty({3, 4}, DType::f32, alloc);
  for (int i = 0; i < 12; ++i) t.data<float>()[i] = static_cast<float>(i);

  Tensor rows = t.narrow(0, 1, 2);
  CHECK(rows.shape() == Shape{2, 4});
  CHECK(rows.is_contiguous());
  CHECK(rows.data<float>()[0] == 4.0f);
  CHECK(rows.shares_storage_with(t));

  Tensor cols = t.narrow(1, 1, 2);
  CHECK(cols.shape() == Shape{3, 2});
  CHECK_FALSE(cols.is_contiguous());
  CHECK(cols.strides() == Shape{4, 1});
  CHECK(cols.data<float>()[0] == 1.0f);
  CHECK(cols.data<float>()[cols.strides()[0]] == 5.0f);

  CHECK_THROWS_AS(t.narrow(1, 3, 2), trellis::Error);
  CHECK_THROWS_AS(t.narrow(2, 0, 1), trellis::Error);
  CHECK_THROWS_AS(cols.view({6}), trellis::Error);
}

TEST_CASE("view reshapes a contiguous tensor without copying") {
  auto alloc = trellis::make_cpu_allocator();
  Tensor t = Tensor::empty({2, 6}, DType::i32, alloc);
  Tensor v = t.view({3, 4});
  CHECK(v.shape() == Shape{3, 4});
  CHECK(v.data_ptr() == t.data_ptr());
  CHECK(v.strides() == Shape{4, 1});
  CHECK_THROWS_WITH_AS(t.view({5}), doctest::Contains("element counts differ"), trellis::Error);
}

TEST_CASE("data<T>() checks the element type") {
  auto alloc = trellis::make_cpu_allocator();
  Tensor t = Tensor::empty({4}, DType::i32, alloc);
  CHECK_NOTHROW(t.data<std::int32_t>());
  CHECK_THROWS_WITH_AS(t.data<float>(), doctest::Contains("holding i32"), trellis::Error);
  CHECK_THROWS_AS(Tensor().data<float>(), trellis::Error);
  CHECK(t.nbytes() == 16);
  CHECK(t.str() == "i32[4] on cpu");
}

TEST_CASE("borrowed memory is not freed by the tensor") {
  std::vector<float> buffer(8, 1.5f);
  {
    Tensor t = Tensor::borrow(buffer.data(), {2, 4}, DType::f32);
    t.data<float>()[3] = 2.0f;
    CHECK(t.device() == trellis::Device::cpu());
  }
  CHECK(buffer[3] == 2.0f);
}

TEST_CASE("devices print as cpu and cuda:N") {
  CHECK(trellis::Device::cpu().str() == "cpu");
  CHECK(trellis::Device::cuda(1).str() == "cuda:1");
  CHECK(trellis::dtype_size(DType::bf16) == 2);
}

TEST_CASE("freed blocks are reused: a repeated step takes nothing new from the system") {
  auto alloc = trellis::make_cpu_allocator();
  auto step = [&] {
    Tensor a = Tensor::empty({128, 64}, DType::f32, alloc);
    Tensor b = Tensor::empty({7}, DType::i32, alloc);
    Tensor c = Tensor::empty({128, 64}, DType::f32, alloc);
  };
  step();
  std::uint64_t after_first = alloc->device_allocations();
  CHECK(after_first == 3);
  for (int i = 0; i < 5; ++i) step();
  CHECK(alloc->device_allocations() == after_first);
  CHECK(alloc->current_bytes() == 0);
  CHECK(alloc->reserved_bytes() == 2 * 128 * 64 * 4 + 28);
  CHECK(alloc->peak_bytes() == 2 * 128 * 64 * 4 + 28);
}
