"""Run one RecBole model on pre-split atomic files; print one JSON line (run by versus_recbole.py).

Executed by the RecBole environment's python (never imported by the package):

    python _recbole_runner.py DATA_DIR MODEL SEED MAX_EPOCHS

``DATA_DIR/ml100kbin/ml100kbin.{train,valid,test}.inter`` hold the same
binarized split as this package's side. RecBole ranks all items with each
user's training items excluded; ``valid_metric`` is NDCG@100, early stopping
after 10 epochs without improvement, the best validation epoch is tested.
``fit_s`` is the wall and ``fit_cpu_s`` the CPU seconds (``time.process_time``
of this process) of ``trainer.fit``, validation epochs included.
"""

from __future__ import annotations

import functools
import json
import sys
import tempfile
import time

import numpy as np
import torch

# RecBole 1.2.1's compatibility_settings read aliases NumPy 2 removed.
for _alias, _type in {"float_": np.float64, "complex_": np.complex128, "unicode_": np.str_}.items():
    if _alias not in np.__dict__:
        setattr(np, _alias, _type)
# RecBole 1.2.1 checkpoints hold its Config object: torch >= 2.6 loads weights only by default.
torch.load = functools.partial(torch.load, weights_only=False)

from recbole.config import Config  # noqa: E402
from recbole.data import create_dataset, data_preparation  # noqa: E402
from recbole.utils import get_model, get_trainer, init_seed  # noqa: E402


def main(data_dir: str, model_name: str, seed: int, max_epochs: int) -> dict:
    config = Config(model=model_name, config_dict={
        "data_path": data_dir, "dataset": "ml100kbin",
        "benchmark_filename": ["train", "valid", "test"],
        "load_col": {"inter": ["user_id", "item_id"]},
        "metrics": ["NDCG", "Recall"], "topk": [20, 100], "valid_metric": "NDCG@100",
        "eval_args": {"group_by": "user", "order": "RO", "mode": "full"},
        "train_neg_sample_args": None, "epochs": max_epochs, "stopping_step": 10,
        "seed": seed, "reproducibility": True, "use_gpu": False, "show_progress": False,
        "checkpoint_dir": tempfile.mkdtemp(), "state": "ERROR", "metric_decimal_place": 6,
    })
    init_seed(config["seed"], config["reproducibility"])
    dataset = create_dataset(config)
    train, valid, test = data_preparation(config, dataset)
    model = get_model(config["model"])(config, train.dataset).to(config["device"])
    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
    start, start_cpu = time.perf_counter(), time.process_time()
    trainer.fit(train, valid, saved=True, show_progress=False)
    fit_seconds, fit_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    result = trainer.evaluate(test, load_best_model=True, show_progress=False)
    epochs = len(getattr(trainer, "train_loss_dict", {})) or 1  # EASE: one closed-form "epoch"
    return {"library": "recbole", "model": model_name, "seed": seed, "fit_s": fit_seconds,
            "fit_cpu_s": fit_cpu,
            "epochs": epochs, "valid_ndcg@100": float(trainer.best_valid_score),
            "ndcg@100": float(result["ndcg@100"]),
            "recall@20": float(result["recall@20"])}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
