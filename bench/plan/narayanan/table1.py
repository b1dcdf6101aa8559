"""Table 1 of Narayanan et al. 2021 ("Efficient Large-Scale Language Model Training on GPU
Clusters Using Megatron-LM", SC21, arXiv:2104.04473): GPT models from 1.7B to 1T parameters on
DGX A100 nodes, with the paper's tensor / pipeline sizes, GPU counts, batch sizes and the
achieved TFLOP/s per GPU. The micro batch sizes and interleaving (virtual stages = layers per
pipeline stage / --num-layers-per-virtual-pipeline-stage) are those of the paper's artifact,
examples/sc21/run_table_1.sh in NVIDIA/Megatron-LM; every run used full activation
recomputation, sequence length 2048 and a 51,200-token vocabulary (GPT-2's 50,257 padded).
"""

# name, heads, hidden, layers, tensor, pipeline, gpus, global batch, micro batch,
# virtual stages, published TFLOP/s per GPU
ROWS = [
    ("1.7B", 24, 2304, 24, 1, 1, 32, 512, 16, 1, 137),
    ("3.6B", 32, 3072, 30, 2, 1, 64, 512, 16, 1, 138),
    ("7.5B", 32, 4096, 36, 4, 1, 128, 512, 16, 1, 142),
    ("18.4B", 48, 6144, 40, 8, 1, 256, 1024, 8, 1, 135),
    ("39.1B", 64, 8192, 48, 8, 2, 512, 1536, 4, 1, 138),
    ("76.1B", 80, 10240, 60, 8, 4, 1024, 1792, 2, 3, 140),
    ("145.6B", 96, 12288, 80, 8, 8, 1536, 2304, 2, 2, 148),
    ("310.1B", 128, 16384, 96, 8, 16, 1920, 2160, 1, 2, 155),
    ("529.6B", 128, 20480, 105, 8, 35, 2520, 2520, 1, 3, 163),
    ("1008B", 160, 25600, 128, 8, 64, 3072, 3072, 1, 1, 163),
]
SEQ_LEN = 2048
VOCAB = 51200


def iteration_flops(row):
    """The paper's eq. 3: 96 B s l h^2 (1 + s/6h + V/16lh), recomputation counted."""
    _, _, h, l, _, _, _, batch, _, _, _ = row
    s, v = SEQ_LEN, VOCAB
    return 96 * batch * s * l * h * h * (1 + s / (6 * h) + v / (16 * l * h))


def published_step_seconds(row):
    """The iteration time the published TFLOP/s per GPU implies."""
    gpus, tflops = row[6], row[10]
    return iteration_flops(row) / (gpus * tflops * 1e12)
