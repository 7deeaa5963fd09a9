"""The benchmark command on the synthetic data set (no download)."""

from __future__ import annotations

import csv
import json

import pytest

from sklearn_recae.cli import main, models_by_task


def test_benchmark_writes_table_json_and_csv(tmp_path, capsys):
    out = tmp_path / "results"
    code = main([
        "benchmark", "--dataset", "synthetic", "--models", "u-autorec", "mma",
        "--max-epochs", "2", "--test-size", "0.2", "--valid-size", "0.1",
        "--device", "cpu", "--output-dir", str(out),
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
    with (out / "results.csv").open() as f:
        assert [r["model"] for r in csv.DictReader(f)] == ["u-autorec", "mma"]


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


def test_a_model_of_the_other_task_is_refused():
    with pytest.raises(ValueError, match="not implicit-feedback models"):
        main(["benchmark", "--task", "implicit", "--dataset", "synthetic", "--models", "mma"])


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
    assert models_by_task(None, None) == {"explicit": None}
    assert models_by_task(None, "implicit") == {"implicit": None}
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
    monkeypatch.setattr(cli, "run_benchmark",
                        lambda models, **kwargs: calls.append(kwargs) or [{"model": "x"}])
    monkeypatch.setattr(cli, "format_table", lambda rows: "")
    main(["benchmark", "--models", "popularity", "--max-epochs", "1", "--seed", "0",
          "--output-dir", str(tmp_path)])
    assert calls[0]["max_epochs"] == 1 and calls[0]["seed"] == 0
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
    monkeypatch.setattr(cli, "run_benchmark",
                        lambda models, **kwargs: seen.append(out.is_dir()) or [{"model": "x"}])
    monkeypatch.setattr(cli, "format_table", lambda rows: "")
    main(["benchmark", "--models", "popularity", "--output-dir", str(out)])
    assert seen == [True] and (out / "results.json").exists()
