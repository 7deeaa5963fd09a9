"""The benchmark command on the synthetic data set (no download)."""

from __future__ import annotations

import csv
import json

import pytest

from sklearn_recae.cli import main


def test_benchmark_writes_table_json_and_csv(tmp_path, capsys):
    out = tmp_path / "results"
    code = main([
        "benchmark", "--dataset", "synthetic", "--models", "u-autorec", "mma",
        "--max-epochs", "2", "--test-size", "0.2", "--valid-size", "0.1",
        "--device", "cpu", "--output-dir", str(out),
    ])
    assert code == 0
    printed = capsys.readouterr().out
    assert "u-autorec" in printed and "mma" in printed and "RMSE" in printed
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
