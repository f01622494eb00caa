"""The authors' Adam loop for the attention-paths action, run on the side (never a dependency).

The code is tiberilor/attention-paths-interplay (PyTorch): ``LIB_convergent_summation_heads.py``
(the model ``ConvergentSummationHeads``, its action ``compute_loss_action``) and the training loop of
``TRAIN_conv_sum_heads_binary_regression_MARKOV_OPTION_E_TWO_LAYERS.py`` with the settings of the
repository's run script for the paper's hidden-Markov task: float64, Adam with lr 0.1,
``ReduceLROnPlateau(factor=0.1, patience=100000, min_lr=0.001)`` stepped on max|grad|, order parameters
initialised at the GP limit (perturbation 0), stop at max|grad| < 1e-5, at most 50 000 epochs.

Their script is a script (argument parsing, file output), so the loop is restated here line for line
minus the storage of histories and checkpoints (which only adds to their time); the model, the action
and its autograd are imported from their library, unchanged.  The data are the package's (the same
tokens and attention matrices): their attention hook ``compute_attention_matrix`` is given the
package's matrices (their layout [example, head, key, query]) instead of recomputing softmax(x W x)
from their weights, so that both sides minimise the same action.

Point ``--authors-repo`` (or ``STATMECH_ATTN_AUTHORS_REPO``) at a checkout, e.g.
``git --git-dir=<mirror> archive HEAD | tar -x -C /tmp/attention-paths-interplay``.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
import types
from pathlib import Path
from typing import Any

LIB_DIR = "hidden_markov_chain_classification/4paths/data/all_paths/without_samples"


def unavailable(repo: str | None) -> str | None:
    """Why the authors' column cannot run (None when it can)."""
    try:
        import einops  # noqa: F401
        import torch  # noqa: F401
    except ImportError as e:
        return f"authors' Adam column skipped: {e.name} is not installed (pip install torch einops — CPU wheel is enough)"
    if not repo:
        return ("authors' Adam column skipped: no checkout of tiberilor/attention-paths-interplay"
                " (pass --authors-repo PATH or set STATMECH_ATTN_AUTHORS_REPO)")
    if not (Path(repo) / LIB_DIR / "LIB_convergent_summation_heads.py").is_file():
        return f"authors' Adam column skipped: {repo} has no {LIB_DIR}/LIB_convergent_summation_heads.py"
    return None


def _import_lib(repo: str):
    # their library imports torchvision (datasets for other experiments) at the top: a stub is enough here
    for name in ("torchvision", "torchvision.transforms"):
        if name not in sys.modules:
            try:
                importlib.import_module(name)
            except ImportError:
                mod = types.ModuleType(name)
                mod.datasets = None
                mod.ToTensor = None
                mod.transforms = mod
                sys.modules[name] = mod
    path = str(Path(repo) / LIB_DIR)
    if path not in sys.path:
        sys.path.insert(0, path)
    return importlib.import_module("LIB_convergent_summation_heads")


def authors_adam(repo: str, x, attention, y, *, heads, widths, width_readout, sigma2_input, sigma2_layers,
                 sigma2_readout, temperature, readout: str = "last", lr: float = 0.1, tol: float = 1e-5,
                 epochs: int = 50_000, clock=time.process_time) -> dict[str, Any]:
    """Run the authors' Adam loop on the package's data; returns seconds (``clock``), steps, the final
    action (their loss, = the package's action S) and max|grad|.  x (P, S, N₀), attention: tuple of
    (P, H_ℓ, S, S) with rows = queries (the package's layout), y (P,)."""
    import numpy as np
    import torch

    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    lib = _import_lib(repo)
    style = {"mean": "average_pooling", "first": "first_token", "last": "last_token"}[readout]
    inp = torch.tensor(np.swapaxes(np.asarray(x, dtype=np.float64), 1, 2))  # (P, N0, S)
    att = [torch.tensor(np.swapaxes(np.asarray(a, dtype=np.float64), -1, -2)) for a in attention]  # [P, H, key, query]
    labels = torch.tensor(np.asarray(y, dtype=np.float64))
    L = len(heads)
    devnull = open(os.devnull, "w")
    stdout, sys.stdout = sys.stdout, devnull  # their constructor prints the architecture
    try:
        model = lib.ConvergentSummationHeads(list(heads), [int(w) for w in widths] + [int(width_readout)], L,
                                             inp.size()[1], [sigma2_input, *sigma2_layers, sigma2_readout],
                                             attention_nonlinearity="softmax", temperature=temperature,
                                             token_readout_style=style)
        model.compute_attention_matrix = lambda input, layer: att[layer - 1]
        model.set_order_parameters_gp_perturbed(perturbation_strength=0.0, seed=10, scale=1.0)
    finally:
        sys.stdout = stdout
        devnull.close()

    t0 = clock()
    model.load(inp, {"dataset": "statmech_attn"})
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.1, patience=100000, min_lr=0.001)
    steps, max_grad, loss = 0, float("inf"), float("nan")
    for t in range(epochs):  # their TRAIN LOOP, minus history/checkpoint storage and printing
        optimizer.zero_grad()
        energy, entropy = model.compute_loss_action(labels, return_energy_entropy=True)
        energy.backward(retain_graph=True)
        energy_gradients = [torch.zeros(p.size()) if p.grad is None else p.grad.clone() for p in model.parameters()]
        optimizer.zero_grad()
        entropy.backward()
        entropy_gradients = [torch.zeros(p.size()) if p.grad is None else p.grad.clone() for p in model.parameters()]
        for param, eg, sg in zip(model.parameters(), energy_gradients, entropy_gradients):
            param.grad = eg + sg
        max_grad = float(np.max([torch.max(torch.abs(p.grad)).detach().cpu().clone().numpy() for p in model.parameters()]))
        loss = float((energy + entropy).item())
        steps = t
        if max_grad < tol:
            break
        if t != epochs - 1:
            optimizer.step()
        scheduler.step(max_grad)
    seconds = clock() - t0
    return {"seconds": seconds, "steps": steps, "action": loss, "max_grad": max_grad, "converged": max_grad < tol}
