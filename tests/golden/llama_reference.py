"""A LLaMA-style decoder in PyTorch: the reference Trellis's LLaMA blocks are held to
(ModelArchitecture in core/include/trellis/config.h: RMSNorm, SwiGLU, rotary positions,
grouped-query attention, no biases, an untied head).

The definitions (the contract for Trellis's layers), C hidden, NH heads, KV kv_heads,
hd = C / NH, F ffn_hidden, Vp the token table's rows (the first V are real tokens), L blocks:

- x = wte[token] (no position table).
- Each block i: x += attention(rmsnorm(x, ln1)); x += mlp(rmsnorm(x, ln2)).
- rmsnorm(x, w) = x / sqrt(mean over the C channels of x^2 + eps) * w (no bias, no mean); eps
  is the float64 number here, the kernel's float argument in Trellis (tests/numerics/
  error_bound.h counts the difference).
- Attention: q = x Wq^T [NH heads], k, v = x Wk^T, x Wv^T [KV heads], head h's channels
  h*hd .. h*hd + hd - 1; rotary positions on q and k, token t at position t (0 .. T-1):
  channel i < hd/2 of a head pairs with channel i + hd/2 ("rotate half", Hugging Face's LLaMA
  layout) and the pair (a, b) becomes (a cos - b sin, b cos + a sin), angle t * theta^(-2i/hd)
  in float64. Query head h attends with kv head h // (NH / KV) (Hugging Face's repeat_kv),
  causally, scores scaled by 1/sqrt(hd); out = concat of the heads @ Wproj^T.
- MLP: h = silu(x Wgate^T) * (x Wup^T), silu(g) = g / (1 + exp(-g)); out = h Wdown^T.
- logits = rmsnorm(x, lnf) @ lm_head^T, the first V columns; loss = mean cross-entropy over the
  B*T tokens.
- Parameter names and global shapes: wte [Vp, C]; h.i.ln1.weight [C]; when KV == NH
  h.i.attn.qkv.weight [3, C, C] (Q, K, V), otherwise h.i.attn.q.weight [C, C] and
  h.i.attn.kv.weight [2, KV*hd, C] (K, V; row kvhead*hd + d); h.i.attn.proj.weight [C, C];
  h.i.ln2.weight [C]; h.i.mlp.fc.weight [2, F, C] (gate, up); h.i.mlp.proj.weight [C, F];
  lnf.weight [C]; lm_head.weight [Vp, C]. Weight decay on the matrices and both tables, not on
  the norms.

Each matrix is one nn.Linear holding Trellis's rows in order (qkv as [3C, C], kv as
[2 KV hd, C], fc as [2F, C]), so a parameter's Trellis tensor is its PyTorch tensor reshaped.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class LlamaDims:
    vocab: int  # V, real tokens
    padded_vocab: int  # Vp, rows of wte and lm_head
    hidden: int  # C
    heads: int  # NH
    kv_heads: int  # KV, divides NH
    ffn_hidden: int  # F
    layers: int  # L
    rope_theta: float
    norm_eps: float

    @property
    def head_dim(self):
        return self.hidden // self.heads


class RmsNorm(torch.nn.Module):
    def __init__(self, channels, eps):
        super().__init__()
        self.eps = eps
        self.weight = torch.nn.Parameter(torch.empty(channels))

    def normalized(self, x):
        return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + self.eps)

    def forward(self, x):
        return self.normalized(x) * self.weight


def rope(x, theta):
    """Rotary positions on x [B, heads, T, hd], token t at position t, rotate-half pairs."""
    T, hd = x.shape[2], x.shape[3]
    half = hd // 2
    i = torch.arange(half, dtype=torch.float64)
    freq = theta ** (-2.0 * i / hd)  # [hd/2], in float64
    angle = torch.arange(T, dtype=torch.float64)[:, None] * freq[None, :]  # [T, hd/2]
    cos, sin = torch.cos(angle).to(x.dtype), torch.sin(angle).to(x.dtype)
    a, b = x[..., :half], x[..., half:]
    return torch.cat([a * cos - b * sin, b * cos + a * sin], dim=-1)


class LlamaBlock(torch.nn.Module):
    def __init__(self, d):
        super().__init__()
        C, hd = d.hidden, d.head_dim
        self.d = d
        self.ln1 = RmsNorm(C, d.norm_eps)
        if d.kv_heads == d.heads:
            self.qkv = torch.nn.Linear(C, 3 * C, bias=False)
        else:
            self.q = torch.nn.Linear(C, C, bias=False)
            self.kv = torch.nn.Linear(C, 2 * d.kv_heads * hd, bias=False)
        self.proj = torch.nn.Linear(C, C, bias=False)
        self.ln2 = RmsNorm(C, d.norm_eps)
        self.fc = torch.nn.Linear(C, 2 * d.ffn_hidden, bias=False)  # gate rows, then up rows
        self.mlp_proj = torch.nn.Linear(d.ffn_hidden, C, bias=False)

    def qk_rows(self):
        """(Trellis name, first row, end row) of the query and key rows of the block's matrices."""
        C, kvc = self.d.hidden, self.d.kv_heads * self.d.head_dim
        if hasattr(self, "qkv"):
            return [("attn.qkv", 0, 2 * C)]
        return [("attn.q", 0, C), ("attn.kv", 0, kvc)]

    def linears(self):
        """(Trellis name without the block prefix, module) of the block's matrices."""
        attn = ([("attn.qkv", self.qkv)] if hasattr(self, "qkv")
                else [("attn.q", self.q), ("attn.kv", self.kv)])
        return attn + [("attn.proj", self.proj), ("mlp.fc", self.fc), ("mlp.proj", self.mlp_proj)]

    def attention(self, x, record=None, name=""):
        d = self.d
        B, T, C = x.shape
        NH, KV, hd = d.heads, d.kv_heads, d.head_dim
        if hasattr(self, "qkv"):
            q, k, v = _linear(self.qkv, x, record, name + "attn.qkv").split(C, dim=-1)
        else:
            q = _linear(self.q, x, record, name + "attn.q")
            k, v = _linear(self.kv, x, record, name + "attn.kv").split(KV * hd, dim=-1)
        q = q.reshape(B, T, NH, hd).transpose(1, 2)  # [B, NH, T, hd]
        k = k.reshape(B, T, KV, hd).transpose(1, 2)  # [B, KV, T, hd]
        v = v.reshape(B, T, KV, hd).transpose(1, 2)
        q, k = rope(q, d.rope_theta), rope(k, d.rope_theta)
        group = torch.arange(NH) // (NH // KV)  # query head h -> kv head h // (NH / KV)
        k, v = k[:, group], v[:, group]
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
        probs = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
        y = (probs @ v).transpose(1, 2).reshape(B, T, C)
        return _linear(self.proj, y, record, name + "attn.proj")

    def mlp(self, x, record=None, name=""):
        gate, up = _linear(self.fc, x, record, name + "mlp.fc").split(self.d.ffn_hidden, dim=-1)
        return _linear(self.mlp_proj, F.silu(gate) * up, record, name + "mlp.proj")

    def forward(self, x, record=None, name=""):
        x = x + self.attention(_norm(self.ln1, x, record, name + "ln1"), record, name)
        return x + self.mlp(_norm(self.ln2, x, record, name + "ln2"), record, name)


def _linear(module, x, record, name):
    out = module(x)
    if record is not None and out.requires_grad:
        out.retain_grad()
        record[name] = (x, out)
    return out


def _norm(module, x, record, name):
    out = module(x)
    if record is not None and out.requires_grad:
        out.retain_grad()
        record[name] = (module.normalized(x), out)
    return out


class TinyLlama(torch.nn.Module):
    def __init__(self, d):
        super().__init__()
        self.d = d
        self.wte = torch.nn.Parameter(torch.empty(d.padded_vocab, d.hidden))
        self.h = torch.nn.ModuleList(LlamaBlock(d) for _ in range(d.layers))
        self.lnf = RmsNorm(d.hidden, d.norm_eps)
        self.lm_head = torch.nn.Parameter(torch.empty(d.padded_vocab, d.hidden))

    def init_weights(self, gen, randn, std=0.02, qk_std=0.02, norm_noise=0.1):
        """Drawn in float32 from `gen`: every matrix and both tables (padding rows too)
        N(0, std), except the query and key rows, N(0, qk_std); the norms' weights
        1 + N(0, norm_noise), so that they matter."""
        with torch.no_grad():
            self.wte.copy_(randn(gen, *self.wte.shape, scale=std))
            for block in self.h:
                block.ln1.weight.copy_(randn(gen, self.d.hidden, scale=norm_noise, shift=1.0))
                qk = {name: (begin, end) for name, begin, end in block.qk_rows()}
                for name, linear in block.linears():
                    scale = torch.full((linear.weight.shape[0], 1), std)
                    if name in qk:
                        scale[qk[name][0] : qk[name][1]] = qk_std
                    linear.weight.copy_(randn(gen, *linear.weight.shape) * scale)
                block.ln2.weight.copy_(randn(gen, self.d.hidden, scale=norm_noise, shift=1.0))
            self.lnf.weight.copy_(randn(gen, self.d.hidden, scale=norm_noise, shift=1.0))
            self.lm_head.copy_(randn(gen, *self.lm_head.shape, scale=std))

    def forward(self, tokens, targets=None, record=None):
        """(logits [B, T, V] of the real tokens, mean cross-entropy or None). With `record` a
        dict, it gets name -> (input, output) of every linear layer ("h.0.attn.qkv", ...,
        "lm_head") and name -> (normalized input, output) of every norm, the outputs retaining
        their gradients."""
        x = self.wte[tokens.long()]
        if record is not None and x.requires_grad:
            x.retain_grad()
            record["wte"] = (tokens, x)
        for i, block in enumerate(self.h):
            x = block(x, record, f"h.{i}.")
        x = _norm(self.lnf, x, record, "lnf")
        logits = x @ self.lm_head.t()
        if record is not None and logits.requires_grad:
            logits.retain_grad()
            record["lm_head"] = (x, logits)
        logits = logits[..., : self.d.vocab]  # padding rows never reach the softmax
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.reshape(-1, self.d.vocab), targets.reshape(-1).long())
        return logits, loss

    def named_trellis(self):
        """(Trellis name, parameter, Trellis's global shape) of every parameter."""
        d = self.d
        C, hd, F_ = d.hidden, d.head_dim, d.ffn_hidden
        yield "wte", self.wte, (d.padded_vocab, C)
        for i, block in enumerate(self.h):
            p = f"h.{i}."
            yield p + "ln1.weight", block.ln1.weight, (C,)
            if hasattr(block, "qkv"):
                yield p + "attn.qkv.weight", block.qkv.weight, (3, C, C)
            else:
                yield p + "attn.q.weight", block.q.weight, (C, C)
                yield p + "attn.kv.weight", block.kv.weight, (2, d.kv_heads * hd, C)
            yield p + "attn.proj.weight", block.proj.weight, (C, C)
            yield p + "ln2.weight", block.ln2.weight, (C,)
            yield p + "mlp.fc.weight", block.fc.weight, (2, F_, C)
            yield p + "mlp.proj.weight", block.mlp_proj.weight, (C, F_)
        yield "lnf.weight", self.lnf.weight, (C,)
        yield "lm_head.weight", self.lm_head, (d.padded_vocab, C)

    def hf_state(self):
        """Hugging Face LlamaForCausalLM's state dict (name, tensor): the first V rows of the
        tables (no padding rows), q/k/v/o and gate/up/down projections as [out, in]."""
        d = self.d
        C, kvc, F_ = d.hidden, d.kv_heads * d.head_dim, d.ffn_hidden
        state = [("model.embed_tokens.weight", self.wte[: d.vocab])]
        for i, block in enumerate(self.h):
            p = f"model.layers.{i}."
            if hasattr(block, "qkv"):
                q, k, v = block.qkv.weight.split(C, dim=0)
            else:
                q = block.q.weight
                k, v = block.kv.weight.split(kvc, dim=0)
            gate, up = block.fc.weight.split(F_, dim=0)
            state += [
                (p + "input_layernorm.weight", block.ln1.weight),
                (p + "self_attn.q_proj.weight", q), (p + "self_attn.k_proj.weight", k),
                (p + "self_attn.v_proj.weight", v),
                (p + "self_attn.o_proj.weight", block.proj.weight),
                (p + "post_attention_layernorm.weight", block.ln2.weight),
                (p + "mlp.gate_proj.weight", gate), (p + "mlp.up_proj.weight", up),
                (p + "mlp.down_proj.weight", block.mlp_proj.weight),
            ]
        state += [("model.norm.weight", self.lnf.weight),
                  ("lm_head.weight", self.lm_head[: d.vocab])]
        return state


def check_term_magnitudes(model, tokens, targets):
    """As make_golden.py's check for the GPT-2: the tests bound each parameter gradient by
    gamma(P) * sqrt(N) * max|grad| (tests/numerics/error_bound.h), sqrt(N) standing for the ratio
    of the magnitudes of the N per-token terms of the gradient's final sum to the largest
    gradient. Checks that ratio, from the float64 forward and backward, for every parameter:
    the matrices (terms |dout|^T |in|), the norms (|dout * normalized input|), the head
    (|dlogits|^T |x|) and the token table (per row, |dx| of the tokens that read it). Returns
    the largest ratio."""
    for p in model.parameters():
        p.grad = None
    record = {}
    _, loss = model(tokens, targets, record)
    loss.backward()
    n = tokens.numel()
    grads = {name: param.grad for name, param, _ in model.named_trellis()}
    worst = 0.0
    for name, (x, out) in record.items():
        d = out.grad.reshape(n, -1)
        if name == "wte":
            dx = d.abs()
            magnitude = torch.zeros_like(grads["wte"]).index_add_(0, x.reshape(-1).long(), dx)
            grad = grads["wte"]
        elif name == "lm_head":
            magnitude = d.abs().t() @ x.reshape(n, -1).abs()
            grad = grads["lm_head.weight"]
        elif name.endswith(("ln1", "ln2")) or name == "lnf":
            magnitude = (d * x.reshape(n, -1)).abs().sum(0)
            grad = grads[name + ".weight"]
        else:
            magnitude = d.abs().t() @ x.reshape(n, -1).abs()
            grad = grads[name + ".weight"]
        ratio = (magnitude.max() / grad.abs().max()).item()
        assert ratio <= math.sqrt(n), f"{name}: term magnitudes {ratio:.2f} x gradient"
        worst = max(worst, ratio)
    for p in model.parameters():
        p.grad = None
    return worst
