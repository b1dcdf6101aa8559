#include "plan/precision.h"

#include "trellis/error.h"

namespace trellis::plan {

double Precision::state_bytes_per_parameter(int zero, int data) const {
  const double whole = parameter_bytes + gradient_bytes;
  if (zero == 0) return whole + optimizer_bytes;
  return whole + (optimizer_bytes + sharded_extra_bytes) / data;
}

Precision precision_for(const std::string& dtype) {
  if (dtype == "fp32") return Precision{"fp32", 4, 4, 4, 8, 4, 28};
  // AdamW reads the gradient and the f32 master weight and moments (12), writes those (12) and
  // the 16-bit copy (2).
  if (dtype == "bf16") return Precision{dtype, 2, 2, 4, 12, 0, 4 + 24 + 2};
  if (dtype == "fp16") return Precision{dtype, 2, 2, 2, 12, 0, 2 + 24 + 2};
  throw InputError("no precision model for dtype '" + dtype + "'; valid: fp32, bf16, fp16");
}

Precision trellis_device_precision(bool bf16) {
  Precision p = precision_for("fp32");
  if (bf16) p.dtype = "bf16-products";
  return p;
}

}  // namespace trellis::plan
