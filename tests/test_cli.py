"""The benchmark command on the synthetic data set (no download)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from sklearn_recae.cli import main, models_by_task


def _records(folder):
    """The run record and the result records of ``folder/results.jsonl``."""
    lines = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]
    assert [line.pop("record") for line in lines] == ["run"] + ["result"] * (len(lines) - 1)
    return lines[0], lines[1:]


def test_benchmark_writes_table_json_and_csv(tmp_path, capsys):
    out = tmp_path / "results"
    code = main([
        "benchmark", "--dataset", "synthetic", "--models", "u-autorec", "mma",
        "--max-epochs", "2", "--test-size", "0.2", "--valid-size", "0.1",
        "--device", "cpu", "--output-dir", str(out), "-v", "0",
    ])
    assert code == 0
    printed = capsys.readouterr().out
    assert "u-autorec" in printed and "mma" in printed and "rmse" in printed
    results = json.loads((out / "results.json").read_text())
    assert results["settings"]["valid_size"] == 0.1
    rows = {row["model"]: row for row in results["results"]}
    assert set(rows) == {"u-autorec", "mma"}
    for row in rows.values():
        assert 0 < row["mae"] <= row["rmse"] < 4  # ratings 1-5: RMSE >= MAE
        assert row["epochs"] == 2  # --max-epochs reached MMA's bases too
        assert row["data"] == {"n_users": 600, "n_items": 300, "n_entries": 14400,
                               "density": 0.08, "n_train": 10080, "n_test": 2880,
                               "n_valid": 1440}
    with (out / "results.csv").open() as f:
        csv_rows = list(csv.DictReader(f))
    assert [r["model"] for r in csv_rows] == ["u-autorec", "mma"]
    assert float(csv_rows[0]["rmse"]) == pytest.approx(rows["u-autorec"]["rmse"])
    run, records = _records(out)
    assert run == results["settings"] and records == results["results"]


def test_run_record_has_versions_hardware_commit_and_settings(tmp_path):
    out = tmp_path / "run"
    main(["benchmark", "--dataset", "synthetic", "--models", "baseline", "--seeds", "3", "4",
          "--output-dir", str(out), "-v", "0"])
    run, records = _records(out)
    assert set(run["versions"]) == {"python", "sklearn-recae", "torch", "scikit-learn", "skorch",
                                    "numpy", "scipy"}
    assert all(isinstance(version, str) for version in run["versions"].values())
    assert run["hardware"]["auto"] in ("cpu", "cuda") and run["torch_threads"] >= 1
    assert run["seeds"] == [3, 4] and run["task"] == "explicit" and run["models"] == ["baseline"]
    assert run["dataset"] == "synthetic" and run["test_size"] is None
    assert run["argv"][:3] == ["benchmark", "--dataset", "synthetic"]
    assert run["git"] is None or len(run["git"]["commit"]) == 40  # a checkout, or not
    assert [(r["model"], r["seed"]) for r in records] == [("baseline", 3), ("baseline", 4)]
    from sklearn_recae.benchmark import json_safe
    from sklearn_recae.linear import BaselineRatings

    assert records[0]["params"] == json_safe(BaselineRatings().get_params())
    assert "alpha_user" in records[0]["params"]


def test_unknown_model_is_rejected(capsys):
    with pytest.raises(SystemExit):
        main(["benchmark", "--models", "nope"])
    assert "invalid choice" in capsys.readouterr().err


def test_implicit_task_scores_rankings(tmp_path, capsys):
    out = tmp_path / "implicit"
    code = main([
        "benchmark", "--task", "implicit", "--dataset", "synthetic",
        "--models", "popularity", "ease", "mult-dae", "--max-epochs", "2",
        "--device", "cpu", "--output-dir", str(out),
    ])
    assert code == 0
    assert "ndcg@100" in capsys.readouterr().out
    rows = {row["model"]: row for row in json.loads((out / "results.json").read_text())["results"]}
    assert set(rows) == {"popularity", "ease", "mult-dae"}
    for row in rows.values():
        assert 0 <= row["recall@20"] <= 1 and 0 <= row["ndcg@100"] <= 1
        shares = [row[f"{tail}_tail_share@100"] for tail in ("short", "medium", "long")]
        assert sum(shares) == pytest.approx(1.0)
    assert rows["mult-dae"]["epochs"] <= 2 + 2 and rows["ease"]["epochs"] == 1  # + the refit


def test_a_model_of_the_other_task_is_refused(tmp_path, monkeypatch, capsys):
    _no_benchmark(monkeypatch)
    with pytest.raises(SystemExit) as exit_info:
        main(["benchmark", "--task", "implicit", "--dataset", "synthetic", "--models", "ease",
              "mma", "--output-dir", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert "argument --models: mma not implicit-feedback models; --task implicit runs " \
           "popularity ease" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_run_benchmark_refuses_a_model_of_the_other_task():
    from sklearn_recae.cli import run_benchmark

    with pytest.raises(ValueError, match="not implicit-feedback models"):
        run_benchmark(["mma"], task="implicit", dataset="synthetic")


def test_models_of_both_tasks_run_each_on_its_own_task(tmp_path, capsys):
    out = tmp_path / "mixed"
    code = main(["benchmark", "--dataset", "synthetic", "--models", "multvae", "i-autorec",
                 "recvae", "--max-epochs", "1", "--device", "cpu", "--output-dir", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "implicit feedback" in printed and "explicit feedback" in printed
    implicit = json.loads((out / "implicit" / "results.json").read_text())
    explicit = json.loads((out / "explicit" / "results.json").read_text())
    assert [r["model"] for r in implicit["results"]] == ["multvae", "recvae"]
    assert [r["model"] for r in explicit["results"]] == ["i-autorec"]
    assert "ndcg@100" in implicit["results"][0] and "rmse" in explicit["results"][0]
    assert implicit["settings"]["task"] == "implicit"


def test_models_by_task():
    from sklearn_recae.registry import DEFAULT_RUN, TASK_MODELS

    # the default run: both tasks, one model per family, the global mean + biases baseline first
    assert models_by_task(None, None) == {"explicit": ["baseline", "i-autorec"],
                                          "implicit": list(DEFAULT_RUN["implicit"])}
    assert {"popularity", "ease", "user-knn", "cml"} <= set(DEFAULT_RUN["implicit"])
    assert models_by_task(None, "implicit") == {"implicit": list(TASK_MODELS["implicit"])}
    assert len(TASK_MODELS["implicit"]) == 10  # the README's implicit table
    assert models_by_task(["ease", "mma", "cdae"], None) == {"implicit": ["ease", "cdae"],
                                                             "explicit": ["mma"]}
    assert models_by_task(["mma"], "implicit") == {"implicit": ["mma"]}  # refused later


def test_nrp_runs_on_the_synthetic_dataset(tmp_path, capsys):
    out = tmp_path / "nrp"
    code = main([
        "benchmark", "--dataset", "synthetic", "--models", "nrp", "nrp-ae",
        "--max-epochs", "1", "--device", "cpu", "--output-dir", str(out),
    ])
    assert code == 0
    assert "nrp-ae" in capsys.readouterr().out
    rows = {row["model"]: row for row in json.loads((out / "results.json").read_text())["results"]}
    assert set(rows) == {"nrp", "nrp-ae"}
    for row in rows.values():
        assert 0 < row["mae"] <= row["rmse"] < 4


def test_nrp_gets_movielens_side_information():
    from sklearn_recae.registry import get_model_spec

    spec = get_model_spec("nrp-ae")
    assert spec.fit_params(None, "synthetic") == {}
    model = spec.factory(random_state=0, verbose=0)
    assert model.structure == "autoencoder" and model._resolved("activation") == "tanh"


def test_metric_learning_models_and_pipeline_run_on_the_synthetic_dataset(tmp_path):
    out = tmp_path / "mml"
    code = main([
        "benchmark", "--dataset", "synthetic", "--models", "mml", "cml", "mml-knn",
        "--max-epochs", "1", "--device", "cpu", "--output-dir", str(out),
    ])
    assert code == 0
    rows = {row["model"]: row for row in json.loads((out / "results.json").read_text())["results"]}
    assert set(rows) == {"mml", "cml", "mml-knn"}
    for row in rows.values():
        assert 0 < row["ndcg@100"] <= 1


def test_precision_override_reaches_every_torch_model(tmp_path):
    out = tmp_path / "bf16"
    code = main([
        "benchmark", "--dataset", "synthetic", "--models", "mult-dae", "ease", "--max-epochs",
        "2", "--precision", "bf16", "--device", "cpu", "--output-dir", str(out),
    ])
    assert code == 0
    rows = {row["model"]: row for row in json.loads((out / "results.json").read_text())["results"]}
    assert rows["mult-dae"]["params"]["precision"] == "bf16"
    assert "precision" not in rows["ease"]["params"]  # no torch, nothing to override
    assert 0 < rows["mult-dae"]["ndcg@100"] <= 1


def test_pipeline_models_early_stop_on_a_given_validation_part():
    # evaluate_model's X_valid goes to the pipeline's first step (the one that trains)
    import scipy.sparse as sp

    from sklearn_recae.benchmark._evaluate import evaluate_model
    from sklearn_recae.model_selection import holdout_row_entries

    rng = np.random.default_rng(0)
    X = sp.csr_matrix((rng.random((150, 120)) < 0.2).astype(np.float32))
    X_train, X_test = holdout_row_entries(X, 0.2, random_state=0)
    X_fit, X_valid = holdout_row_entries(X_train, 0.1, random_state=1)
    row = evaluate_model("multdae-knn", X_fit, X_test, X_valid, random_state=0, verbose=0,
                         dataset="synthetic", multdae__max_epochs=3,
                         multdae__early_stopping=True)
    assert 0 < row["ndcg@100"] <= 1
    assert len(row["curve"]["validation"]) == row["epochs"] == 3


def test_mml_ablations_are_registered_settings():
    from sklearn_recae.registry import get_model_spec

    expected = {"euc-mml": {"metric": "euclidean"}, "w-mml": {"metric": "shared"},
                "m-mml": {"adaptive_margin": False}, "np-mml": {"omega_p": 0.0},
                "nr-mml": {"omega_r": 0.0}}
    for name, params in expected.items():
        model = get_model_spec(name).factory(random_state=0, verbose=0)
        assert {key: model.get_params()[key] for key in params} == params


def _no_benchmark(monkeypatch):
    """Make any model fit fail the test: the argument errors must come first."""
    from sklearn_recae import cli

    def fail(*args, **kwargs):
        raise AssertionError("the benchmark ran before the arguments were checked")

    monkeypatch.setattr(cli, "run_benchmark", fail)
    monkeypatch.setattr(cli, "evaluate_model", fail)


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--max-epochs", "0", "argument --max-epochs: must be a positive integer, got 0"),
    ("--max-epochs", "-3", "argument --max-epochs: must be a positive integer, got -3"),
    ("--max-epochs", "two", "argument --max-epochs: invalid int value: 'two'"),
    ("--seed", "-1", "argument --seed: must be an integer >= 0, got -1"),
    ("--verbose", "-1", "argument -v/--verbose: must be an integer >= 0, got -1"),
])
def test_integer_options_out_of_range_are_argparse_errors(
    tmp_path, monkeypatch, capsys, option, value, message
):
    # --max-epochs 0 used to be read as "unset" (0 is falsy) and run the default epochs
    _no_benchmark(monkeypatch)
    with pytest.raises(SystemExit) as exit_info:
        main(["benchmark", "--dataset", "synthetic", "--models", "popularity", option, value,
              "--output-dir", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_explicit_overrides_reach_the_models(tmp_path, monkeypatch):
    from sklearn_recae import cli

    calls = []
    monkeypatch.setattr(cli, "run_benchmark", lambda models, **kwargs: calls.append(kwargs))
    main(["benchmark", "--models", "popularity", "--max-epochs", "1", "--seed", "0",
          "--output-dir", str(tmp_path)])
    assert calls[0]["max_epochs"] == 1 and calls[0]["seeds"] == [0]
    main(["benchmark", "--models", "popularity", "--output-dir", str(tmp_path)])
    assert "max_epochs" not in calls[1]  # unset: each model keeps its own default


@pytest.mark.parametrize("models", [["popularity"], ["popularity", "u-autorec"]])
def test_bad_output_dir_fails_before_any_fit(tmp_path, monkeypatch, capsys, models):
    _no_benchmark(monkeypatch)
    a_file = tmp_path / "results.txt"
    a_file.write_text("not a folder")
    for bad in (a_file, a_file / "sub"):
        with pytest.raises(SystemExit) as exit_info:
            main(["benchmark", "--dataset", "synthetic", "--models", *models, "--max-epochs", "1",
                  "--output-dir", str(bad)])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert "argument --output-dir: cannot write results to" in err and "results.txt" in err
    assert a_file.read_text() == "not a folder"


def test_output_dir_is_created_before_the_benchmark(tmp_path, monkeypatch):
    from sklearn_recae import cli

    out = tmp_path / "a" / "b"
    seen = []
    monkeypatch.setattr(cli, "run_benchmark", lambda models, **kwargs: seen.append(out.is_dir()))
    main(["benchmark", "--models", "popularity", "--output-dir", str(out)])
    assert seen == [True] and (out / "results.json").exists()


def test_help_shows_every_default(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["benchmark", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for shown in ("split and model seed (default: 0)", "(default: ml-100k)",
                  "(default: benchmark-results)", "(default: 1)", "(default: 0.1 explicit; 0.2",
                  "(default: each model's own)", "explicit: baseline i-autorec; implicit: "
                  "popularity ease mil-lin-sig cml user-knn"):
        assert shown in text, shown


def test_several_seeds_give_mean_and_std(tmp_path, capsys):
    out = tmp_path / "seeds"
    code = main(["benchmark", "--dataset", "synthetic", "--task", "implicit", "--models",
                 "popularity", "ease", "--seeds", "0", "1", "--output-dir", str(out), "-v", "0"])
    assert code == 0
    printed = capsys.readouterr().out
    _, records = _records(out)
    assert [(r["model"], r["seed"]) for r in records] == [
        ("popularity", 0), ("popularity", 1), ("ease", 0), ("ease", 1)]
    assert records[0]["ndcg@100"] != records[1]["ndcg@100"]  # two splits
    ndcg = [r["ndcg@100"] for r in records[:2]]
    table_line = next(line for line in printed.splitlines() if line.startswith("popularity "))
    assert f"{np.mean(ndcg):.4f} ± {np.std(ndcg):.4f}" in table_line
    assert "[1/4] implicit: popularity, seed 0" in printed  # progress as it goes


@pytest.mark.parametrize(("seeds", "message"), [
    (["--seeds", "1", "1"], "argument --seeds: each seed once, got [1, 1]"),
    (["--seed", "1", "--seeds", "2"], "argument --seeds: not allowed with argument --seed"),
])
def test_bad_seeds_are_argparse_errors(tmp_path, monkeypatch, capsys, seeds, message):
    _no_benchmark(monkeypatch)
    with pytest.raises(SystemExit) as exit_info:
        main(["benchmark", "--dataset", "synthetic", "--models", "popularity", *seeds,
              "--output-dir", str(tmp_path / "out")])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_baseline_row_is_global_mean_plus_biases(tmp_path):
    from sklearn_recae.cli import load_dataset, split_dataset
    from sklearn_recae.linear import BaselineRatings
    from sklearn_recae.metrics import get_scorer

    out = tmp_path / "baseline"
    main(["benchmark", "--dataset", "synthetic", "--models", "baseline", "--seed", "2",
          "--output-dir", str(out), "-v", "0"])
    _, (record,) = _records(out)
    X_train, X_test, _ = split_dataset(load_dataset("synthetic", 2), "explicit", 0.1, None, 2)
    expected = -get_scorer("neg_rmse")(BaselineRatings().fit(X_train), X_train, X_test)
    assert record["rmse"] == pytest.approx(expected)
    assert record["curve"] is None and record["epochs"] == 1


def test_records_hold_every_hyper_parameter_and_the_training_curve(tmp_path):
    out = tmp_path / "curve"
    main(["benchmark", "--dataset", "synthetic", "--models", "i-autorec", "--max-epochs", "3",
          "--device", "cpu", "--output-dir", str(out), "-v", "0"])
    _, (record,) = _records(out)
    inner = record["params"]["estimator"]
    assert inner["class"] == "AutoRec" and inner["params"]["max_epochs"] == 3
    assert inner["params"]["device"] == "cpu" and record["device"] == "cpu"
    curve = record["curve"]
    assert len(curve["validation"]) == 3 and all(0 < v < 4 for v in curve["validation"])
    assert 1 <= curve["best_epoch"] <= 3 and len(curve["train_loss"]) == curve["best_epoch"]
    assert record["epochs"] == 3 + curve["best_epoch"]  # validation run + refit


def test_interrupt_keeps_the_finished_models(tmp_path, monkeypatch, capsys,
                                            python_sigint_handler):
    import os
    import signal

    from sklearn_recae.linear import PopularityRecommender

    def ctrl_c(self, X, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C does

    monkeypatch.setattr(PopularityRecommender, "fit", ctrl_c)
    out = tmp_path / "interrupted"
    code = main(["benchmark", "--dataset", "synthetic", "--models", "baseline", "ease",
                 "popularity", "mult-dae", "--max-epochs", "1", "--output-dir", str(out),
                 "-v", "0"])
    assert code == 130
    printed = capsys.readouterr().out
    assert "interrupted" in printed and "kept in the files written" in printed
    _, explicit = _records(out / "explicit")
    _, implicit = _records(out / "implicit")
    assert [r["model"] for r in explicit] == ["baseline"]
    assert [r["model"] for r in implicit] == ["ease"]  # popularity stopped the run
    with (out / "implicit" / "results.csv").open() as f:
        assert [r["model"] for r in csv.DictReader(f)] == ["ease"]
    results = json.loads((out / "implicit" / "results.json").read_text())
    assert [r["model"] for r in results["results"]] == ["ease"]


def test_a_torch_fit_stopped_by_ctrl_c_is_no_result(tmp_path, monkeypatch, capsys):
    # the torch models catch Ctrl-C, keep their weights and set interrupted_:
    # the benchmark stops there and records nothing for the partly trained model
    from sklearn_recae.autoencoder import MultDAE

    fit = MultDAE.fit

    def interrupted_fit(self, X, *args, **kwargs):
        fit(self, X, *args, **kwargs)
        self.interrupted_ = True
        return self

    monkeypatch.setattr(MultDAE, "fit", interrupted_fit)
    out = tmp_path / "torch"
    code = main(["benchmark", "--dataset", "synthetic", "--models", "ease", "mult-dae", "cdae",
                 "--max-epochs", "1", "--output-dir", str(out), "-v", "0"])
    assert code == 130
    _, records = _records(out)
    assert [r["model"] for r in records] == ["ease"]


def test_plot_writes_metric_bars_and_training_curves(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "plots"
    code = main(["benchmark", "--dataset", "synthetic", "--models", "popularity", "mult-dae",
                 "--seeds", "0", "1", "--max-epochs", "2", "--plot", "--output-dir", str(out),
                 "-v", "0"])
    assert code == 0
    printed = capsys.readouterr().out
    for name in ("metrics.png", "curves.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert str(out / name) in printed


def test_plot_without_matplotlib_fails_before_any_fit(tmp_path, monkeypatch, capsys):
    from sklearn_recae import cli

    _no_benchmark(monkeypatch)

    def missing():
        raise ImportError('plotting needs matplotlib: pip install "sklearn-recae[plot]"')

    monkeypatch.setattr(cli, "check_matplotlib", missing)
    with pytest.raises(SystemExit) as exit_info:
        main(["benchmark", "--dataset", "synthetic", "--models", "popularity", "--plot",
              "--output-dir", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert 'argument --plot: plotting needs matplotlib: pip install "sklearn-recae[plot]"' in (
        capsys.readouterr().err)


def test_json_safe_and_table_over_seeds():
    from sklearn_recae.autoencoder import AutoRec
    from sklearn_recae.benchmark import format_table, json_safe, summarize

    value = {"model": AutoRec(hidden_units=(8,)), "n": np.int64(3), "bad": float("nan"),
             "kind": np.float32, "pair": (1, 2.5)}
    safe = json_safe(value)
    json.dumps(safe, allow_nan=False)
    assert safe["model"]["class"] == "AutoRec" and safe["model"]["params"]["hidden_units"] == [8]
    assert safe["n"] == 3 and safe["bad"] is None and safe["pair"] == [1, 2.5]
    assert safe["kind"] == "numpy.float32"
    records = [{"model": "a", "seed": 0, "rmse": 1.0, "epochs": 4},
               {"model": "a", "seed": 1, "rmse": 0.5, "epochs": 6},
               {"model": "b", "seed": 0, "rmse": 2.0, "epochs": 1}]
    rows = summarize(records, ["rmse", "epochs"])
    assert rows[0] == {"model": "a", "seeds": [0, 1], "rmse": (0.75, 0.25), "epochs": (5.0, 1.0)}
    lines = format_table(rows, ["rmse", "epochs"]).splitlines()
    assert lines[2].split() == ["a", "0.7500", "±", "0.2500", "5", "±", "1"]
    assert lines[3].split() == ["b", "2.0000", "±", "0.0000", "1", "±", "0"]
