"""Evaluating a trained model on held-out data: a model cannot be scored on messages it was trained on,
so the candidate is measured by the same configuration trained again on 80% of its NLU examples
(``rasa data split nlu``, fixed seed) and tested on the other 20%, while the model put in service is
still the one trained on all the data; the active model is tested on the same 20% for comparison, with
how many of those messages it has seen in training, and scores on the unseen ones when there are any.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.dialogue.intent_metrics import Prediction, read_predictions, score, seen
from bot.dialogue.training import config_components, nlu_examples
from bot.modelops.runs import Commands, Failed, Run
from bot.modelops.store import MODEL_SUFFIX, ModelStore

__all__ = [
    "HELD_OUT_BAND",
    "SPLIT_SEED",
    "TEST_ACTIVE_BAND",
    "TEST_CANDIDATE_BAND",
    "TRAINING_FRACTION",
    "evaluate",
    "scores",
]

SPLIT_SEED = 42
TRAINING_FRACTION = 0.8

# Share of the whole job's progress bar each step takes (start, end).
HELD_OUT_BAND = (55, 85)
TEST_CANDIDATE_BAND = (85, 92)
TEST_ACTIVE_BAND = (92, 99)


def evaluate(commands: Commands, run: Run, store: ModelStore, active_model: Callable[[], str | None]) -> dict[str, Any]:
    """Score the job's model on held-out data, and the active model (named by ``active_model`` once
    the candidate is tested) on the same messages; the evaluation is saved on the job's row."""
    commands.save(run, force=True, status="evaluating", stage="splitting the NLU data")
    split = run.directory / "split"
    code = commands.command(
        run,
        [
            "data",
            "split",
            "nlu",
            "--nlu",
            "data",
            "--training-fraction",
            str(TRAINING_FRACTION),
            "--random-seed",
            str(SPLIT_SEED),
            "--out",
            str(split),
        ],
        cwd=run.source,
        band=(HELD_OUT_BAND[0], HELD_OUT_BAND[0]),
        stage="splitting the NLU data",
    )
    train_file, test_file = split / "training_data.yml", split / "test_data.yml"
    if code != 0 or not train_file.is_file() or not test_file.is_file():
        raise Failed(f"rasa data split nlu failed (exit code {code}); see the log")
    held_out = run.directory / "held-out"
    code = commands.command(
        run,
        [
            "train",
            "nlu",
            "--config",
            "config.yml",
            "--nlu",
            str(train_file),
            "--out",
            str(held_out),
            "--fixed-model-name",
            "held-out",
        ],
        cwd=run.source,
        band=HELD_OUT_BAND,
        stage="evaluating: training on 80% of the examples",
        components=config_components(run.source / "config.yml"),
    )
    if code != 0 or not (held_out / f"held-out{MODEL_SUFFIX}").is_file():
        raise Failed(f"training the held-out evaluation model failed (exit code {code}); see the log")
    candidate = _test(
        commands,
        run,
        held_out / f"held-out{MODEL_SUFFIX}",
        test_file,
        run.directory / "test-candidate",
        band=TEST_CANDIDATE_BAND,
        stage="evaluating: testing on the other 20%",
    )
    if candidate is None:
        raise Failed("rasa test nlu failed on the held-out model; see the log")
    training_texts = set(nlu_examples(train_file))
    evaluation: dict[str, Any] = {
        "method": "held-out",
        "split": {
            "seed": SPLIT_SEED,
            "training_fraction": TRAINING_FRACTION,
            "training_examples": len(nlu_examples(train_file)),
            "test_examples": len(candidate),
        },
        "candidate": {
            "model": run.model_name,
            "trained_on": "the training split only (the published model is trained on all examples)",
            **scores(candidate, training_texts),
        },
        "active": None,
    }
    active = active_model()
    if active is not None and store.model_file(active).exists():
        predictions = _test(
            commands,
            run,
            store.model_file(active),
            test_file,
            run.directory / "test-active",
            band=TEST_ACTIVE_BAND,
            stage=f"evaluating: testing the active model {active}",
        )
        if predictions is None:
            evaluation["active"] = {"model": active, "error": "rasa test nlu failed on the active model"}
        else:
            evaluation["active"] = {"model": active, **scores(predictions, store.training_texts(active))}
    commands.save(run, force=True, evaluation=evaluation, stage="evaluated", progress=TEST_ACTIVE_BAND[1])
    return evaluation


def _test(
    commands: Commands, run: Run, model: Path, test_file: Path, out: Path, *, band: tuple[int, int], stage: str
) -> list[Prediction] | None:
    code = commands.command(
        run,
        [
            "test",
            "nlu",
            "--model",
            str(model.absolute()),
            "--nlu",
            str(test_file),
            "--out",
            str(out),
            "--no-plot",
            "--successes",
        ],
        cwd=run.source,
        band=band,
        stage=stage,
    )
    predictions = read_predictions(out) if code == 0 else []
    return predictions or None


def scores(predictions: list[Prediction], training_texts: set[str] | None) -> dict[str, Any]:
    """The scores of ``predictions``, with how many of the messages were seen in training and, when
    some were and some were not, the scores of the unseen ones."""
    result = score(predictions)
    if training_texts is None:
        result["seen_in_training"] = None
        return result
    flags = seen(predictions, training_texts)
    result["seen_in_training"] = sum(flags)
    unseen = [p for p, was_seen in zip(predictions, flags, strict=True) if not was_seen]
    if flags and any(flags) and unseen:
        brief = score(unseen)
        result["unseen"] = {key: brief[key] for key in ("examples", "accuracy", "macro_f1", "weighted_f1")}
    return result
