"""MML judged on its paper's protocol (Tables 7–8): UBCF / IBCF fed with raw rows, CML or MML.

Protocol, for each seed ``s`` (issue #21, item 2), as close to the paper's
§4.1 as MovieLens-100K allows:

1. MovieLens-100K ratings; ratings >= 3 are positives (+1), ratings < 3
   negatives (−1, stored: the metric models read them as "not positive",
   the raw kNN's cosine sees them);
2. ``--data sparse``: a seeded subsample of each user's ratings
   (:func:`sparsify`: ``max(1, round(p · n_u))`` of user ``u``'s ``n_u``
   ratings, drawn without replacement with seed ``s``) with ``p`` chosen so
   the density is ``--density`` (default 0.12%, the paper's densest data
   set, Jingdong; its others are 0.04–0.05%). ML-100K is small: at that
   density a user keeps 1–13 ratings (about 2 on average; the paper's data
   sets have 3–9 ratings per user);
3. a uniform 60/20/20 split of the stored entries (train / validation /
   test, seed ``s``; the paper's 60/20/20);
4. each embedding model (``--models``) is fitted on the training part and
   early-stops on the validation part's positives (its own NDCG@100 each
   epoch, keeping the best epoch, at most ``--max-epochs``);
5. UBCF: :class:`~sklearn_recae.neighbors.KNeighborsRecommender` over the
   user representation (raw: the signed training rows, cosine; a model:
   ``transform``, the points mapped by ``L_U``, Euclidean) recommending the
   neighbours' training positives; IBCF: the same over the items (raw: the
   signed training columns, cosine; a model: ``item_embeddings_`` mapped by a
   square root of ``W_I``, Euclidean), each item scored for a user by its
   neighbour items' training positives with that user ("@points" rows: the
   same over the model's points without the learned metrics); "own": the model's
   ranking by its user–item distance; "popularity" ranks by the number of
   training positives (the reference of no personalisation);
6. ``n_neighbors`` of every kNN is chosen in ``--neighbors`` by validation
   HR@50; the validation and test rankings exclude the items of the training
   part (and, for the test ranking, of the validation part);
7. HR@50 and Recall@50 of the positives of the held-out part (users with
   one), and NMI of 10 spherical k-means clusters of the item
   representation (items with a training entry and a genre; each movie's
   first genre) against the genres.

Every configuration's validation *and* test scores come from the same
(seeded, deterministic) fit; they are written to separate files
(``<output>-<data>-<models><tag>-valid.json`` and ``...-test.json``): choose
on the first,
then read the second once (a refit with the same seed gives the same
numbers). Fits run one at a time, one torch thread.

Run:  python benchmarks/mml_paper_protocol.py --data sparse --seeds 0 1 2
      python benchmarks/mml_paper_protocol.py --summarise benchmark-results/mml-paper-*-test.json
      python benchmarks/mml_paper_protocol.py --data dense --max-epochs 15 --models cml mml
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from benchmarks.mml_benchmark import summarise
from sklearn_recae.datasets import genre_labels, load_movielens_100k
from sklearn_recae.linear import PopularityRecommender
from sklearn_recae.metric_learning import CML, MML_PAPER_PARAMS, MagneticMetricLearning
from sklearn_recae.metrics import hit_rate_at_k, recall_at_k, spherical_kmeans_nmi
from sklearn_recae.model_selection import train_test_split
from sklearn_recae.neighbors import KNeighborsRecommender

#: configuration name -> (class, parameters besides the shared ones)
MODELS = {
    "cml": (CML, {}),
    "mml": (MagneticMetricLearning, {}),
    "mml-paper": (MagneticMetricLearning, MML_PAPER_PARAMS),
}
K = 50
PAPER_DENSITY = 0.0012


def sparsify(R: sp.csr_matrix, density: float, seed: int) -> sp.csr_matrix:
    """Keep ``max(1, round(p · n_u))`` random ratings of each user, ``p`` giving ``density``.

    ``p = density · n_users · n_items / nnz`` (before the at-least-one floor,
    which raises the density slightly). ``R`` is not modified.
    """
    R = sp.csr_matrix(R, dtype=np.float32)
    p = density * R.shape[0] * R.shape[1] / R.nnz
    rng = np.random.default_rng(seed)
    keep = np.zeros(R.nnz, dtype=bool)
    for u in range(R.shape[0]):
        start, stop = R.indptr[u], R.indptr[u + 1]
        n_keep = min(stop - start, max(1, round(p * (stop - start))))
        keep[start + rng.choice(stop - start, n_keep, replace=False)] = True
    rows = np.repeat(np.arange(R.shape[0]), np.diff(R.indptr))
    return sp.csr_matrix((R.data[keep], (rows[keep], R.indices[keep])), shape=R.shape)


def signed(R: sp.csr_matrix) -> sp.csr_matrix:
    """+1 for ratings >= 3, −1 for ratings < 3 (the paper's negatives)."""
    S = R.copy().astype(np.float32)
    S.data = np.where(S.data >= 3, 1.0, -1.0).astype(np.float32)
    return S


def positives(S: sp.csr_matrix) -> sp.csr_matrix:
    P = S.multiply(S > 0).tocsr().astype(np.float32)
    P.eliminate_zeros()
    return P


def top_k(scores: np.ndarray, exclude: sp.csr_matrix, k: int = K) -> np.ndarray:
    """The ``k`` best items of each row, the stored entries of ``exclude`` left out."""
    scores = np.array(scores, dtype=np.float64)
    rows, cols = exclude.nonzero()
    scores[rows, cols] = -np.inf
    part = np.argpartition(-scores, k, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def ranking_scores(scores, parts: dict) -> dict:
    """HR@50 and Recall@50 of ``scores`` on each held-out part: ``{part: (hr, recall)}``."""
    out = {}
    for name, (exclude, target) in parts.items():
        rec = top_k(scores, exclude)
        out[name] = (hit_rate_at_k(target, rec, k=K), recall_at_k(target, rec, k=K))
    return out


def knn_scores(representation, interactions, metric: str, n_neighbors: int) -> np.ndarray:
    """Scores of every row of ``representation`` from its neighbours' ``interactions``."""
    knn = KNeighborsRecommender(n_neighbors, metric=metric)
    knn.fit(representation, interactions=interactions)
    return np.asarray(knn.predict(representation))


def item_points(model) -> np.ndarray:
    """Item embeddings mapped by a square root of ``W_I`` (Euclidean distance = ``√F_I``)."""
    values, vectors = np.linalg.eigh(model.metrics_["item"].astype(np.float64))
    return model.item_embeddings_ @ (vectors * np.sqrt(values.clip(min=0)))


def nmi(item_repr, has_entry: np.ndarray, labels: np.ndarray, seed: int) -> float:
    keep = has_entry & (labels >= 0)
    X = item_repr[keep]
    X = X.toarray() if sp.issparse(X) else X
    keep_nonzero = np.linalg.norm(X, axis=1) > 0
    return spherical_kmeans_nmi(X[keep_nonzero], labels[keep][keep_nonzero], n_clusters=10,
                                random_state=seed)


def evaluate(name, seed, users, items, own, parts, interactions, neighbors, metric,
             nmi_value, extra) -> list:
    """Result rows (one per recommender) of one representation: UBCF, IBCF, own ranking.

    ``interactions``: the training positives, users × items and items × users.
    """
    rows = []
    for rs, represent, inter, transpose in (("UBCF", users, interactions[0], False),
                                            ("IBCF", items, interactions[1], True)):
        best = None
        for k in neighbors:
            scores = knn_scores(represent, inter, metric, k)
            result = ranking_scores(scores.T if transpose else scores, parts)
            if best is None or result["valid"][0] > best[1]["valid"][0]:
                best = (k, result)
        rows.append(_row(name, rs, seed, best[1], nmi_value, {"n_neighbors": best[0], **extra}))
    if own is not None:
        rows.append(_row(name, "own", seed, ranking_scores(own, parts), nmi_value, extra))
    return rows


def _row(name, rs, seed, result, nmi_value, extra) -> dict:
    return {"model": f"{rs}:{name}", "seed": seed, **{
        f"{part}_{m}": result[part][i] for part in result for i, m in
        enumerate(("hr@50", "recall@50"))}, "nmi@10": nmi_value, **extra}


def run(name: str, seed: int, data: str, density: float, max_epochs: int,
        neighbors, params: dict) -> list[dict]:
    """Fit one configuration (or the raw rows) on split ``seed``; its UBCF / IBCF / own rows."""
    import torch

    torch.set_num_threads(1)
    R = load_movielens_100k().ratings
    if data == "sparse":
        R = sparsify(R, density, seed)
    S_train, S_valid, S_test = train_test_split(signed(R), test_size=0.2, valid_size=0.2,
                                                random_state=seed)
    parts = {"valid": (S_train, positives(S_valid)),
             "test": ((S_train + S_valid).tocsr(), positives(S_test))}
    interactions = (positives(S_train), positives(S_train).T.tocsr())
    labels = genre_labels(load_movielens_100k().movies.genres, multi_genre="first")
    has_entry = np.diff(S_train.tocsc().indptr) > 0
    density_info = {"density": R.nnz / np.prod(R.shape)}
    if name == "popularity":  # the reference of a ranking without personalisation
        own = PopularityRecommender().fit(interactions[0]).predict(S_train)
        return [_row("popularity", "own", seed, ranking_scores(own, parts), np.nan,
                     density_info)]
    if name == "raw":
        items = S_train.T.tocsr()
        return evaluate("raw", seed, S_train, items, None, parts, interactions, neighbors,
                        "cosine", nmi(items, has_entry, labels, seed), density_info)
    cls, config = MODELS[name]
    model = cls(max_epochs=max_epochs, random_state=seed, device="cpu")
    model.set_params(**{**config, **params})
    start = time.perf_counter()
    model.fit(S_train, X_valid=positives(S_valid))
    extra = {**density_info, "best_epoch": model.best_epoch_, "epochs": model.n_epochs_,
             "fit_s": time.perf_counter() - start}
    margins = model.margins_
    extra.update({f"margin_{k}": float(np.median(v)) for k, v in margins.items()})
    nmi_value = nmi(model.item_embeddings_, has_entry, labels, seed)
    rows = evaluate(name, seed, model.transform(S_train), item_points(model),
                    model.predict(S_train), parts, interactions, neighbors, "euclidean",
                    nmi_value, extra)
    # the kNN over the points themselves, without the learned W_U / W_I ("@points")
    return rows + evaluate(f"{name}@points", seed, model.user_embeddings_,
                           model.item_embeddings_, None, parts, interactions, neighbors,
                           "euclidean", nmi_value, extra)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=("dense", "sparse"), default="sparse")
    parser.add_argument("--density", type=float, default=PAPER_DENSITY)
    parser.add_argument("--models", nargs="+", default=["raw", "cml", "mml-paper", "mml"],
                        choices=["popularity", "raw", *MODELS])
    parser.add_argument("--params", type=json.loads, default={},
                        help="JSON parameters added to every model (not raw)")
    parser.add_argument("--tag", default="", help="suffix of the model names in the table")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-epochs", type=int, default=50)
    parser.add_argument("--neighbors", type=int, nargs="+", default=[10, 25, 50, 100, 200])
    parser.add_argument("--output", type=Path, default=Path("benchmark-results/mml-paper"))
    parser.add_argument("--summarise", type=Path, nargs="+", metavar="JSON",
                        help="only print the mean ± std table of result files written before")
    args = parser.parse_args(argv)
    if args.summarise:
        results = pd.concat([pd.read_json(path) for path in args.summarise])
        print(summarise(results.drop(columns="density")).to_markdown())
        return
    args.output.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for seed in args.seeds:
        for name in args.models:
            for row in run(name, seed, args.data, args.density, args.max_epochs,
                           args.neighbors, {} if name == "raw" else args.params):
                row["model"] += args.tag
                rows.append(row)
            print(rows[-1]["model"], seed, {k: v for k, v in rows[-1].items()
                                             if not k.startswith("test_")}, flush=True)
    results = pd.DataFrame(rows)
    level = "" if args.data == "dense" or args.density == PAPER_DENSITY else str(args.density)
    stem = f"{args.output}-{args.data}{level}-{'+'.join(args.models)}{args.tag}"
    test_columns = [c for c in results.columns if c.startswith("test_")]
    Path(f"{stem}-test.json").write_text(results.to_json(orient="records", indent=1))
    valid = results.drop(columns=test_columns)
    Path(f"{stem}-valid.json").write_text(valid.to_json(orient="records", indent=1))
    print(f"density {results.density.mean():.5f}")
    print(summarise(valid.drop(columns="density")).to_markdown())


if __name__ == "__main__":
    main()
