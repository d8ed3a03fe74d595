"""What skorch costs inside TabularMLPClassifier: seconds per epoch, side by side.

50,000 x 40 numeric rows, a 2 x 256 ReLU MLP, Adam, batch 256, no validation split, no
schedule, no dropout: the same network and batch size trained three ways, interleaved so
that a busy machine slows them alike:

- ``TabularMLPClassifier`` (skorch NeuralNet underneath, batches sliced from in-memory
  tensors);
- a hand-written PyTorch loop (``randperm`` + slicing, the floor);
- skorch's default ``NeuralNetClassifier`` path (``Dataset`` + ``DataLoader``, per-row
  ``__getitem__``).

Run: ``python -m bench.mlp_overhead [--epochs 4] [--repeats 3] [--threads N]``.  Target: TabularMLP
<= 1.15x the hand-written loop.  Prints a table and writes bench/results/mlp_overhead.csv.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

N_ROWS, N_FEATURES, WIDTH, BATCH, LR = 50_000, 40, 256, 256, 1e-3


def _data():
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=N_ROWS, n_features=N_FEATURES, n_informative=20,
                               random_state=0)
    return X.astype(np.float32), y.astype(np.int64)


def _net(torch):
    return torch.nn.Sequential(
        torch.nn.Linear(N_FEATURES, WIDTH), torch.nn.ReLU(), torch.nn.Linear(WIDTH, WIDTH),
        torch.nn.ReLU(), torch.nn.Linear(WIDTH, 2))


def hand_written(X, y, epochs):
    """The floor: one randperm per epoch, slices of in-memory tensors."""
    import torch

    torch.manual_seed(0)
    net, loss_fn = _net(torch), torch.nn.CrossEntropyLoss()
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    gen = torch.Generator().manual_seed(0)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        net.train()
        order = torch.randperm(len(yt), generator=gen)
        xs, ys = Xt[order], yt[order]
        for i in range(0, len(ys), BATCH):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xs[i:i + BATCH]), ys[i:i + BATCH])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    return times


def tabular_mlp(X, y, epochs):
    from foldstack.models import TabularMLPClassifier

    clf = TabularMLPClassifier(
        hidden_layer_sizes=(WIDTH, WIDTH), activation="relu", dropout=0.0, optimizer="adam",
        lr=LR, weight_decay=0.0, lr_schedule="none", batch_size=BATCH, max_epochs=epochs,
        early_stopping=False, augmentation=None, numeric_transform="standard",
        numeric_embedding=None, random_state=0)
    clf.fit(X, y)
    return [row["dur"] for row in clf.history_]


def skorch_default(X, y, epochs):
    import torch
    from skorch import NeuralNetClassifier

    torch.manual_seed(0)
    net = NeuralNetClassifier(
        _net(torch), criterion=torch.nn.CrossEntropyLoss, optimizer=torch.optim.Adam, lr=LR,
        batch_size=BATCH, max_epochs=epochs, train_split=None, iterator_train__shuffle=True,
        verbose=0)
    net.fit(X, y)
    return list(net.history[:, "dur"])


METHODS = {"TabularMLPClassifier": tabular_mlp, "hand-written loop": hand_written,
           "skorch NeuralNetClassifier (default)": skorch_default}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="epochs per run (first dropped)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs per method")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's own); 1 is steadiest on a busy "
                             "machine, where spinning OpenMP pools slow every method unevenly")
    args = parser.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    X, y = _data()
    per_epoch = {name: [] for name in METHODS}
    for _ in range(args.repeats):
        for name, run in METHODS.items():
            per_epoch[name] += run(X, y, args.epochs)[1:]  # the first epoch warms caches up
    floor = statistics.median(per_epoch["hand-written loop"])
    rows = [{"method": name, "sec_per_epoch": statistics.median(times),
             "min_sec_per_epoch": min(times), "ratio_vs_hand_written": statistics.median(
                 times) / floor, "epochs_timed": len(times)}
            for name, times in per_epoch.items()]
    from bench._table import publish

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    publish(rows, "mlp_overhead" if not args.threads else f"mlp_overhead_{args.threads}thread",
            f"MLP seconds per epoch: {N_ROWS:,} x {N_FEATURES}, 2x{WIDTH} ReLU, batch {BATCH}, "
            f"torch {torch.__version__}, {torch.get_num_threads()} threads, load {load:.1f}")


if __name__ == "__main__":
    main()
