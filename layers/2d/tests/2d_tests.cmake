# The 2d family's tests: its gradients against one rank on a 2 x 2 grid, and trainings under 2d
# layouts against the single-rank run (harnesses in tests/parallel).
trellis_family_gradient_tests(2d 4)
trellis_layout_tests("2d-tensor4" "2d-tensor4-pipeline2-1f1b" "2d-tensor4-context2")
