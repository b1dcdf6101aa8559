#!/usr/bin/python3
"""Generates the PyTorch reference ("golden") files that Trellis's tests compare against.

Run once, from anywhere, with the system Python that has PyTorch:

    /usr/bin/python3 tests/golden/make_golden.py

and commit tests/golden/data/. CI never runs this script: the tests only read its output.

Inputs (random tensors, initial weights, tokens) are drawn in float32 from fixed seeds and stored as
float32, exactly the numbers Trellis is given. Every reference result is then computed by PyTorch in
float64 from those float32 inputs and stored as float64, so a test measures the error of Trellis's
float32 arithmetic alone, not the sum of two float32 errors.

Files written to tests/golden/data/:
    kernels.golden         inputs, outputs and input gradients of every kernel in kernels.h
    tiny_gpt2.llmc.bin     a tiny GPT-2's initial weights as an llm.c checkpoint (version 3)
    tiny_tokens.bin        a token file in llm.c's format
    tiny_gpt2.hf/          the same initial weights as a Hugging Face GPT-2 directory (GPT2Model's
                           names, fp32, with the causal-mask buffers), hf_format.py
    tiny_gpt2.hf_bf16/     and as GPT2LMHeadModel's (prefix "transformer.", tied lm_head), bf16,
                           in two shards with model.safetensors.index.json
    tiny_gpt2.golden       that model's logits, loss and gradients for the first batch, and the
                           loss / grad norm of 5 AdamW steps
    tiny_gpt2_generate.golden  greedy continuations of 3 prompts by that model's initial weights
                           (float64), each step's logits and top-2 gap
    tiny_moe.golden        the same model with a mixture-of-experts MLP in block 0
                           (tests/golden/moe_reference.py: E 4, top 2, aux coefficient 0.01),
                           dropless ("dropless.") and with capacity factor 1 ("capacity."): the
                           initial weights, logits, loss, aux loss, routing counts and gradients
                           of the first batch, and loss / aux / grad norm of 5 AdamW steps
    tiny_llama.golden      a tiny LLaMA (tests/golden/llama_reference.py: RMSNorm, SwiGLU, rotary
                           positions, no biases, untied head; C 32, 4 heads, L 2, F 64) on the same
                           batches, with grouped-query attention ("gqa.": 2 kv heads, theta
                           500000, eps 1e-5) and multi-head ("mha.": theta 10000, eps 1e-6): sizes,
                           initial weights, logits, loss and gradients of the first batch, and
                           loss / grad norm of 5 AdamW steps
    tiny_llama.hf/         the "gqa." model's initial weights as a Hugging Face LlamaForCausalLM
                           directory (config.json, model.safetensors; the 97 real vocabulary rows)
    tiny_llama_generate.golden  greedy continuations of tiny_gpt2_generate.golden's prompts by the
                           "gqa." model's initial weights, as tiny_gpt2_generate.golden

transformers is not in the environment this script is run in (Debian's python3-torch), so the
check that tiny_llama.hf/ means the reference model in Hugging Face's convention
(check_llama_hf_directory) runs, without it, an independent re-implementation of transformers'
LlamaForCausalLM reading the Hugging Face names (hf_llama_logits) and demands the same logits to
1e-12; where transformers is importable, it loads the directory with LlamaForCausalLM instead.
"""

import copy
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import read_golden, write_golden  # noqa: E402
from hf_format import write_gpt2_directory, write_llama_directory  # noqa: E402
from llama_reference import LlamaDims, TinyLlama, check_term_magnitudes  # noqa: E402
from moe_reference import MoeMlp, init_moe, named_moe  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
F64 = torch.float64


def randn(gen, *shape, scale=1.0, shift=0.0):
    """float32 normal samples from `gen` (the stored inputs)."""
    return torch.randn(*shape, generator=gen, dtype=torch.float32) * scale + shift


def leaf(t):
    """A float64 copy of a float32 input that autograd tracks."""
    return t.to(F64).requires_grad_(True)


# ---------------------------------------------------------------------------------------------
# Kernels: each case records its sizes, inputs, outputs and gradients under "<kernel>.<name>".
# ---------------------------------------------------------------------------------------------


def linear_case(gen, out):
    # out[N,OC] = x[N,C] @ w[OC,C]^T + b[OC]
    N, C, OC = 37, 24, 40
    x, w, b = randn(gen, N, C), randn(gen, OC, C, scale=0.2), randn(gen, OC, scale=0.1)
    dout = randn(gen, N, OC)
    xd, wd, bd = leaf(x), leaf(w), leaf(b)
    y = F.linear(xd, wd, bd)
    y.backward(dout.to(F64))
    out.update({"linear.x": x, "linear.w": w, "linear.b": b, "linear.dout": dout})
    out.update({"linear.out": y, "linear.dx": xd.grad, "linear.dw": wd.grad, "linear.db": bd.grad})


def layernorm_case(gen, out):
    # x[N,C] -> out[N,C]; rows given a mean and spread away from 0 and 1 so both matter, and
    # a few rows of variance ~1e-5, where eps changes the result by a third.
    N, C = 37, 24
    x = randn(gen, N, C, scale=2.0, shift=3.0)
    x[:4] = randn(gen, 4, C, scale=0.003)
    w, b = randn(gen, C, scale=0.5, shift=1.0), randn(gen, C, scale=0.3)
    dout = randn(gen, N, C)
    xd, wd, bd = leaf(x), leaf(w), leaf(b)
    y = F.layer_norm(xd, (C,), wd, bd, eps=1e-5)
    y.backward(dout.to(F64))
    mean = xd.detach().mean(dim=1)
    rstd = 1.0 / torch.sqrt(xd.detach().var(dim=1, unbiased=False) + 1e-5)
    out.update({"layernorm.x": x, "layernorm.w": w, "layernorm.b": b, "layernorm.dout": dout})
    out.update({"layernorm.out": y, "layernorm.mean": mean, "layernorm.rstd": rstd})
    out.update({"layernorm.dx": xd.grad, "layernorm.dw": wd.grad, "layernorm.db": bd.grad})


def gelu_case(gen, out):
    # Wide inputs (|x| up to ~10) reach both tails of the tanh.
    N, C = 37, 24
    x, dout = randn(gen, N, C, scale=3.0), randn(gen, N, C)
    xd = leaf(x)
    y = F.gelu(xd, approximate="tanh")
    y.backward(dout.to(F64))
    out.update({"gelu.x": x, "gelu.dout": dout, "gelu.out": y, "gelu.dx": xd.grad})


def attention_reference(qkv, heads):
    """Causal self-attention on qkv[B,T,3C]; returns out[B,T,C] and probs[B,NH,T,T]."""
    B, T, C3 = qkv.shape
    C = C3 // 3
    hs = C // heads
    q, k, v = qkv.split(C, dim=2)
    q, k, v = (t.reshape(B, T, heads, hs).transpose(1, 2) for t in (q, k, v))  # [B,NH,T,hs]
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    probs = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
    y = (probs @ v).transpose(1, 2).reshape(B, T, C)
    return y, probs


def attention_case(gen, out):
    B, T, C, NH = 2, 13, 24, 3
    qkv, dout = randn(gen, B, T, 3 * C), randn(gen, B, T, C)
    qd = leaf(qkv)
    y, probs = attention_reference(qd, NH)
    y.backward(dout.to(F64))
    out.update({"attention.heads": np.int32(NH), "attention.qkv": qkv, "attention.dout": dout})
    out.update({"attention.out": y, "attention.probs": probs, "attention.dqkv": qd.grad})


def embedding_case(gen, out):
    # tokens[B,T] -> wte[tok] + wpe[t], with T < maxT and repeated tokens (whose rows of dwte sum).
    B, T, C, rows, maxT = 3, 11, 24, 40, 16
    tokens = torch.randint(0, rows, (B, T), generator=gen, dtype=torch.int32)
    tokens[0, 5] = tokens[0, 0]
    tokens[1, 0] = tokens[0, 0]
    tokens[2, 7] = tokens[1, 3]
    tokens[2, 10] = rows - 1
    tokens[1, 9] = 0
    wte, wpe, dout = randn(gen, rows, C), randn(gen, maxT, C), randn(gen, B, T, C)
    ted, ped = leaf(wte), leaf(wpe)
    tok = tokens.long()
    y = ted[tok] + ped[:T].unsqueeze(0)
    y.backward(dout.to(F64))
    out.update({"embedding.tokens": tokens, "embedding.wte": wte, "embedding.wpe": wpe})
    out.update({"embedding.dout": dout, "embedding.out": y})
    out.update({"embedding.dwte": ted.grad, "embedding.dwpe": ped.grad})

    # A vocabulary shard: rows standing for ids [vocab_begin, vocab_begin + shard_rows); tokens
    # outside it contribute zero to the output and receive no gradient.
    vocab_begin, shard_rows = 13, 14
    shard = leaf(wte[vocab_begin : vocab_begin + shard_rows])
    ped = leaf(wpe)
    inside = (tok >= vocab_begin) & (tok < vocab_begin + shard_rows)
    assert inside.any() and (~inside).any()
    local = torch.where(inside, tok - vocab_begin, torch.zeros_like(tok))
    y = shard[local] * inside.unsqueeze(-1) + ped[:T].unsqueeze(0)
    y.backward(dout.to(F64))
    out.update({"embedding.shard.vocab_begin": np.int32(vocab_begin)})
    out.update({"embedding.shard.wte": wte[vocab_begin : vocab_begin + shard_rows]})
    out.update({"embedding.shard.out": y, "embedding.shard.dwte": shard.grad})
    out.update({"embedding.shard.dwpe": ped.grad})


def xent_case(gen, out):
    # logits[N,Vp]; the first V columns are real tokens, the rest padding. Padding columns hold
    # large values so that letting any of them into the softmax would change every number.
    N, V, Vp = 37, 97, 128
    logits = randn(gen, N, Vp, scale=3.0)
    logits[:, V:] = randn(gen, N, Vp - V, scale=1.0, shift=20.0)
    targets = torch.randint(0, V, (N,), generator=gen, dtype=torch.int32)
    targets[0], targets[1], targets[2] = 0, V - 1, 63  # the ends, and the last column of shard 0
    real = leaf(logits[:, :V])
    tgt = targets.long()
    loss_sum = F.cross_entropy(real, tgt, reduction="sum")
    losses = F.cross_entropy(real.detach(), tgt, reduction="none")
    scale = 1.0 / N
    (loss_sum * scale).backward()  # the mean loss: dlogits = (softmax - onehot) / N
    dlogits = torch.zeros(N, Vp, dtype=F64)
    dlogits[:, :V] = real.grad
    r = real.detach()
    row_max = r.max(dim=1).values
    sumexp = torch.exp(r - row_max[:, None]).sum(dim=1)
    target_logit = r.gather(1, tgt[:, None]).squeeze(1)
    out.update({"xent.vocab_size": np.int32(V), "xent.logits": logits, "xent.targets": targets})
    out.update({"xent.scale": np.float32(scale), "xent.loss_sum": loss_sum.detach()})
    out.update({"xent.losses": losses, "xent.max": row_max, "xent.sumexp": sumexp})
    out.update({"xent.target_logit": target_logit, "xent.dlogits": dlogits})

    # Two vocabulary shards of 64 columns: ids [0, 64) and [64, 128), the second with 33 real
    # columns and 31 of padding. Per shard: the row max over its real columns; with the global
    # max, its sum of exponentials and the target's logit (0 when the target is elsewhere).
    width = Vp // 2
    out["xent.shard.width"] = np.int32(width)
    for s in range(2):
        begin = s * width
        cols = r[:, begin : min(begin + width, V)]
        inside = (tgt >= begin) & (tgt < begin + width)
        picked = r.gather(1, tgt[:, None]).squeeze(1)
        out[f"xent.shard{s}.max"] = cols.max(dim=1).values
        out[f"xent.shard{s}.sumexp"] = torch.exp(cols - row_max[:, None]).sum(dim=1)
        out[f"xent.shard{s}.target_logit"] = torch.where(inside, picked, torch.zeros_like(picked))


def adamw_case(gen, out):
    # One tensor, several steps with given gradients, as torch.optim.AdamW computes them.
    steps, shape = 4, (5, 7)
    lr, betas, eps, wd = 1e-2, (0.9, 0.95), 1e-8, 0.1
    param = randn(gen, *shape)
    grads = randn(gen, steps, *shape)
    grads[:, 0, 0] = 0.0  # a parameter that never sees a gradient: only decay moves it
    grads[:, 0, 1] = 1e-9  # gradients far below eps
    grads[2, 1, :] = 0.0  # a step with no gradient after steps with one
    p = param.to(F64).clone().requires_grad_(True)
    opt = torch.optim.AdamW([p], lr=lr, betas=betas, eps=eps, weight_decay=wd)
    after, exp_avg, exp_avg_sq = [], [], []
    for s in range(steps):
        p.grad = grads[s].to(F64).clone()
        opt.step()
        state = opt.state[p]
        after.append(p.detach().clone())
        exp_avg.append(state["exp_avg"].clone())
        exp_avg_sq.append(state["exp_avg_sq"].clone())
    out.update({"adamw.lr": np.float32(lr), "adamw.beta1": np.float32(betas[0])})
    out.update({"adamw.beta2": np.float32(betas[1]), "adamw.eps": np.float32(eps)})
    out.update({"adamw.weight_decay": np.float32(wd), "adamw.param": param, "adamw.grads": grads})
    out.update({"adamw.after": torch.stack(after), "adamw.m": torch.stack(exp_avg)})
    out.update({"adamw.v": torch.stack(exp_avg_sq)})


def rmsnorm_reference(x, w, eps):
    """RMSNorm over the last dimension as LlamaRMSNorm: x * rsqrt(mean(x^2) + eps) * w; and rstd."""
    rstd = torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps)
    return x * rstd * w, rstd.squeeze(-1)


def rmsnorm_case(gen, out):
    # x[N,C] -> out[N,C], at eps 1e-5 ("rmsnorm.") and 1e-6 ("rmsnorm_small_eps."). Rows away
    # from mean 0 and scale 1, and a few rows of mean square ~1e-5, where eps matters. PyTorch
    # is given eps as the float32 the kernel is given.
    N, C = 37, 24
    for prefix, eps in (("rmsnorm", 1e-5), ("rmsnorm_small_eps", 1e-6)):
        x = randn(gen, N, C, scale=1.5, shift=0.5)
        x[:4] = randn(gen, 4, C, scale=0.003)
        w, dout = randn(gen, C, scale=0.5, shift=1.0), randn(gen, N, C)
        eps32 = np.float32(eps)
        xd, wd = leaf(x), leaf(w)
        y, rstd = rmsnorm_reference(xd, wd, float(eps32))
        y.backward(dout.to(F64))
        out.update({f"{prefix}.eps": eps32, f"{prefix}.x": x, f"{prefix}.w": w})
        out.update({f"{prefix}.dout": dout, f"{prefix}.out": y, f"{prefix}.rstd": rstd})
        out.update({f"{prefix}.dx": xd.grad, f"{prefix}.dw": wd.grad})


def swiglu_case(gen, out):
    # gate_up[N,2F] -> out[N,F] = silu(gate) * up. Gates wide enough (|g| up to ~15) to reach
    # both tails of the sigmoid, plus 0, +-30, and -1.2785 (near where d silu / dg is 0).
    N, H = 37, 20  # H: the F of kernels.h (F is torch.nn.functional here)
    gate_up = randn(gen, N, 2 * H)
    gate_up[:, :H] *= 5.0
    gate_up[0, :5] = torch.tensor([0.0, 30.0, -30.0, -1.2784645, 1e-30])
    dout = randn(gen, N, H)
    gd = leaf(gate_up)
    y = F.silu(gd[:, :H]) * gd[:, H:]
    y.backward(dout.to(F64))
    out.update({"swiglu.gate_up": gate_up, "swiglu.dout": dout, "swiglu.out": y})
    out.update({"swiglu.dgate_up": gd.grad})


def rope_reference(x, col, heads, head_dim, positions, theta):
    """Hugging Face LLaMA's rotary embedding ("rotate half") on the heads of x[B,T,W] that start
    at column `col`, token t at positions[t]; the other columns pass through."""
    B, T, W = x.shape
    half = head_dim // 2
    frequency = theta ** (-torch.arange(0, head_dim, 2, dtype=F64) / head_dim)  # theta^(-2i/d)
    angle = positions.to(F64)[:, None] * frequency[None, :]  # [T, half]
    angle = torch.cat([angle, angle], dim=-1)[None, :, None, :]
    end = col + heads * head_dim
    q = x[:, :, col:end].reshape(B, T, heads, head_dim)
    rotated = torch.cat([-q[..., half:], q[..., :half]], dim=-1)
    q = q * angle.cos() + rotated * angle.sin()
    return torch.cat([x[:, :, :col], q.reshape(B, T, heads * head_dim), x[:, :, end:]], dim=-1)


def rope_case(gen, out):
    # x[B,T,W] with heads from a column offset and columns after them that must pass through;
    # tokens at two runs of positions. "rope.a": theta 10000, runs 0-2 and 9-11, 3 heads of 8
    # from column 5; "rope.b": theta 500000, the runs the other way round, 2 heads of 6 from
    # column 2. dx is autograd's gradient: the inverse rotation of dout.
    cases = (("rope.a", 2, 32, 5, 3, 8, ((0, 3), (9, 3)), 10000.0),
             ("rope.b", 1, 16, 2, 2, 6, ((9, 3), (0, 3)), 500000.0))
    for prefix, B, W, col, heads, head_dim, runs, theta in cases:
        positions = torch.cat([torch.arange(s, s + n) for s, n in runs])
        T = len(positions)
        x, dout = randn(gen, B, T, W), randn(gen, B, T, W)
        xd = leaf(x)
        y = rope_reference(xd, col, heads, head_dim, positions, theta)
        y.backward(dout.to(F64))
        out.update({f"{prefix}.x": x, f"{prefix}.dout": dout, f"{prefix}.out": y})
        out.update({f"{prefix}.dx": xd.grad, f"{prefix}.theta": np.float64(theta)})
        out.update({f"{prefix}.col": np.int32(col), f"{prefix}.heads": np.int32(heads)})
        out.update({f"{prefix}.head_dim": np.int32(head_dim)})
        out.update({f"{prefix}.starts": np.array([s for s, _ in runs], dtype=np.int32)})
        out.update({f"{prefix}.lengths": np.array([n for _, n in runs], dtype=np.int32)})


def make_kernels_golden():
    gen = torch.Generator().manual_seed(20240901)
    tensors = {}
    for case in (linear_case, layernorm_case, gelu_case, attention_case, embedding_case,
                 xent_case, adamw_case, rmsnorm_case, swiglu_case, rope_case):
        case(gen, tensors)
    return tensors


# ---------------------------------------------------------------------------------------------
# A tiny GPT-2, written out in plain PyTorch as DESIGN.md's "Model semantics" describe it.
# ---------------------------------------------------------------------------------------------

V, VP, MAX_T, LAYERS, HEADS, C = 97, 128, 16, 2, 2, 16
B, T = 3, 12
STEPS, LR, BETAS, EPS, WEIGHT_DECAY, GRAD_CLIP = 5, 1e-3, (0.9, 0.95), 1e-8, 0.1, 1.0
NTOK = 180  # floor((180 - 1) / (B*T)) = 4 batches, so step 4 wraps round to batch 0


class TinyGPT2(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = torch.nn.Parameter(torch.empty(VP, C))
        self.wpe = torch.nn.Parameter(torch.empty(MAX_T, C))
        self.h = torch.nn.ModuleList()
        for _ in range(LAYERS):
            block = torch.nn.Module()
            block.ln1 = torch.nn.LayerNorm(C, eps=1e-5)
            block.qkv = torch.nn.Linear(C, 3 * C)
            block.attn_proj = torch.nn.Linear(C, C)
            block.ln2 = torch.nn.LayerNorm(C, eps=1e-5)
            block.fc = torch.nn.Linear(C, 4 * C)
            block.mlp_proj = torch.nn.Linear(4 * C, C)
            self.h.append(block)
        self.lnf = torch.nn.LayerNorm(C, eps=1e-5)

    def init_weights(self, gen):
        """GPT-2's initialisation, drawn in float32 (padded rows of wte are random too)."""
        with torch.no_grad():
            self.wte.copy_(randn(gen, VP, C, scale=0.02))
            self.wpe.copy_(randn(gen, MAX_T, C, scale=0.02))
            residual_std = 0.02 / math.sqrt(2 * LAYERS)
            for block in self.h:
                for linear, std in ((block.qkv, 0.02), (block.attn_proj, residual_std),
                                    (block.fc, 0.02), (block.mlp_proj, residual_std)):
                    linear.weight.copy_(randn(gen, *linear.weight.shape, scale=std))
                    linear.bias.zero_()
                for norm in (block.ln1, block.ln2):
                    norm.weight.fill_(1.0)
                    norm.bias.zero_()
            self.lnf.weight.fill_(1.0)
            self.lnf.bias.zero_()

    def forward(self, tokens, targets):
        steps = tokens.shape[1]
        x = self.wte[tokens.long()] + self.wpe[:steps].unsqueeze(0)
        for block in self.h:
            qkv = block.qkv(block.ln1(x))
            y, _ = attention_reference(qkv, HEADS)
            x = x + block.attn_proj(y)
            x = x + block.mlp_proj(F.gelu(block.fc(block.ln2(x)), approximate="tanh"))
        x = self.lnf(x)
        logits = (x @ self.wte.t())[..., :V]  # tied head; padded rows never reach the softmax
        loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1).long())
        return logits, loss

    def named_trellis(self):
        """(Trellis name, parameter, Trellis's shape) for every parameter, in llm.c's order."""
        yield "wte", self.wte, (VP, C)
        yield "wpe", self.wpe, (MAX_T, C)
        for i, block in enumerate(self.h):
            p = f"h.{i}."
            yield p + "ln1.weight", block.ln1.weight, (C,)
            yield p + "ln1.bias", block.ln1.bias, (C,)
            yield p + "attn.qkv.weight", block.qkv.weight, (3, C, C)
            yield p + "attn.qkv.bias", block.qkv.bias, (3, C)
            yield p + "attn.proj.weight", block.attn_proj.weight, (C, C)
            yield p + "attn.proj.bias", block.attn_proj.bias, (C,)
            yield p + "ln2.weight", block.ln2.weight, (C,)
            yield p + "ln2.bias", block.ln2.bias, (C,)
            yield p + "mlp.fc.weight", block.fc.weight, (4 * C, C)
            yield p + "mlp.fc.bias", block.fc.bias, (4 * C,)
            yield p + "mlp.proj.weight", block.mlp_proj.weight, (C, 4 * C)
            yield p + "mlp.proj.bias", block.mlp_proj.bias, (C,)
        yield "lnf.weight", self.lnf.weight, (C,)
        yield "lnf.bias", self.lnf.bias, (C,)


def llmc_checkpoint_bytes(model):
    """llm.c's GPT-2 checkpoint: int32 header[256], then fp32 tensors, one kind at a time over
    all layers."""
    header = np.zeros(256, dtype="<i4")
    header[:8] = [20240326, 3, MAX_T, V, LAYERS, HEADS, C, VP]
    h = model.h
    groups = [
        [model.wte], [model.wpe],
        [b.ln1.weight for b in h], [b.ln1.bias for b in h],
        [b.qkv.weight for b in h], [b.qkv.bias for b in h],
        [b.attn_proj.weight for b in h], [b.attn_proj.bias for b in h],
        [b.ln2.weight for b in h], [b.ln2.bias for b in h],
        [b.fc.weight for b in h], [b.fc.bias for b in h],
        [b.mlp_proj.weight for b in h], [b.mlp_proj.bias for b in h],
        [model.lnf.weight], [model.lnf.bias],
    ]
    params = [t.detach().to(torch.float32).reshape(-1).numpy() for group in groups for t in group]
    return header.tobytes() + np.concatenate(params).astype("<f4").tobytes()


def make_tokens(gen):
    """NTOK ids in [0, V): mostly a fixed successor rule with some noise, so there is something to
    learn and the loss moves within a few steps."""
    tokens = np.zeros(NTOK, dtype=np.int64)
    noise = torch.randint(0, V, (NTOK,), generator=gen).numpy()
    coin = torch.rand(NTOK, generator=gen).numpy()
    for i in range(1, NTOK):
        tokens[i] = (tokens[i - 1] * 5 + 3) % V if coin[i] < 0.8 else noise[i]
    header = np.zeros(256, dtype="<i4")
    header[:3] = [20240520, 1, NTOK]
    return tokens, header.tobytes() + tokens.astype("<u2").tobytes()


def batch(tokens, step):
    """llm.c's windows: sequence j of batch b starts at token (b*B + j)*T, targets shifted by one;
    after the last whole batch it starts again from batch 0."""
    b = step % ((len(tokens) - 1) // (B * T))
    rows = [tokens[(b * B + j) * T : (b * B + j) * T + T + 1] for j in range(B)]
    window = torch.tensor(np.stack(rows), dtype=torch.int32)
    return window[:, :-1].contiguous(), window[:, 1:].contiguous()


def model_from_checkpoint(checkpoint):
    """A fresh float32 TinyGPT2 read from llm.c checkpoint bytes the way llm.c reads them (sizes
    from the header, tensors in order)."""
    header = np.frombuffer(checkpoint[:1024], dtype="<i4")
    max_t, vocab, layers, heads, channels, padded = (int(v) for v in header[2:8])
    assert (header[0], header[1]) == (20240326, 3) and heads == HEADS
    sizes = [padded * channels, max_t * channels] + [layers * n for n in (
        channels, channels, 3 * channels * channels, 3 * channels, channels * channels, channels,
        channels, channels, 4 * channels * channels, 4 * channels, channels * 4 * channels,
        channels)] + [channels, channels]
    flat = np.frombuffer(checkpoint[1024:], dtype="<f4").copy()
    assert flat.size == sum(sizes), (flat.size, sum(sizes))
    chunks = np.split(flat, np.cumsum(sizes)[:-1])
    fresh = TinyGPT2()
    fields = [("ln1", "weight"), ("ln1", "bias"), ("qkv", "weight"), ("qkv", "bias"),
              ("attn_proj", "weight"), ("attn_proj", "bias"), ("ln2", "weight"), ("ln2", "bias"),
              ("fc", "weight"), ("fc", "bias"), ("mlp_proj", "weight"), ("mlp_proj", "bias")]
    with torch.no_grad():
        fresh.wte.copy_(torch.from_numpy(chunks[0].reshape(padded, channels)))
        fresh.wpe.copy_(torch.from_numpy(chunks[1].reshape(max_t, channels)))
        for (module, field), chunk in zip(fields, chunks[2:-2]):
            per_layer = chunk.reshape(layers, -1)
            for i, block in enumerate(fresh.h):
                target = getattr(getattr(block, module), field)
                target.copy_(torch.from_numpy(per_layer[i].reshape(target.shape)))
        fresh.lnf.weight.copy_(torch.from_numpy(chunks[-2]))
        fresh.lnf.bias.copy_(torch.from_numpy(chunks[-1]))
    return fresh


def check_checkpoint(checkpoint, tokens, loss):
    """Reads the checkpoint back into a fresh model and checks that it gives the same loss: guards
    the file's layout."""
    with torch.no_grad():
        _, again = model_from_checkpoint(checkpoint).to(F64)(*batch(tokens, 0))
    assert again.item() == loss.item(), (again.item(), loss.item())


def check_gradient_magnitudes(model, tokens, targets):
    """The tests bound each parameter gradient by gamma(P) * sqrt(N) * max|grad| (tests/numerics/
    error_bound.h): sqrt(N) stands for the ratio of the magnitudes of the N per-token terms of the
    gradient's final sum to the largest gradient. Checks that ratio on this model and batch: for
    each parameter, the largest sum over tokens of |term| is at most sqrt(N) times its largest
    |gradient|, every term taken from the float64 forward and backward."""
    model = copy.deepcopy(model)
    model.zero_grad(set_to_none=True)
    seen = {}

    def keep_input(name):
        return lambda module, inputs, output: seen.__setitem__(name, inputs[0].detach())

    def keep_grad(name):
        return lambda module, grad_in, grad_out: seen.__setitem__(name + ".d", grad_out[0].detach())

    modules = {"lnf": model.lnf}
    for i, block in enumerate(model.h):
        modules.update({f"h.{i}.ln1": block.ln1, f"h.{i}.attn.qkv": block.qkv,
                        f"h.{i}.attn.proj": block.attn_proj, f"h.{i}.ln2": block.ln2,
                        f"h.{i}.mlp.fc": block.fc, f"h.{i}.mlp.proj": block.mlp_proj})
    for name, module in modules.items():
        module.register_forward_hook(keep_input(name))
        module.register_full_backward_hook(keep_grad(name))
    _, loss = model(tokens, targets)
    loss.backward()
    n = tokens.numel()
    for name, module in modules.items():
        x = seen[name].reshape(n, -1)
        d = seen[name + ".d"].reshape(n, -1)
        if isinstance(module, torch.nn.LayerNorm):
            x = F.layer_norm(x, x.shape[-1:], eps=module.eps)  # the normalised input
            terms = {"weight": (d * x).abs().sum(0), "bias": d.abs().sum(0)}
        else:
            terms = {"weight": d.abs().t() @ x.abs(), "bias": d.abs().sum(0)}
        for kind, magnitude in terms.items():
            grad = getattr(module, kind).grad.abs().max()
            ratio = (magnitude.max() / grad).item()
            assert ratio <= math.sqrt(n), f"{name}.{kind}: term magnitudes {ratio:.2f} x gradient"


def make_tiny_gpt2():
    gen = torch.Generator().manual_seed(20240326)
    model = TinyGPT2()
    model.init_weights(gen)
    checkpoint = llmc_checkpoint_bytes(model)  # the float32 initial weights
    # The same weights as Hugging Face directories: GPT2Model's names with the causal-mask
    # buffers, fp32, one file; and GPT2LMHeadModel's names with the tied head, bf16, two shards.
    dims = (V, MAX_T, LAYERS, HEADS, C)
    with torch.no_grad():
        write_gpt2_directory(os.path.join(DATA, "tiny_gpt2.hf"), model, dims, mask_buffers=True)
        write_gpt2_directory(os.path.join(DATA, "tiny_gpt2.hf_bf16"), model, dims,
                             prefix="transformer.", dtype="BF16", shards=2, lm_head=True)
    tokens, token_file = make_tokens(gen)
    model = model.to(F64)  # from here on, float64 reference arithmetic

    out = {"V": np.int32(V), "Vp": np.int32(VP), "maxT": np.int32(MAX_T),
           "L": np.int32(LAYERS), "NH": np.int32(HEADS), "C": np.int32(C),
           "B": np.int32(B), "T": np.int32(T)}
    x, y = batch(tokens, 0)
    logits, loss = model(x, y)
    loss.backward()
    out.update({"tokens": x, "targets": y, "logits": logits.detach(), "loss": loss.detach()})
    for name, param, shape in model.named_trellis():
        out["grad." + name] = param.grad.view(shape)
    assert torch.all(model.wte.grad[V:] == 0)  # padded rows get nothing from head or embedding
    check_checkpoint(checkpoint, tokens, loss)
    check_gradient_magnitudes(model, x, y)

    # Training: AdamW with decay on the 2-D (and larger) tensors only, gradients clipped to norm 1.
    model.zero_grad(set_to_none=True)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=LR, betas=BETAS, eps=EPS)
    losses, norms, step_tokens = [], [], []
    for step in range(STEPS):
        x, y = batch(tokens, step)
        step_tokens.append(torch.cat([x, y[:, -1:]], dim=1))
        _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
        opt.step()
        losses.append(loss.item())
        norms.append(norm.item())
    out.update({"train.windows": torch.stack(step_tokens)})
    out.update({"train.lr": np.full(STEPS, LR), "train.loss": np.array(losses)})
    out.update({"train.grad_norm": np.array(norms)})
    out.update({"train.beta1": np.float64(BETAS[0]), "train.beta2": np.float64(BETAS[1])})
    out.update({"train.eps": np.float64(EPS), "train.weight_decay": np.float64(WEIGHT_DECAY)})
    out.update({"train.grad_clip": np.float64(GRAD_CLIP)})
    for name, param, shape in model.named_trellis():
        out["final." + name] = param.detach().view(shape)
    return checkpoint, token_file, out


GENERATE_PROMPTS, GENERATE_SEED = 3, 20240601
# The float32 logits Trellis computes are within 1.3e-4 of the largest |logit| of the exact ones
# for this model (tests/numerics/error_bound.h, composite_bound of gpt_logits_path); a top-2
# gap above 1e-3 of it leaves the greedy choice to the model, not to rounding, so the tests can
# demand the same tokens.
GENERATE_MIN_GAP = 1e-3


def greedy_continuation(model, prompt):
    """PyTorch's greedy generation in float64 by the definition: the whole text through the model
    again for every new token, the argmax of the last position's logits, until the text fills
    MAX_T positions. Returns the new tokens, each step's logits and its top-2 gap relative to the
    step's largest |logit|."""
    text, new, logits_per_step, gaps = list(prompt), [], [], []
    with torch.no_grad():
        while len(text) < MAX_T:
            x = torch.tensor([text], dtype=torch.int32)
            logits, _ = model(x, torch.zeros_like(x))
            last = logits[0, -1]
            top2 = torch.topk(last, 2).values
            gaps.append(((top2[0] - top2[1]) / last.abs().max()).item())
            logits_per_step.append(last)
            token = int(torch.argmax(last))
            new.append(token)
            text.append(token)
    return new, torch.stack(logits_per_step), gaps


def make_tiny_gpt2_generate(checkpoint):
    """Greedy continuations of GENERATE_PROMPTS prompts by the tiny GPT-2's initial weights (those
    of tiny_gpt2.llmc.bin), prompts of 3 to 6 random ids drawn until that many have every step's
    top-2 gap above GENERATE_MIN_GAP. Under "generate.<i>.": prompt, tokens (the new ones),
    logits [steps, V] (float64, step s's for the text before tokens[s]) and gap (per step)."""
    model = model_from_checkpoint(checkpoint).to(F64)
    gen = torch.Generator().manual_seed(GENERATE_SEED)
    out = {"generate.count": np.int32(GENERATE_PROMPTS),
           "generate.min_gap": np.float64(GENERATE_MIN_GAP)}
    found, tried = 0, 0
    while found < GENERATE_PROMPTS:
        tried += 1
        assert tried <= 50, f"only {found} of 50 prompts have top-2 gaps above {GENERATE_MIN_GAP}"
        prompt = torch.randint(0, V, (3 + tried % 4,), generator=gen).tolist()
        tokens, logits, gaps = greedy_continuation(model, prompt)
        if min(gaps) <= GENERATE_MIN_GAP:
            continue
        p = f"generate.{found}."
        out[p + "prompt"] = np.array(prompt, dtype=np.int32)
        out[p + "tokens"] = np.array(tokens, dtype=np.int32)
        out[p + "logits"] = logits
        out[p + "gap"] = np.array(gaps)
        found += 1
    return out


MOE_EXPERTS, MOE_TOP_K, MOE_EVERY, MOE_AUX_COEFF = 4, 2, 2, 0.01


class TinyMoe(TinyGPT2):
    """TinyGPT2 whose blocks i % MOE_EVERY == 0 have an MoE MLP (moe_reference.py)."""

    def __init__(self, capacity_factor):
        super().__init__()
        self.moe = torch.nn.ModuleDict()
        for i, block in enumerate(self.h):
            if i % MOE_EVERY == 0:
                del block.fc, block.mlp_proj
                self.moe[str(i)] = MoeMlp(C, MOE_EXPERTS, MOE_TOP_K, capacity_factor)

    def init_weights(self, gen):
        with torch.no_grad():
            self.wte.copy_(randn(gen, VP, C, scale=0.02))
            self.wpe.copy_(randn(gen, MAX_T, C, scale=0.02))
            residual_std = 0.02 / math.sqrt(2 * LAYERS)
            for i, block in enumerate(self.h):
                pairs = [(block.qkv, 0.02), (block.attn_proj, residual_std)]
                if str(i) not in self.moe:
                    pairs += [(block.fc, 0.02), (block.mlp_proj, residual_std)]
                for linear, std in pairs:
                    linear.weight.copy_(randn(gen, *linear.weight.shape, scale=std))
                    linear.bias.zero_()
                for norm in (block.ln1, block.ln2):
                    norm.weight.fill_(1.0)
                    norm.bias.zero_()
                if str(i) in self.moe:
                    init_moe(self.moe[str(i)], gen, randn, residual_std)
            self.lnf.weight.fill_(1.0)
            self.lnf.bias.zero_()

    def forward(self, tokens, targets):
        """(logits, the training loss, the MoE blocks' aux losses (coefficient applied), their
        routing statistics)."""
        steps = tokens.shape[1]
        x = self.wte[tokens.long()] + self.wpe[:steps].unsqueeze(0)
        aux, stats = [], []
        for i, block in enumerate(self.h):
            qkv = block.qkv(block.ln1(x))
            y, _ = attention_reference(qkv, HEADS)
            x = x + block.attn_proj(y)
            if str(i) in self.moe:
                out, a, s = self.moe[str(i)](block.ln2(x))
                x = x + out
                aux.append(MOE_AUX_COEFF * a)
                stats.append(s)
            else:
                x = x + block.mlp_proj(F.gelu(block.fc(block.ln2(x)), approximate="tanh"))
        x = self.lnf(x)
        logits = (x @ self.wte.t())[..., :V]
        loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1).long())
        return logits, loss + sum(aux), aux, stats

    def named_trellis(self):
        """GPT-2's names, with the MoE MLP's (named_moe) in place of a MoE block's mlp.*."""
        yield "wte", self.wte, (VP, C)
        yield "wpe", self.wpe, (MAX_T, C)
        for i, block in enumerate(self.h):
            p = f"h.{i}."
            yield p + "ln1.weight", block.ln1.weight, (C,)
            yield p + "ln1.bias", block.ln1.bias, (C,)
            yield p + "attn.qkv.weight", block.qkv.weight, (3, C, C)
            yield p + "attn.qkv.bias", block.qkv.bias, (3, C)
            yield p + "attn.proj.weight", block.attn_proj.weight, (C, C)
            yield p + "attn.proj.bias", block.attn_proj.bias, (C,)
            yield p + "ln2.weight", block.ln2.weight, (C,)
            yield p + "ln2.bias", block.ln2.bias, (C,)
            if str(i) in self.moe:
                yield from named_moe(p, self.moe[str(i)])
                continue
            yield p + "mlp.fc.weight", block.fc.weight, (4 * C, C)
            yield p + "mlp.fc.bias", block.fc.bias, (4 * C,)
            yield p + "mlp.proj.weight", block.mlp_proj.weight, (C, 4 * C)
            yield p + "mlp.proj.bias", block.mlp_proj.bias, (C,)
        yield "lnf.weight", self.lnf.weight, (C,)
        yield "lnf.bias", self.lnf.bias, (C,)


def make_tiny_moe(tokens):
    out = {"E": np.int32(MOE_EXPERTS), "top_k": np.int32(MOE_TOP_K),
           "moe_every": np.int32(MOE_EVERY), "aux_coeff": np.float64(MOE_AUX_COEFF)}
    for prefix, capacity_factor in (("dropless.", 0.0), ("capacity.", 1.0)):
        gen = torch.Generator().manual_seed(20241206)
        model = TinyMoe(capacity_factor)
        model.init_weights(gen)
        for name, param, shape in model.named_trellis():
            out[prefix + "init." + name] = param.detach().to(torch.float32).view(shape)
        model = model.to(F64)
        out[prefix + "capacity_factor"] = np.float64(capacity_factor)
        x, y = batch(tokens, 0)
        logits, loss, aux, stats = model(x, y)
        loss.backward()
        out[prefix + "logits"] = logits.detach()
        out[prefix + "loss"] = loss.detach()
        out[prefix + "aux"] = torch.stack([a.detach() for a in aux])
        out[prefix + "routed"] = torch.stack([s["routed"] for s in stats])
        out[prefix + "kept"] = torch.stack([s["kept"] for s in stats])
        out[prefix + "dropped"] = np.array([s["dropped"] for s in stats], dtype=np.int32)
        for name, param, shape in model.named_trellis():
            out[prefix + "grad." + name] = param.grad.view(shape)

        model.zero_grad(set_to_none=True)
        # Trellis decays weights, never biases: the experts' stacked biases are 2-D but stay
        # undecayed, so the rule goes by name here rather than by dimension.
        params = list(model.named_parameters())
        decay = [p for n, p in params if p.dim() >= 2 and not n.endswith("bias")]
        no_decay = [p for n, p in params if p.dim() < 2 or n.endswith("bias")]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                                 {"params": no_decay, "weight_decay": 0.0}],
                                lr=LR, betas=BETAS, eps=EPS)
        losses, auxes, norms, dropped = [], [], [], []
        for step in range(STEPS):
            x, y = batch(tokens, step)
            _, loss, aux, stats = model(x, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
            opt.step()
            losses.append(loss.item())
            auxes.append(sum(a.item() for a in aux))
            norms.append(norm.item())
            dropped.append(sum(s["dropped"] for s in stats))
        out[prefix + "train.loss"] = np.array(losses)
        out[prefix + "train.aux"] = np.array(auxes)
        out[prefix + "train.grad_norm"] = np.array(norms)
        out[prefix + "train.dropped"] = np.array(dropped, dtype=np.int32)
    return out


# ---------------------------------------------------------------------------------------------
# A tiny LLaMA (llama_reference.py) on the tiny GPT-2's tokens and batches, two variants:
# grouped-query attention ("gqa.") and multi-head ("mha."), with different rope_theta and eps.
# ---------------------------------------------------------------------------------------------

LLAMA_C, LLAMA_HEADS, LLAMA_LAYERS = 32, 4, 2
LLAMA_F = int(4 * LLAMA_C * 2 / 3 / 64) * 64  # Megatron-LM's SwiGLU width rule: 64
# (prefix, kv_heads, rope_theta, norm_eps)
LLAMA_MODELS = (("gqa.", 2, 500000.0, 1e-5), ("mha.", LLAMA_HEADS, 10000.0, 1e-6))
LLAMA_SEED = 20250301
# The query and key rows are drawn N(0, 0.1), the other weights N(0, 0.02): at 0.02 and C = 32
# the scores are ~0.01 and the softmax nearly uniform, so that positions, theta and the kv-head
# mapping barely move the fused qkv gradient (a wrong theta changed the "mha." gradients by 4x
# the tests' bound only); at 0.1 the scores reach ~1.3 (no exp amplification worth counting in
# the bounds) and a wrong theta, pairing or kv-head mapping moves gradients by 90x the bound or
# more.
LLAMA_QK_STD = 0.1


def read_safetensors(path):
    """name -> float64 tensor of a safetensors file of F32 tensors, parsed from the format's
    specification (8-byte header length, JSON header, data), independently of hf_format.py."""
    with open(path, "rb") as f:
        blob = f.read()
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8 : 8 + n])
    tensors, base = {}, 8 + n
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", (name, info["dtype"])
        begin, end = info["data_offsets"]
        array = np.frombuffer(blob[base + begin : base + end], dtype="<f4").reshape(info["shape"])
        tensors[name] = torch.from_numpy(array.copy()).to(F64)
    return tensors


def hf_llama_logits(config, weights, tokens):
    """LlamaForCausalLM's forward written out as transformers' modeling_llama.py computes it
    (LlamaRMSNorm, LlamaRotaryEmbedding with rotate_half, repeat_kv, an additive causal mask,
    LlamaMLP), in float64, from config.json and the Hugging Face names alone. The one
    difference: transformers computes the rotary angles in float32; here they are float64, as
    Trellis's contract (and llama_reference.py) has them. Every weight must be read."""
    C, NH, KV = (config[k] for k in ("hidden_size", "num_attention_heads", "num_key_value_heads"))
    hd, n_rep, eps = C // NH, NH // KV, config["rms_norm_eps"]
    B, T = tokens.shape
    unread = set(weights)

    def w(name):
        unread.discard(name)
        return weights[name]

    def rms_norm(x, weight):
        variance = x.pow(2).mean(-1, keepdim=True)
        return weight * (x * torch.rsqrt(variance + eps))

    def rotate_half(x):
        return torch.cat((-x[..., hd // 2 :], x[..., : hd // 2]), dim=-1)

    def repeat_kv(x):
        return x[:, :, None, :, :].expand(B, KV, n_rep, T, hd).reshape(B, KV * n_rep, T, hd)

    inv_freq = 1.0 / (config["rope_theta"] ** (torch.arange(0, hd, 2, dtype=F64) / hd))
    freqs = torch.outer(torch.arange(T, dtype=F64), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((T, T), torch.finfo(F64).min, dtype=F64).triu(1)

    h = w("model.embed_tokens.weight")[tokens.long()]
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}."
        x = rms_norm(h, w(p + "input_layernorm.weight"))
        q = (x @ w(p + "self_attn.q_proj.weight").T).view(B, T, NH, hd).transpose(1, 2)
        k = (x @ w(p + "self_attn.k_proj.weight").T).view(B, T, KV, hd).transpose(1, 2)
        v = (x @ w(p + "self_attn.v_proj.weight").T).view(B, T, KV, hd).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k, v = repeat_kv(k), repeat_kv(v)
        att = torch.softmax(q @ k.transpose(2, 3) / math.sqrt(hd) + mask, dim=-1)
        o = (att @ v).transpose(1, 2).reshape(B, T, C)
        h = h + o @ w(p + "self_attn.o_proj.weight").T
        x = rms_norm(h, w(p + "post_attention_layernorm.weight"))
        up = x @ w(p + "mlp.up_proj.weight").T
        h = h + (F.silu(x @ w(p + "mlp.gate_proj.weight").T) * up) @ w(p + "mlp.down_proj.weight").T
    h = rms_norm(h, w("model.norm.weight"))
    logits = h @ w("lm_head.weight").T
    assert not unread, f"weights never read: {sorted(unread)}"
    assert logits.shape[-1] == config["vocab_size"]
    return logits


def check_llama_hf_directory(directory, d, tokens, logits):
    """Checks that tiny_llama.hf/ holds the reference model in Hugging Face's convention: with
    transformers importable, LlamaForCausalLM loads it and its logits must agree with the
    reference's (to 1e-5 of the largest: transformers' rotary angles are float32); otherwise
    hf_llama_logits, an independent re-implementation of transformers' LLaMA reading the Hugging
    Face names, must agree to 1e-12. Returns a line saying which."""
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    expect = {"hidden_size": d.hidden, "intermediate_size": d.ffn_hidden,
              "num_attention_heads": d.heads, "num_key_value_heads": d.kv_heads,
              "num_hidden_layers": d.layers, "rms_norm_eps": d.norm_eps,
              "rope_theta": d.rope_theta, "vocab_size": d.vocab, "max_position_embeddings": MAX_T,
              "tie_word_embeddings": False, "hidden_act": "silu", "model_type": "llama"}
    assert all(config[k] == v for k, v in expect.items()), config
    scale = logits.abs().max().item()
    try:
        import transformers  # noqa: F401  (not in Debian's python3-torch environment)
    except ImportError:
        transformers = None
    if transformers is not None:
        hf = transformers.LlamaForCausalLM.from_pretrained(directory, torch_dtype=F64).eval()
        with torch.no_grad():
            theirs = hf(tokens.long()).logits
        err = (theirs - logits).abs().max().item() / scale
        assert err <= 1e-5, f"transformers' LlamaForCausalLM differs by {err:.3g} of max |logit|"
        return f"transformers {transformers.__version__} LlamaForCausalLM: logits within {err:.2g}"
    weights = read_safetensors(os.path.join(directory, "model.safetensors"))
    with torch.no_grad():
        theirs = hf_llama_logits(config, weights, tokens)
    err = (theirs - logits).abs().max().item() / scale
    assert err <= 1e-12, f"the Hugging Face re-implementation differs by {err:.3g} of max |logit|"
    return f"no transformers; Hugging Face re-implementation: logits within {err:.2g}"


def make_llama_generate(model, prompts):
    """tiny_llama_generate.golden: greedy continuations (greedy_continuation) of the tiny GPT-2's
    generation prompts by the "gqa." model's initial weights, in tiny_gpt2_generate.golden's
    format; every step's top-2 gap must exceed GENERATE_MIN_GAP, 4.5 times the float32 bound on
    this model's logits at 16 tokens (2.2e-4 of the largest: composite_bound(llama_logits_path,
    C, max |logit|), tests/numerics/error_bound.h), so tests can compare the tokens exactly."""
    out = {"generate.count": np.int32(len(prompts)),
           "generate.min_gap": np.float64(GENERATE_MIN_GAP)}
    for i, prompt in enumerate(prompts):
        tokens, logits, gaps = greedy_continuation(model, prompt)
        assert min(gaps) > GENERATE_MIN_GAP, f"prompt {i}: top-2 gap {min(gaps):.3g}"
        p = f"generate.{i}."
        out[p + "prompt"] = np.array(prompt, dtype=np.int32)
        out[p + "tokens"] = np.array(tokens, dtype=np.int32)
        out[p + "logits"] = logits
        out[p + "gap"] = np.array(gaps)
    return out


def make_llama_golden(tokens, prompts):
    """The tiny LLaMA models of LLAMA_MODELS on the tiny GPT-2's batches (tiny_tokens.bin, B, T):
    returns tiny_llama.golden's tensors and tiny_llama_generate.golden's (from `prompts`, the
    tiny GPT-2's), and writes tiny_llama.hf/ (the "gqa." model). Per model, under its prefix:
    the sizes, the float32 initial weights "init.<name>", the first batch's logits, loss and
    "grad.<name>", and the loss and grad norm (before clipping) of 5 AdamW steps as the tiny
    GPT-2's."""
    x, y = batch(tokens, 0)
    out = {"V": np.int32(V), "Vp": np.int32(VP), "maxT": np.int32(MAX_T), "B": np.int32(B),
           "T": np.int32(T), "tokens": x, "targets": y}
    generate, notes = None, []
    for prefix, kv_heads, theta, eps in LLAMA_MODELS:
        d = LlamaDims(V, VP, LLAMA_C, LLAMA_HEADS, kv_heads, LLAMA_F, LLAMA_LAYERS, theta, eps)
        model = TinyLlama(d)
        model.init_weights(torch.Generator().manual_seed(LLAMA_SEED), randn, qk_std=LLAMA_QK_STD)
        out.update({prefix + "C": np.int32(d.hidden), prefix + "NH": np.int32(d.heads),
                    prefix + "KV": np.int32(d.kv_heads), prefix + "L": np.int32(d.layers),
                    prefix + "F": np.int32(d.ffn_hidden), prefix + "rope_theta": np.float64(theta),
                    prefix + "norm_eps": np.float64(eps)})
        for name, param, shape in model.named_trellis():
            out[prefix + "init." + name] = param.detach().clone().view(shape)
        hf_dir = os.path.join(DATA, "tiny_llama.hf")
        if prefix == "gqa.":
            with torch.no_grad():
                write_llama_directory(hf_dir, model, MAX_T)
        model = model.to(F64)  # from here on, float64 reference arithmetic

        logits, loss = model(x, y)
        loss.backward()
        out[prefix + "logits"] = logits.detach()
        out[prefix + "loss"] = loss.detach()
        for name, param, shape in model.named_trellis():
            out[prefix + "grad." + name] = param.grad.view(shape)
        assert torch.all(model.wte.grad[V:] == 0) and torch.all(model.lm_head.grad[V:] == 0)
        # gpt_loss_bound's premise (error_bound.h), which llama_loss_bound shares.
        assert logits.abs().max() < loss, "the logits are not smaller than the loss"
        worst = check_term_magnitudes(model, x, y)
        notes.append(f"{prefix} loss {loss.item():.6f}, max|logit| {logits.abs().max():.3f}, "
                     f"gradient terms at most {worst:.2f} x the gradient (sqrt(N) = "
                     f"{math.sqrt(x.numel()):.0f})")
        if prefix == "gqa.":
            notes.append(check_llama_hf_directory(hf_dir, d, x, logits.detach()))
            generate = make_llama_generate(model, prompts)

        # Training: as the tiny GPT-2's (decay on the matrices and tables, not on the norms).
        model.zero_grad(set_to_none=True)
        decay = [p for p in model.parameters() if p.dim() >= 2]
        no_decay = [p for p in model.parameters() if p.dim() < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                                 {"params": no_decay, "weight_decay": 0.0}],
                                lr=LR, betas=BETAS, eps=EPS)
        losses, norms = [], []
        for step in range(STEPS):
            _, loss = model(*batch(tokens, step))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
            opt.step()
            losses.append(loss.item())
            norms.append(norm.item())
        out[prefix + "train.loss"] = np.array(losses)
        out[prefix + "train.grad_norm"] = np.array(norms)
    return out, generate, notes


def main():
    torch.set_default_dtype(torch.float32)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # one reduction order, whatever the machine
    os.makedirs(DATA, exist_ok=True)

    written = []
    kernels = make_kernels_golden()
    write_golden(os.path.join(DATA, "kernels.golden"), kernels)
    written.append(("kernels.golden", f"{len(kernels)} tensors"))

    checkpoint, token_file, model = make_tiny_gpt2()
    for name, blob in (("tiny_gpt2.llmc.bin", checkpoint), ("tiny_tokens.bin", token_file)):
        with open(os.path.join(DATA, name), "wb") as f:
            f.write(blob)
    sizes = f"V={V} Vp={VP} maxT={MAX_T} L={LAYERS} NH={HEADS} C={C}"
    written.append(("tiny_gpt2.llmc.bin", sizes))
    written.append(("tiny_tokens.bin", f"{NTOK} tokens"))
    written.append(("tiny_gpt2.hf/model.safetensors", "fp32, GPT2Model's names"))
    written.append(("tiny_gpt2.hf_bf16/model-00001-of-00002.safetensors", "bf16, shard 1 of 2"))
    write_golden(os.path.join(DATA, "tiny_gpt2.golden"), model)
    written.append(("tiny_gpt2.golden", f"{len(model)} tensors"))
    generate = make_tiny_gpt2_generate(checkpoint)
    write_golden(os.path.join(DATA, "tiny_gpt2_generate.golden"), generate)
    written.append(("tiny_gpt2_generate.golden", f"{len(generate)} tensors"))
    # The MoE model trains on tiny_tokens.bin too (after its 256 int32 header).
    moe = make_tiny_moe(np.frombuffer(token_file[1024:], dtype="<u2").astype(np.int64))
    write_golden(os.path.join(DATA, "tiny_moe.golden"), moe)
    written.append(("tiny_moe.golden", f"{len(moe)} tensors"))
    prompts = [generate[f"generate.{i}.prompt"].tolist() for i in range(GENERATE_PROMPTS)]
    llama, llama_generate, llama_notes = make_llama_golden(
        np.frombuffer(token_file[1024:], dtype="<u2").astype(np.int64), prompts)
    write_golden(os.path.join(DATA, "tiny_llama.golden"), llama)
    written.append(("tiny_llama.golden", f"{len(llama)} tensors"))
    written.append(("tiny_llama.hf/model.safetensors", "fp32, LlamaForCausalLM's names"))
    write_golden(os.path.join(DATA, "tiny_llama_generate.golden"), llama_generate)
    written.append(("tiny_llama_generate.golden", f"{len(llama_generate)} tensors"))

    for name, what in written:
        path = os.path.join(DATA, name)
        print(f"{path}  {os.path.getsize(path):>7} bytes  {what}")
    back = read_golden(os.path.join(DATA, "tiny_gpt2.golden"))
    print("tiny GPT-2 loss at init %.6f; per step: %s" %
          (back["loss"], " ".join("%.6f" % v for v in back["train.loss"])))
    print("grad norm per step (before clipping): %s" %
          " ".join("%.6f" % v for v in back["train.grad_norm"]))
    for note in llama_notes:
        print("tiny LLaMA " + note)


if __name__ == "__main__":
    main()
