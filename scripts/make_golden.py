#!/usr/bin/env python3
"""Write PyTorch golden values for basin's BasinCore tests.

Run by hand (never in CI), from anywhere:

    python scripts/make_golden.py [--models DIR] [--out DIR] [--cases NAME ...]

Each case becomes one JSON file `<out>/<case>.json`:

    {"case": "<case>", "meta": {...}, "tensors": {"<name>": {"shape": [...], "b64": "..."}}}

`b64` is the base64 of the tensor's row-major little-endian float32 bytes. Every tensor is
float32, exactly as basin computes; integer values (class targets, num_batches_tracked) are
stored as float32 too, which is exact below 2^24. Names follow the convention in
scripts/README.md.

The output is byte-for-byte reproducible on one machine and torch version: fixed seeds, one
thread, deterministic algorithms, no time stamps, fixed key order. After writing, the script
reads every file back and checks it against what it meant to write, and recomputes a few
cases independently (numpy, or a fresh PyTorch model loaded from the fixture) so a mistake in
the generator shows here rather than as a puzzling Swift test failure.
"""
import argparse
import base64
import json
import os
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODELS_DIR = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "bench"))
DEFAULT_OUT_DIR = os.path.join(REPO_ROOT, "Tests", "BasinCoreTests", "Fixtures")

# Seeds are listed, not derived from the case name: Python's str hash is salted per process.
SEEDS = {
    "linear": 101, "conv_pad1": 102, "conv_stride2_bias": 103, "conv_1x1_stride2": 104,
    "batchnorm_train": 105, "batchnorm_eval": 106, "batchnorm_cumulative": 107,
    "maxpool": 108, "relu": 109, "global_avg_pool": 110, "cross_entropy": 111,
    "model_mlp": 201, "model_cnn": 202, "model_resnet20": 203,
    "sgd_cnn": 301, "sgd_nesterov_cnn": 302,
}


# ----------------------------------------------------------------------------------------
# Encoding

def as_f32(value):
    array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"cannot store dtype {array.dtype} as float32")
    converted = array.astype("<f4")
    # Integers above 2^24 would silently round; none of ours come close, but say so if they do.
    if array.dtype.kind in "iu" and not np.array_equal(converted.astype(array.dtype), array):
        raise ValueError("integer tensor not exactly representable in float32")
    # Not np.ascontiguousarray: it turns a 0-d scalar (loss, num_batches_tracked) into shape [1].
    return converted.copy(order="C")


def encode(value):
    array = as_f32(value)
    return {"shape": list(array.shape), "b64": base64.b64encode(array.tobytes()).decode("ascii")}


def decode(entry):
    raw = base64.b64decode(entry["b64"], validate=True)
    count = int(np.prod(entry["shape"], dtype=np.int64))
    if len(raw) != 4 * count:
        raise ValueError(f"b64 holds {len(raw)} bytes, shape {entry['shape']} needs {4 * count}")
    # Copied: frombuffer's array is read-only, which torch.from_numpy warns about.
    return np.frombuffer(raw, dtype="<f4").reshape(entry["shape"]).copy()


def render(case, meta, tensors):
    # One tensor per line keeps diffs of regenerated fixtures readable.
    lines = ["{", f' "case": {json.dumps(case)},', f' "meta": {json.dumps(meta, sort_keys=True)},',
             ' "tensors": {']
    names = list(tensors)
    for index, name in enumerate(names):
        comma = "," if index + 1 < len(names) else ""
        lines.append(f"  {json.dumps(name)}: {json.dumps(encode(tensors[name]))}{comma}")
    lines += [" }", "}", ""]
    return "\n".join(lines)


def write_atomically(path, text):
    folder = os.path.dirname(path)
    fd, temporary = tempfile.mkstemp(prefix=".golden-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


# ----------------------------------------------------------------------------------------
# Helpers shared by the cases

def generator(case):
    return torch.Generator().manual_seed(SEEDS[case])


def randn(gen, *shape, scale=1.0):
    return torch.randn(*shape, generator=gen) * scale


def base_meta(**fields):
    meta = {"torch_version": torch.__version__, "dtype": "float32"}
    meta.update(fields)
    return meta


def randomize_parameters(module, gen):
    # Default initializers scale weights by fan-in, leaving small values that hide mistakes
    # such as a transposed weight; unit-scale random values make them show.
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(randn(gen, *parameter.shape, scale=0.5))


def randomize_batchnorm(module, gen, scale=1.0, tracked=0):
    """Weight, bias and running stats of every BatchNorm away from 1/0 (`scale` sets how far)."""
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, nn.modules.batchnorm._BatchNorm):
                count = layer.num_features
                layer.weight.copy_(1 + randn(gen, count, scale=0.2 * scale))
                layer.bias.copy_(randn(gen, count, scale=0.2 * scale))
                layer.running_mean.copy_(randn(gen, count, scale=0.2 * scale))
                layer.running_var.copy_(1 + scale * 0.5 * torch.rand(count, generator=gen))
                layer.num_batches_tracked.fill_(tracked)


def snapshot(module):
    tensors = {"param/" + name: parameter.detach().clone()
               for name, parameter in module.named_parameters()}
    tensors.update(buffers_of(module, "buffer/"))
    return tensors


def buffers_of(module, prefix):
    return {prefix + name: buffer.detach().clone() for name, buffer in module.named_buffers()}


def grads_of(module):
    return {"grad/" + name: parameter.grad.detach().clone()
            for name, parameter in module.named_parameters()}


def layer_case(module, input_shape, meta, gen, train=True, make_input=None):
    """Forward `module` on a random input and backward a random upstream gradient."""
    module.train(train)
    tensors = snapshot(module)
    x = (make_input(gen, input_shape) if make_input else randn(gen, *input_shape))
    x = x.requires_grad_(True)
    tensors["input"] = x.detach().clone()
    output = module(x)
    grad_output = randn(gen, *output.shape)
    # loss = sum(output * grad_output) makes grad_output the gradient flowing into the layer.
    (output * grad_output).sum().backward()
    tensors["output"] = output.detach().clone()
    tensors["grad_output"] = grad_output
    tensors["grad_input"] = x.grad.detach().clone()
    tensors.update(grads_of(module))
    tensors.update(buffers_of(module, "buffer_after/"))
    meta = base_meta(mode="train" if train else "eval", backward="loss = sum(output * grad_output)",
                     **meta)
    return meta, tensors


def function_case(function, input_shape, meta, gen):
    x = randn(gen, *input_shape).requires_grad_(True)
    output = function(x)
    grad_output = randn(gen, *output.shape)
    (output * grad_output).sum().backward()
    tensors = {"input": x.detach().clone(), "output": output.detach().clone(),
               "grad_output": grad_output, "grad_input": x.grad.detach().clone()}
    return base_meta(backward="loss = sum(output * grad_output)", **meta), tensors


def conv_meta(conv):
    return {"layer": "Conv2d", "in_channels": conv.in_channels, "out_channels": conv.out_channels,
            "kernel_size": conv.kernel_size[0], "stride": conv.stride[0],
            "padding": conv.padding[0], "bias": conv.bias is not None}


# ----------------------------------------------------------------------------------------
# Single layers

def case_linear(case):
    gen = generator(case)
    layer = nn.Linear(7, 5)
    randomize_parameters(layer, gen)
    return layer_case(layer, (3, 7), {"layer": "Linear", "in_features": 7,
                                            "out_features": 5, "bias": True}, gen)


def make_conv_case(cin, cout, kernel, stride, padding, bias, input_shape):
    def build(case):
        gen = generator(case)
        conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=bias)
        randomize_parameters(conv, gen)
        return layer_case(conv, input_shape, conv_meta(conv), gen)
    return build


def bn_meta(layer, **extra):
    meta = {"layer": "BatchNorm2d", "num_features": layer.num_features, "eps": layer.eps,
            "momentum": layer.momentum, "variance_for_running_var": "unbiased (n-1)",
            "variance_for_normalization": "biased (n)"}
    meta.update(extra)
    return meta


def channel_shaped_input(gen, shape):
    """Random input whose channels have different means and spreads, so per-channel
    statistics differ and a mix-up of channels shows."""
    channels = shape[1]
    spreads = 0.5 + 2.0 * torch.rand(1, channels, 1, 1, generator=gen)
    means = randn(gen, 1, channels, 1, 1, scale=2.0)
    return randn(gen, *shape) * spreads + means


def batchnorm_case(case, train, input_shape):
    gen = generator(case)
    layer = nn.BatchNorm2d(3, momentum=0.1)
    randomize_batchnorm(layer, gen, scale=2.0, tracked=3)
    return layer_case(layer, input_shape, bn_meta(layer), gen, train=train,
                      make_input=channel_shaped_input)


def case_batchnorm_cumulative(case):
    """torch.optim.swa_utils.update_bn: reset stats, momentum=None, forward batches in train mode."""
    gen = generator(case)
    layer = nn.BatchNorm2d(3, momentum=0.1)
    randomize_batchnorm(layer, gen, scale=2.0, tracked=3)
    tensors = snapshot(layer)
    batches = [channel_shaped_input(gen, (4, 3, 5, 5)) for _ in range(3)]
    for index, batch in enumerate(batches):
        tensors[f"input/{index}"] = batch
    torch.optim.swa_utils.update_bn([(batch,) for batch in batches], layer)
    tensors.update(buffers_of(layer, "buffer_after/"))
    meta = base_meta(**bn_meta(layer), procedure=(
        "torch.optim.swa_utils.update_bn: reset_running_stats() (mean 0, var 1, "
        "num_batches_tracked 0), momentum=None (cumulative average over batches), "
        "forward each input/<i> in train mode, restore momentum"), batches=len(batches))
    meta["momentum"] = "none (cumulative average)"
    return meta, tensors


def case_maxpool(case):
    return function_case(nn.MaxPool2d(2), (2, 3, 6, 6),
                         {"layer": "MaxPool2d", "kernel_size": 2, "stride": 2, "padding": 0},
                         generator(case))


def case_relu(case):
    return function_case(torch.relu, (2, 3, 4, 5), {"layer": "ReLU"}, generator(case))


def case_global_avg_pool(case):
    return function_case(lambda x: x.mean((2, 3)), (2, 3, 4, 5),
                         {"layer": "global average pool", "definition": "x.mean((2, 3))"},
                         generator(case))


def case_cross_entropy(case):
    gen = generator(case)
    logits = randn(gen, 5, 4, scale=2.0).requires_grad_(True)
    target = torch.randint(0, 4, (5,), generator=gen)
    loss = F.cross_entropy(logits, target)
    loss.backward()
    tensors = {"input": logits.detach().clone(), "target": target, "loss": loss.detach().clone(),
               "grad_input": logits.grad.detach().clone()}
    return base_meta(loss="cross_entropy", reduction="mean", classes=4,
                     grad_input="d(mean loss)/d(logits)"), tensors


# ----------------------------------------------------------------------------------------
# Whole models

def load_reference_models(folder):
    if not os.path.isfile(os.path.join(folder, "reference_models.py")):
        raise SystemExit(f"make_golden: no reference_models.py in {folder} (use --models DIR)")
    sys.path.insert(0, folder)
    import reference_models
    return reference_models


REFERENCE = None  # set in main


def build_model(name, seed, gen):
    torch.manual_seed(seed)
    model = REFERENCE.MODELS[name](num_classes=10)
    # Mild randomization: keeps activations in a normal range while making BatchNorm's
    # weight, bias and running stats distinguishable from their defaults.
    randomize_batchnorm(model, gen, scale=1.0, tracked=5)
    return model


def model_case(case, name):
    gen = generator(case)
    model = build_model(name, SEEDS[case], gen)
    tensors = snapshot(model)
    x = randn(gen, 2, 1, 28, 28)
    target = torch.tensor([3, 7])
    tensors["input"] = x
    tensors["target"] = target
    model.train()
    output = model(x)
    loss = F.cross_entropy(output, target)
    loss.backward()
    tensors["output"] = output.detach().clone()
    tensors["loss"] = loss.detach().clone()
    tensors.update(grads_of(model))
    tensors.update(buffers_of(model, "buffer_after/"))
    model.eval()
    with torch.no_grad():
        tensors["eval_output"] = model(x)
    meta = base_meta(model=name, num_classes=10, init_seed=SEEDS[case],
                     mode="train forward + backward, then eval forward",
                     loss="cross_entropy mean", batchnorm_momentum=0.1,
                     eval_output="logits in eval mode with buffer_after (no parameter change)",
                     init="torch defaults under torch.manual_seed(init_seed), then BatchNorm "
                          "weight/bias/running stats randomized, num_batches_tracked 5")
    return meta, tensors


def sgd_case(case, name, lr, momentum, weight_decay, nesterov, steps=3, batch=4):
    gen = generator(case)
    model = build_model(name, SEEDS[case], gen)
    tensors = snapshot(model)
    batches = [(randn(gen, batch, 1, 28, 28), torch.randint(0, 10, (batch,), generator=gen))
               for _ in range(steps)]
    for index, (x, target) in enumerate(batches):
        tensors[f"input/{index}"] = x
        tensors[f"target/{index}"] = target
    # foreach=False: the plain per-parameter loop, the textbook order of operations.
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum,
                                weight_decay=weight_decay, nesterov=nesterov, foreach=False)
    model.train()
    for index, (x, target) in enumerate(batches):
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), target)
        loss.backward()
        optimizer.step()
        tensors[f"loss/{index}"] = loss.detach().clone()
    for pname, parameter in model.named_parameters():
        tensors["param_after/" + pname] = parameter.detach().clone()
    tensors.update(buffers_of(model, "buffer_after/"))
    for pname, parameter in model.named_parameters():
        tensors["momentum_after/" + pname] = optimizer.state[parameter]["momentum_buffer"].clone()
    update = ("g = grad + weight_decay * p; buf = g (first step) else momentum * buf + g; "
              + ("p -= lr * (g + momentum * buf)" if nesterov else "p -= lr * buf"))
    meta = base_meta(model=name, num_classes=10, init_seed=SEEDS[case],
                     optimizer="torch.optim.SGD", lr=lr, momentum=momentum, dampening=0.0,
                     weight_decay=weight_decay, nesterov=nesterov, steps=steps, batch_size=batch,
                     mode="train", loss="cross_entropy mean", batchnorm_momentum=0.1,
                     update=update, step="zero_grad, forward input/<i>, loss/<i>, backward, step",
                     init="torch defaults under torch.manual_seed(init_seed), then BatchNorm "
                          "weight/bias/running stats randomized, num_batches_tracked 5")
    return meta, tensors


CASES = {
    "linear": case_linear,
    "conv_pad1": make_conv_case(3, 4, 3, 1, 1, False, (2, 3, 6, 6)),
    "conv_stride2_bias": make_conv_case(3, 5, 3, 2, 1, True, (2, 3, 7, 7)),
    "conv_1x1_stride2": make_conv_case(4, 6, 1, 2, 0, False, (2, 4, 6, 6)),
    "batchnorm_train": lambda case: batchnorm_case(case, True, (4, 3, 5, 5)),
    "batchnorm_eval": lambda case: batchnorm_case(case, False, (2, 3, 5, 5)),
    "batchnorm_cumulative": case_batchnorm_cumulative,
    "maxpool": case_maxpool,
    "relu": case_relu,
    "global_avg_pool": case_global_avg_pool,
    "cross_entropy": case_cross_entropy,
    "model_mlp": lambda case: model_case(case, "mlp"),
    "model_cnn": lambda case: model_case(case, "cnn"),
    "model_resnet20": lambda case: model_case(case, "resnet20"),
    "sgd_cnn": lambda case: sgd_case(case, "cnn", lr=0.05, momentum=0.9, weight_decay=5e-4,
                                     nesterov=False),
    "sgd_nesterov_cnn": lambda case: sgd_case(case, "cnn", lr=0.1, momentum=0.9,
                                              weight_decay=1e-3, nesterov=True),
}


# ----------------------------------------------------------------------------------------
# Self-check: read the files back and recompute what can be recomputed independently

class CheckFailed(Exception):
    pass


def expect_close(what, actual, expected, tolerance):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise CheckFailed(f"{what}: shape {actual.shape}, expected {expected.shape}")
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    error = float(np.abs(actual - expected).max(initial=0.0))
    if not error <= tolerance * scale:
        raise CheckFailed(f"{what}: max error {error:.3g} > {tolerance:.1g} * {scale:.3g}")


def read_fixture(path):
    with open(path, encoding="ascii") as handle:
        document = json.load(handle)
    return document, {name: decode(entry) for name, entry in document["tensors"].items()}


def check_round_trip(path, case, meta, tensors):
    document, stored = read_fixture(path)
    if document["case"] != case or document["meta"] != json.loads(json.dumps(meta)):
        raise CheckFailed(f"{path}: case name or meta differ after reading back")
    if list(stored) != list(tensors):
        raise CheckFailed(f"{path}: tensor names differ after reading back")
    for name, value in tensors.items():
        if not np.array_equal(stored[name], as_f32(value)):
            raise CheckFailed(f"{path}: tensor {name} differs after reading back")
    for name, value in stored.items():
        if not np.all(np.isfinite(value)):
            raise CheckFailed(f"{path}: tensor {name} holds NaN or infinity")
    return stored


# Float32 results recomputed in float64: differences come from float32 rounding alone.
TOLERANCE = 1e-5


def numpy_conv2d(x, w, stride, padding):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, _, h, width = x.shape
    cout, _, k, _ = w.shape
    oh, ow = (h - k) // stride + 1, (width - k) // stride + 1
    out = np.zeros((n, cout, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
            out[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w)
    return out


def independent_check(case, meta, t):
    t = {name: value.astype(np.float64) for name, value in t.items()}
    if case == "linear":
        x, w, b, g = t["input"], t["param/weight"], t["param/bias"], t["grad_output"]
        expect_close("linear output", t["output"], x @ w.T + b, TOLERANCE)
        expect_close("linear grad_input", t["grad_input"], g @ w, TOLERANCE)
        expect_close("linear grad/weight", t["grad/weight"], g.T @ x, TOLERANCE)
        expect_close("linear grad/bias", t["grad/bias"], g.sum(0), TOLERANCE)
    elif case.startswith("conv_"):
        out = numpy_conv2d(t["input"], t["param/weight"], meta["stride"], meta["padding"])
        if meta["bias"]:
            out += t["param/bias"].reshape(1, -1, 1, 1)
        expect_close(f"{case} output", t["output"], out, TOLERANCE)
    elif case in ("batchnorm_train", "batchnorm_eval"):
        x, w, b = t["input"], t["param/weight"], t["param/bias"]
        if case == "batchnorm_train":
            mean, var = x.mean((0, 2, 3)), x.var((0, 2, 3))
            unbiased = x.var((0, 2, 3), ddof=1)
            m = meta["momentum"]
            expect_close("bn running_mean", t["buffer_after/running_mean"],
                         (1 - m) * t["buffer/running_mean"] + m * mean, TOLERANCE)
            expect_close("bn running_var", t["buffer_after/running_var"],
                         (1 - m) * t["buffer/running_var"] + m * unbiased, TOLERANCE)
            expect_close("bn num_batches_tracked", t["buffer_after/num_batches_tracked"],
                         t["buffer/num_batches_tracked"] + 1, 0)
        else:
            mean, var = t["buffer/running_mean"], t["buffer/running_var"]
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                expect_close(f"bn eval {name}", t["buffer_after/" + name], t["buffer/" + name], 0)
        shape = (1, -1, 1, 1)
        normalized = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + meta["eps"])
        expect_close(f"{case} output", t["output"], normalized * w.reshape(shape) + b.reshape(shape),
                     TOLERANCE)
        g = t["grad_output"]
        expect_close(f"{case} grad/bias", t["grad/bias"], g.sum((0, 2, 3)), TOLERANCE)
        expect_close(f"{case} grad/weight", t["grad/weight"], (g * normalized).sum((0, 2, 3)),
                     TOLERANCE)
    elif case == "batchnorm_cumulative":
        batches = [t[f"input/{i}"] for i in range(meta["batches"])]
        expect_close("cumulative running_mean", t["buffer_after/running_mean"],
                     np.mean([x.mean((0, 2, 3)) for x in batches], axis=0), TOLERANCE)
        expect_close("cumulative running_var", t["buffer_after/running_var"],
                     np.mean([x.var((0, 2, 3), ddof=1) for x in batches], axis=0), TOLERANCE)
        expect_close("cumulative num_batches_tracked", t["buffer_after/num_batches_tracked"],
                     len(batches), 0)
    elif case == "maxpool":
        x = t["input"]
        n, c, h, w = x.shape
        expect_close("maxpool output", t["output"],
                     x.reshape(n, c, h // 2, 2, w // 2, 2).max((3, 5)), 0)
    elif case == "relu":
        expect_close("relu output", t["output"], np.maximum(t["input"], 0), 0)
        expect_close("relu grad_input", t["grad_input"], t["grad_output"] * (t["input"] > 0), 0)
    elif case == "global_avg_pool":
        x = t["input"]
        expect_close("gap output", t["output"], x.mean((2, 3)), TOLERANCE)
        expect_close("gap grad_input", t["grad_input"],
                     np.broadcast_to(t["grad_output"][:, :, None, None] / (x.shape[2] * x.shape[3]),
                                     x.shape), TOLERANCE)
    elif case == "cross_entropy":
        logits, target = t["input"], t["target"].astype(np.int64)
        shifted = logits - logits.max(1, keepdims=True)
        log_softmax = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
        rows = np.arange(len(target))
        expect_close("ce loss", t["loss"], -log_softmax[rows, target].mean(), TOLERANCE)
        one_hot = np.zeros_like(logits)
        one_hot[rows, target] = 1
        expect_close("ce grad_input", t["grad_input"],
                     (np.exp(log_softmax) - one_hot) / len(target), TOLERANCE)
    elif case.startswith("model_"):
        check_model_case(meta, t)
    elif case.startswith("sgd_"):
        check_sgd_case(meta, t)
    else:
        return False
    return True


def fresh_model_from(meta, t, prefix_param, prefix_buffer):
    model = REFERENCE.MODELS[meta["model"]](num_classes=meta["num_classes"])
    state = {}
    for name, value in model.state_dict().items():
        prefix = prefix_buffer if any(name == b for b, _ in model.named_buffers()) else prefix_param
        state[name] = torch.from_numpy(t[prefix + name]).to(value.dtype)
    model.load_state_dict(state)
    return model


def check_model_case(meta, t):
    # A model rebuilt from the stored tensors alone must reproduce the stored results: this
    # catches a fixture whose param/buffer names or values don't match what was computed.
    model = fresh_model_from(meta, t, "param/", "buffer/")
    model.train()
    x = torch.from_numpy(t["input"]).float()
    target = torch.from_numpy(t["target"]).long()
    output = model(x)
    loss = F.cross_entropy(output, target)
    loss.backward()
    expect_close("model output", output.detach(), t["output"], TOLERANCE)
    expect_close("model loss", loss.detach(), t["loss"], TOLERANCE)
    for name, parameter in model.named_parameters():
        expect_close(f"grad/{name}", parameter.grad, t["grad/" + name], TOLERANCE)
    for name, buffer in model.named_buffers():
        expect_close(f"buffer_after/{name}", buffer.double(), t["buffer_after/" + name], TOLERANCE)
    model.eval()
    with torch.no_grad():
        expect_close("eval_output", model(x), t["eval_output"], TOLERANCE)


def check_sgd_case(meta, t):
    # Replays the steps with a hand-written SGD (not torch.optim) to pin down the update rule.
    model = fresh_model_from(meta, t, "param/", "buffer/")
    model.train()
    lr, mu, wd, nesterov = meta["lr"], meta["momentum"], meta["weight_decay"], meta["nesterov"]
    momentum = {}
    for step in range(meta["steps"]):
        model.zero_grad(set_to_none=True)
        x = torch.from_numpy(t[f"input/{step}"]).float()
        target = torch.from_numpy(t[f"target/{step}"]).long()
        loss = F.cross_entropy(model(x), target)
        loss.backward()
        expect_close(f"loss/{step}", loss.detach(), t[f"loss/{step}"], TOLERANCE)
        with torch.no_grad():
            for name, p in model.named_parameters():
                g = p.grad + wd * p
                momentum[name] = g.clone() if step == 0 else mu * momentum[name] + g
                p -= lr * (g + mu * momentum[name] if nesterov else momentum[name])
    for name, p in model.named_parameters():
        expect_close(f"param_after/{name}", p.detach(), t["param_after/" + name], TOLERANCE)
        expect_close(f"momentum_after/{name}", momentum[name], t["momentum_after/" + name],
                     TOLERANCE)
    for name, buffer in model.named_buffers():
        expect_close(f"buffer_after/{name}", buffer.double(), t["buffer_after/" + name], TOLERANCE)


# ----------------------------------------------------------------------------------------

def main():
    global REFERENCE
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=DEFAULT_MODELS_DIR,
                        help="folder holding reference_models.py (default: %(default)s)")
    parser.add_argument("--out", default=DEFAULT_OUT_DIR,
                        help="folder for the <case>.json files (default: %(default)s)")
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), metavar="CASE",
                        help="write only these cases (default: all)")
    parser.add_argument("--quiet", action="store_true", help="print only the size summary")
    args = parser.parse_args()

    REFERENCE = load_reference_models(os.path.abspath(args.models))
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out, exist_ok=True)

    total = 0
    for case in args.cases or list(CASES):
        meta, tensors = CASES[case](case)
        # case_seed seeds the torch.Generator that draws the case's inputs and random values.
        meta = {"case_seed": SEEDS[case], **meta}
        path = os.path.join(args.out, f"{case}.json")
        write_atomically(path, render(case, meta, tensors))
        stored = check_round_trip(path, case, meta, tensors)
        checked = independent_check(case, meta, stored)
        size = os.path.getsize(path)
        total += size
        print(f"{case}: {size / 1e6:.3f} MB, {len(stored)} tensors, "
              f"{'recomputed independently' if checked else 'round trip only'}")
        if not args.quiet:
            for name, value in stored.items():
                print(f"    {name} {list(value.shape)}")
    print(f"total {total / 1e6:.3f} MB in {args.out}")


if __name__ == "__main__":
    try:
        main()
    except CheckFailed as failure:
        raise SystemExit(f"make_golden: self-check failed: {failure}")
