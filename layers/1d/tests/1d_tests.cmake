# The 1d family's tests: its gradients against one rank at tensor 2, and trainings under 1d
# layouts against the single-rank run (harnesses in tests/parallel).
trellis_family_gradient_tests(1d 2)
trellis_family_llama_gradient_tests(1d 2 4)
trellis_family_moe_gradient_tests(1d 2)
trellis_layout_tests("tensor2" "1d-tensor4" "moe-tensor2")
