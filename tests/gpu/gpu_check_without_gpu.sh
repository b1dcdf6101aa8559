#!/bin/sh
# scripts/gpu-check where no GPU is visible (CUDA_VISIBLE_DEVICES empty hides every GPU, also on
# a machine that has some): a summary with every check SKIP and the reason, exit 77, nothing
# built; a bad argument exits 2 with the usage.
#   gpu_check_without_gpu.sh SCRIPT WORK_DIR
script=$1
work=$2
fail() {
  echo "FAILED: $1"
  printf '%s\n' "$output"
  exit 1
}

rm -rf "$work"
output=$(CUDA_VISIBLE_DEVICES= "$script" --build-dir "$work/build" 2>&1)
code=$?
[ "$code" -eq 77 ] || fail "exit status $code, not 77"
for check in "build with CUDA" "ctest: test_cuda_device" "ctest: test_cuda_kernels" \
  "ctest: test_gpu_trainer " "ctest: test_gpu_trainer_two_gpus" "bf16 vs CPU training" \
  "nccl conformance, 1 rank" "GPT-2 124M bf16, 1 GPU"; do
  printf '%s\n' "$output" | grep -q "^$check.* SKIP .*no GPU: CUDA_VISIBLE_DEVICES=\"\" hides every GPU" ||
    fail "no SKIP row for '$check' with the reason"
done
if printf '%s\n' "$output" | grep -qE ' (PASS|FAIL) '; then fail "a check passed or failed"; fi
printf '%s\n' "$output" | grep -q "^Trellis GPU check: no GPU" || fail "no summary header"
[ ! -e "$work/build" ] || fail "it made $work/build without a GPU"

output=$("$script" --frobnicate 2>&1)
code=$?
[ "$code" -eq 2 ] || fail "a bad argument: exit status $code, not 2"
printf '%s\n' "$output" | grep -q "unknown argument '--frobnicate'" || fail "no message"
printf '%s\n' "$output" | grep -q "scripts/gpu-check \[--build-dir DIR\]" || fail "no usage"
echo "gpu-check without a GPU: every check SKIP, exit 77; a bad argument: exit 2"
