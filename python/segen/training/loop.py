"""The training loop every segen recipe runs: :func:`fit` with callbacks.

A recipe gives the loop what differs between models and keeps the rest here:

- ``batches(epoch)``: the batches of one epoch (e.g. :func:`shuffled_batches`, drawn from the recipe's
  seeded generator at the start of the epoch);
- ``step(batch, at)``: one optimisation step (a GAN's D and G updates, a VAE's ELBO, a segmenter's
  cross-entropy + Dice); it returns the numbers to average over the epoch (a float is one observation,
  a pair ``(total, count)`` a sum over `count` items);
- ``evaluate(epoch)``: optional numbers measured after each epoch (validation scores);
- callbacks: :class:`Checkpoint` (the whole state after an epoch, atomically, and resume from it),
  :class:`BestWeights` (keep and restore the best weights of a monitored number), :class:`EarlyStopping`,
  :class:`FiniteLoss` and :class:`Every` (a recipe's own work every N epochs: sample grids, ...).

The loop draws the progress bar (running means of the step's numbers), writes one line per
`report_every` epochs, and keeps the per-epoch history (:class:`History`), which a checkpoint saves and a
resumed run continues, so that a resumed run ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import math
import pathlib
import time
from typing import Callable, Iterable, Mapping, NamedTuple

import torch
from tqdm.auto import tqdm

__all__ = [
    "At",
    "BestWeights",
    "Callback",
    "Checkpoint",
    "EarlyStopping",
    "Every",
    "FiniteLoss",
    "History",
    "Loop",
    "deterministic_kernels",
    "fit",
    "shuffled_batches",
    "torch_threads",
]


class At(NamedTuple):
    """Where a step is: `epoch` (0-based), `index` of the batch in the epoch, `step` counted over the run."""

    epoch: int
    index: int
    step: int


class History:
    """Per-epoch means (``values[key][epoch]``), seconds spent and where a resumed run took over."""

    def __init__(self):
        self.values: dict[str, list[float]] = {}
        self.seconds = 0.0
        self.resumed_after: int | None = None

    def __getitem__(self, key: str) -> list[float]:
        return self.values[key]

    def __contains__(self, key: str) -> bool:
        return key in self.values

    def __len__(self) -> int:
        return max((len(v) for v in self.values.values()), default=0)

    def append(self, logs: Mapping[str, float]) -> None:
        """Add one epoch's numbers (a key first seen now gets zeros for the epochs before)."""
        done = len(self)
        for key, value in logs.items():
            self.values.setdefault(key, [0.0] * done).append(value)
        for key, values in self.values.items():
            if len(values) == done:
                values.append(0.0)

    def last(self) -> dict[str, float]:
        return {key: values[-1] for key, values in self.values.items() if values}


class _Means:
    """Running means of a step's numbers over an epoch (floats are one observation, pairs a sum)."""

    def __init__(self):
        self.totals: dict[str, float] = {}
        self.counts: dict[str, float] = {}

    def add(self, logs: Mapping[str, float | tuple[float, float]]) -> None:
        for key, value in logs.items():
            total, count = value if isinstance(value, tuple) else (value, 1)
            self.totals[key] = self.totals.get(key, 0.0) + total
            self.counts[key] = self.counts.get(key, 0) + count

    def means(self) -> dict[str, float]:
        return {key: total / max(self.counts[key], 1) for key, total in self.totals.items()}


class Loop:
    """The state of a :func:`fit` run that callbacks see and change.

    ``epoch``: epochs finished; ``steps``: steps run; ``stop``: set by a callback to end the run after
    this epoch (kept by a checkpoint: a resumed run that had stopped stays stopped).
    """

    def __init__(self, *, name: str, epochs: int, progress: bool, callbacks: list[Callback]):
        self.name, self.epochs, self.progress, self.callbacks = name, epochs, progress, callbacks
        self.history = History()
        self.epoch = self.steps = 0
        self.stop = False
        self._t0, self._spent = time.perf_counter(), 0.0

    @property
    def seconds(self) -> float:
        """Seconds of training so far, including those before a resume."""
        return self._spent + time.perf_counter() - self._t0

    def write(self, line: str) -> None:
        """Print a line above the progress bars (when `progress`)."""
        if self.progress:
            tqdm.write(line)

    def state_dict(self) -> dict:
        return {
            "epoch": self.epoch,
            "steps": self.steps,
            "stop": self.stop,
            "seconds": self.seconds,
            "history": self.history.values,
            "callbacks": {f"{i}:{type(c).__name__}": c.state_dict() for i, c in enumerate(self.callbacks)},
        }

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.steps, self.stop = state["epoch"], state["steps"], state["stop"]
        self._spent, self._t0 = state["seconds"], time.perf_counter()
        self.history.values = state["history"]
        self.history.resumed_after = self.epoch
        for i, c in enumerate(self.callbacks):
            c.load_state_dict(state["callbacks"][f"{i}:{type(c).__name__}"])


class Callback:
    """Hooks of :func:`fit`; callbacks run in the order given, :class:`Checkpoint` last."""

    order = 0

    def on_fit_start(self, loop: Loop) -> None:
        """Before the first epoch (a checkpoint resumes here)."""

    def on_epoch_end(self, loop: Loop, epoch: int, logs: dict) -> None:
        """After epoch `epoch` (0-based) with its means and evaluation in `logs` (already in the history)."""

    def on_fit_end(self, loop: Loop) -> None:
        """After the last epoch, also when none was left to run."""

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


def fit(
    step: Callable,
    batches: Callable[[int], Iterable],
    *,
    epochs: int,
    evaluate: Callable[[int], Mapping[str, float]] | None = None,
    callbacks: Iterable[Callback] = (),
    modules: Iterable[torch.nn.Module] = (),
    name: str = "train",
    progress: bool = True,
    report_every: int = 1,
) -> Loop:
    """Run ``step(batch, at)`` over ``batches(epoch)`` for `epochs` epochs; returns the :class:`Loop`.

    `modules` are put in training mode at the start of every epoch. After each epoch the means of the
    step's numbers and ``evaluate(epoch)`` go into ``loop.history``, a line is written every
    `report_every` epochs (and after the last), then the callbacks run; one may set ``loop.stop``.
    """
    loop = Loop(
        name=name, epochs=epochs, progress=progress, callbacks=sorted(callbacks, key=lambda c: c.order)
    )
    modules = list(modules)
    for c in loop.callbacks:
        c.on_fit_start(loop)
    while loop.epoch < epochs and not loop.stop:
        epoch = loop.epoch
        for m in modules:
            m.train()
        logs = _run_epoch(loop, step, batches(epoch))
        if evaluate is not None:
            logs.update(evaluate(epoch))
        loop.history.append(logs)
        loop.epoch = epoch + 1
        if (epoch + 1) % report_every == 0 or epoch + 1 == epochs:
            numbers = ", ".join(f"{k} {v:.4f}" for k, v in logs.items())
            loop.write(f"{name} epoch {epoch + 1}/{epochs}: {numbers} ({loop.seconds:.0f} s)")
        for c in loop.callbacks:
            c.on_epoch_end(loop, epoch, logs)
    loop.history.seconds = loop.seconds
    for c in loop.callbacks:
        c.on_fit_end(loop)
    return loop


def _run_epoch(loop: Loop, step: Callable, batches: Iterable) -> dict:
    means = _Means()
    bar = tqdm(
        batches,
        desc=f"{loop.name} epoch {loop.epoch + 1}/{loop.epochs}",
        disable=not loop.progress,
        leave=False,
    )
    for index, batch in enumerate(bar):
        means.add(step(batch, At(loop.epoch, index, loop.steps)))
        loop.steps += 1
        if loop.progress:
            bar.set_postfix({k: f"{v:.4g}" for k, v in means.means().items()}, refresh=False)
    return means.means()


def shuffled_batches(
    n: int, batch_size: int, generator: torch.Generator, *, drop_last: bool = False
) -> list[torch.Tensor]:
    """Indices of `n` items in a random order (``torch.randperm`` with `generator`) cut into batches; with
    `drop_last` the last partial batch is left out (batch norm on tiny batches)."""
    perm = torch.randperm(n, generator=generator)
    end = n - n % batch_size if drop_last else n
    return [perm[s : s + batch_size] for s in range(0, end, batch_size)]


@contextlib.contextmanager
def torch_threads(threads: int | None):
    """Set torch's intra-op threads for a block (None: leave them) and restore them afterwards."""
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def deterministic_kernels(device: torch.device):
    """On a CUDA `device`, cuDNN's deterministic kernels and no autotuning for a block (restored
    afterwards): its default picks among kernels by timing and some of them add in a varying order, so the
    same seed could give other weights run after run on the same GPU. Nothing changes on the CPU, whose
    kernels are deterministic."""
    cudnn = torch.backends.cudnn
    previous = cudnn.deterministic, cudnn.benchmark
    if device.type == "cuda":
        cudnn.deterministic, cudnn.benchmark = True, False
    try:
        yield
    finally:
        cudnn.deterministic, cudnn.benchmark = previous


class Checkpoint(Callback):
    """Save the whole training state to `path` after an epoch; with `resume`, continue from it.

    `objects` are what the step changes: modules, optimisers, schedulers (``state_dict``) and
    ``torch.Generator`` s; torch's global random state, the loop (history, epoch, callbacks' state) and
    `settings` are saved with them. The file is written every `every` epochs, after the last and when the
    run stops early, never half-written. Resuming with other `settings` raises :class:`ValueError`.
    """

    order = 100

    def __init__(
        self, path, objects: Mapping, *, settings: dict | None = None, resume: bool = False, every: int = 1
    ):
        self.path, self.objects, self.settings = pathlib.Path(path), dict(objects), settings
        self.resume, self.every = resume, max(int(every), 1)

    def on_fit_start(self, loop: Loop) -> None:
        if not (self.resume and self.path.is_file()):
            return
        state = torch.load(self.path, weights_only=True)
        if self.settings is not None and state["settings"] != self.settings:
            old = state["settings"]
            diff = {k: (old.get(k), v) for k, v in self.settings.items() if old.get(k) != v}
            raise ValueError(f"cannot resume from {self.path}: settings differ (checkpoint, now): {diff}")
        for key, obj in self.objects.items():
            if isinstance(obj, torch.Generator):
                obj.set_state(state["objects"][key])
            else:
                obj.load_state_dict(state["objects"][key])
        torch.set_rng_state(state["torch_rng"])
        loop.load_state_dict(state["loop"])
        loop.write(f"{loop.name}: resuming after epoch {loop.epoch}/{loop.epochs} from {self.path}")

    def on_epoch_end(self, loop: Loop, epoch: int, logs: dict) -> None:
        if (epoch + 1) % self.every == 0 or epoch + 1 == loop.epochs or loop.stop:
            self.save(loop)

    def save(self, loop: Loop) -> None:
        objects = {
            key: obj.get_state() if isinstance(obj, torch.Generator) else obj.state_dict()
            for key, obj in self.objects.items()
        }
        state = {
            "settings": self.settings,
            "objects": objects,
            "torch_rng": torch.get_rng_state(),
            "loop": loop.state_dict(),
        }
        tmp = self.path.with_suffix(".tmp")
        torch.save(state, tmp)
        tmp.replace(self.path)  # never a half-written file


def _better(value: float, best: float | None, mode: str) -> bool:
    return best is None or (value > best if mode == "max" else value < best)


class BestWeights(Callback):
    """Save `model`'s weights to `path` whenever `monitor` improves; load the best ones at the end.

    ``best_epoch`` is the (0-based) epoch of the best value, -1 before any.
    """

    def __init__(self, model: torch.nn.Module, path, *, monitor: str, mode: str = "max"):
        self.model, self.path, self.monitor, self.mode = model, pathlib.Path(path), monitor, mode
        self.best: float | None = None
        self.best_epoch = -1

    def on_epoch_end(self, loop: Loop, epoch: int, logs: dict) -> None:
        if _better(logs[self.monitor], self.best, self.mode):
            self.best, self.best_epoch = logs[self.monitor], epoch
            torch.save(self.model.state_dict(), self.path)

    def on_fit_end(self, loop: Loop) -> None:
        self.model.load_state_dict(torch.load(self.path, weights_only=True))

    def state_dict(self) -> dict:
        return {"best": self.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.best_epoch = state["best"], state["best_epoch"]


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved for `patience` epochs."""

    def __init__(self, *, monitor: str, patience: int, mode: str = "max", label: str | None = None):
        self.monitor, self.patience, self.mode = monitor, patience, mode
        self.label = label or monitor
        self.best: float | None = None
        self.bad = 0

    def on_epoch_end(self, loop: Loop, epoch: int, logs: dict) -> None:
        if _better(logs[self.monitor], self.best, self.mode):
            self.best, self.bad = logs[self.monitor], 0
        else:
            self.bad += 1
        if self.bad >= self.patience:
            loop.stop = True
            loop.write(f"{loop.name}: early stop, no {self.label} gain for {self.patience} epochs")

    def state_dict(self) -> dict:
        return {"best": self.best, "bad": self.bad}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.bad = state["best"], state["bad"]


class FiniteLoss(Callback):
    """Raise :class:`RuntimeError` when the sum of `keys` is not finite after an epoch."""

    def __init__(self, *keys: str):
        self.keys = keys

    def on_epoch_end(self, loop: Loop, epoch: int, logs: dict) -> None:
        if not math.isfinite(sum(logs[k] for k in self.keys)):
            values = ", ".join(f"{k} {logs[k]}" for k in self.keys)
            raise RuntimeError(f"{loop.name}: the loss is not finite at epoch {epoch + 1} ({values})")


class Every(Callback):
    """Call ``action(epoch)`` after every `n` epochs and after the last one (0: never)."""

    def __init__(self, n: int, action: Callable[[int], None]):
        self.n, self.action = n, action

    def on_epoch_end(self, loop: Loop, epoch: int, logs: dict) -> None:
        if self.n and ((epoch + 1) % self.n == 0 or epoch + 1 == loop.epochs):
            self.action(epoch)
