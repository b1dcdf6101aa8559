"""Hugging Face's GPT-2 checkpoint format, written without Hugging Face's libraries: a model
directory (config.json and safetensors weights, one file or shards with an index) from the tiny
GPT-2's state, named and laid out as transformers' GPT2LMHeadModel / GPT2Model hold it; and
LlamaForCausalLM's, from llama_reference.TinyLlama (write_llama_directory).

The safetensors layout (8-byte little-endian header length N, N bytes of JSON mapping each tensor
to its dtype, shape and data offsets, then the data) is written here from its specification.
"""

import json
import os
import shutil

import numpy as np
import torch


def _tensor_bytes(t, dtype):
    """The little-endian bytes of float tensor `t` as `dtype` ("F32", "BF16", "F64")."""
    t = t.detach().cpu()
    if dtype == "F32":
        return t.to(torch.float32).numpy().astype("<f4").tobytes()
    if dtype == "F64":
        return t.to(torch.float64).numpy().astype("<f8").tobytes()
    if dtype == "BF16":  # round to nearest even, as PyTorch converts
        return t.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()
    raise ValueError(dtype)


def safetensors_bytes(tensors, metadata=None):
    """tensors: list of (name, tensor, dtype). Header padded with spaces to a multiple of 8."""
    header, blobs, at = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t, dtype in tensors:
        blob = _tensor_bytes(t, dtype)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [at, at + len(blob)]}
        blobs.append(blob)
        at += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return len(text).to_bytes(8, "little") + text + b"".join(blobs)


def gpt2_config(model_dims):
    v, max_t, layers, heads, c = model_dims
    return {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": v,
        "n_positions": max_t, "n_ctx": max_t, "n_embd": c, "n_layer": layers, "n_head": heads,
        "n_inner": None, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-05,
        "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0, "tie_word_embeddings": True,
    }


def gpt2_state(model, v, max_t, mask_buffers):
    """GPT2Model's state dict of the tiny GPT-2 (no prefix): Conv1D weights as [in, out], the
    token table's first v rows; with mask_buffers, the causal-mask buffers older files hold."""
    state = [("wte.weight", model.wte[:v]), ("wpe.weight", model.wpe)]
    for i, block in enumerate(model.h):
        p = f"h.{i}."
        state += [
            (p + "ln_1.weight", block.ln1.weight), (p + "ln_1.bias", block.ln1.bias),
            (p + "attn.c_attn.weight", block.qkv.weight.t()), (p + "attn.c_attn.bias", block.qkv.bias),
            (p + "attn.c_proj.weight", block.attn_proj.weight.t()),
            (p + "attn.c_proj.bias", block.attn_proj.bias),
            (p + "ln_2.weight", block.ln2.weight), (p + "ln_2.bias", block.ln2.bias),
            (p + "mlp.c_fc.weight", block.fc.weight.t()), (p + "mlp.c_fc.bias", block.fc.bias),
            (p + "mlp.c_proj.weight", block.mlp_proj.weight.t()),
            (p + "mlp.c_proj.bias", block.mlp_proj.bias),
        ]
        if mask_buffers:
            state.append((p + "attn.bias", torch.tril(torch.ones(max_t, max_t)).view(1, 1, max_t, max_t)))
    state += [("ln_f.weight", model.lnf.weight), ("ln_f.bias", model.lnf.bias)]
    return state


def write_gpt2_directory(directory, model, model_dims, *, prefix="", dtype="F32", shards=1,
                         mask_buffers=False, lm_head=False):
    """Writes config.json and the weights: model.safetensors, or `shards` files with
    model.safetensors.index.json. prefix "transformer." names them as GPT2LMHeadModel does."""
    v, max_t = model_dims[0], model_dims[1]
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(gpt2_config(model_dims), f, indent=2)
        f.write("\n")
    state = [(prefix + name, t, dtype) for name, t in gpt2_state(model, v, max_t, mask_buffers)]
    if lm_head:
        state.append(("lm_head.weight", model.wte[:v], dtype))
    metadata = {"format": "pt"}
    if shards == 1:
        with open(os.path.join(directory, "model.safetensors"), "wb") as f:
            f.write(safetensors_bytes(state, metadata))
        return
    weight_map, per = {}, (len(state) + shards - 1) // shards
    for s in range(shards):
        name = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        part = state[s * per:(s + 1) * per]
        with open(os.path.join(directory, name), "wb") as f:
            f.write(safetensors_bytes(part, metadata))
        weight_map.update({tensor: name for tensor, _, _ in part})
    with open(os.path.join(directory, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f, indent=2)
        f.write("\n")


def llama_config(dims, max_positions):
    """config.json as LlamaForCausalLM's save_pretrained writes it (llama_reference.LlamaDims;
    vocab_size is V: Hugging Face has no padding rows)."""
    return {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "attention_bias": False,
        "attention_dropout": 0.0, "bos_token_id": 1, "eos_token_id": 2,
        "head_dim": dims.head_dim, "hidden_act": "silu", "hidden_size": dims.hidden,
        "initializer_range": 0.02, "intermediate_size": dims.ffn_hidden,
        "max_position_embeddings": max_positions, "mlp_bias": False,
        "num_attention_heads": dims.heads, "num_hidden_layers": dims.layers,
        "num_key_value_heads": dims.kv_heads, "pretraining_tp": 1,
        "rms_norm_eps": dims.norm_eps, "rope_scaling": None, "rope_theta": dims.rope_theta,
        "tie_word_embeddings": False, "torch_dtype": "float32", "use_cache": True,
        "vocab_size": dims.vocab,
    }


def write_llama_directory(directory, model, max_positions, dtype="F32"):
    """Writes config.json and model.safetensors (one file) of llama_reference.TinyLlama `model`
    under LlamaForCausalLM's names (model.hf_state())."""
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(llama_config(model.d, max_positions), f, indent=2)
        f.write("\n")
    state = [(name, t, dtype) for name, t in model.hf_state()]
    with open(os.path.join(directory, "model.safetensors"), "wb") as f:
        f.write(safetensors_bytes(state, {"format": "pt"}))
