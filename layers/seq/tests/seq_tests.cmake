# The seq family's tests: its gradients against one rank at tensor 2 and 4, and trainings under
# sequence-parallel layouts against the single-rank run (harnesses in tests/parallel).
trellis_family_gradient_tests(seq 2 4)
trellis_family_llama_gradient_tests(seq 2 4)
trellis_family_moe_gradient_tests(seq 2 4)
trellis_layout_tests("seq-tensor2" "seq-tensor2-pipeline2-zbh1" "seq-tensor4" "seq-tensor2-data2"
                     "seq-tensor2-context2" "moe-seq-tensor2")
