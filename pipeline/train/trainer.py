"""The HF ``Trainer`` pieces ``stance train`` uses: the class-weighted loss and a step counter.

They live apart from :mod:`pipeline.train.run` because subclassing ``Trainer``
means importing ``transformers.Trainer`` (and torch) when the module loads,
which takes seconds; ``run`` is imported by ``stance train --check`` and must
stay cheap, so it imports this module only when training starts.
"""

from __future__ import annotations

import torch
from transformers import Trainer, TrainerCallback
from transformers.trainer import TRAINING_ARGS_NAME

__all__ = ["TRAINING_ARGS_NAME", "StepCounter", "WeightedTrainer"]


class WeightedTrainer(Trainer):
    """A ``Trainer`` whose loss weights each example by its (task, label) class.

    Several tasks share the head's slots, and a task's rare labels would be
    under-weighted by one weight per slot; ``class_weights`` is a
    ``[task, slot]`` table (``None``: plain mean cross-entropy). Each batch
    carries ``task_id`` beside ``labels`` for the lookup. A joint model
    (``blocks``: slot range per task) gets a label per task per example
    instead (:meth:`joint_loss`).
    """

    def __init__(self, *args, class_weights: torch.Tensor | None = None, blocks: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.class_weights = class_weights
        self.blocks = blocks

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        if self.blocks:
            outputs = model(**inputs)
            loss = self.joint_loss(outputs.logits.float(), labels)
            return (loss, outputs) if return_outputs else loss
        task_id = inputs.pop("task_id")
        outputs = model(**inputs)
        losses = torch.nn.functional.cross_entropy(outputs.logits.float(), labels, reduction="none")
        if self.class_weights is None:
            return (losses.mean(), outputs) if return_outputs else losses.mean()
        w = self.class_weights.to(losses.device)[task_id, labels]
        loss = (losses * w).sum() / w.sum()  # the weighted mean, as cross_entropy(weight=...) computes it
        return (loss, outputs) if return_outputs else loss

    def joint_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """A joint model's loss: each (example, task) with a label counts as one shared-slot example would,
        cross-entropy over its task's block of slots, weighted by its (task, label) class; the weighted mean
        over all of them, the shared-slot loss over the same labels."""
        total = logits.new_zeros(())
        weight = logits.new_zeros(())
        for k, (a, b) in enumerate(self.blocks.values()):
            y = labels[:, k]
            has = y >= 0
            if not bool(has.any()):
                continue
            losses = torch.nn.functional.cross_entropy(logits[has, a:b], y[has], reduction="none")
            w = (
                torch.ones_like(losses)
                if self.class_weights is None
                else self.class_weights.to(losses.device)[k, y[has]]
            )
            total = total + (losses * w).sum()
            weight = weight + w.sum()
        return total / weight.clamp_min(1e-12)


class StepCounter(TrainerCallback):
    """The step this run started from and the optimizer steps it took.

    A resumed run starts at its checkpoint's step; recording both in the
    provenance tells a resumed run from a fresh one, whose final
    ``global_step`` is the same.
    """

    def __init__(self):
        self.start_step = 0
        self.steps = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self.start_step = state.global_step  # the checkpoint's state is loaded before this event
        self.steps = 0

    def on_step_end(self, args, state, control, **kwargs):
        self.steps += 1
