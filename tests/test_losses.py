import math

import pytest
import torch
import torch.nn.functional as F

from sklearn_recae.losses import (
    MaskedLpLoss,
    MaxNorm,
    MILLoss,
    MultinomialLoss,
    PairwiseCrossEntropyLoss,
    PointwiseCrossEntropyLoss,
    lp_penalty,
    masked_squared_error_sums,
    max_norm_,
)

Y_TRUE = torch.tensor([[5.0, 0.0, 3.0], [0.0, 1.0, 0.0]])
Y_PRED = torch.tensor([[4.0, 9.0, 3.5], [7.0, 3.0, -2.0]])
# Observed entries: (0,0) err -1, (0,2) err 0.5, (1,1) err 2; unobserved ignored.


def test_masked_l2_sum_and_mean():
    assert MaskedLpLoss(2)(Y_PRED, Y_TRUE).item() == pytest.approx(1 + 0.25 + 4)
    assert MaskedLpLoss(2, "mean")(Y_PRED, Y_TRUE).item() == pytest.approx(5.25 / 3)


def test_masked_l1():
    assert MaskedLpLoss(1)(Y_PRED, Y_TRUE).item() == pytest.approx(1 + 0.5 + 2)


def test_masked_loss_ignores_unobserved_gradients():
    pred = Y_PRED.clone().requires_grad_()
    MaskedLpLoss(2)(pred, Y_TRUE).backward()
    assert pred.grad[0, 1] == 0 and pred.grad[1, 0] == 0 and pred.grad[1, 2] == 0
    assert pred.grad[0, 0].item() == pytest.approx(-2.0)


def test_penalties():
    w = [torch.tensor([[1.0, -2.0]]), torch.tensor([[3.0]])]
    assert lp_penalty(w, "l2", 2.0).item() == pytest.approx(0.5 * 2 * (1 + 4 + 9))
    assert lp_penalty(w, "l1", 2.0).item() == pytest.approx(2 * (1 + 2 + 3))
    assert lp_penalty(w, None, 2.0).item() == 0
    with pytest.raises(ValueError, match="penalty"):
        lp_penalty(w, "l3", 1.0)


def test_error_sums_give_exact_rmse():
    sse, count = masked_squared_error_sums(Y_PRED, Y_TRUE)
    assert sse.item() == pytest.approx(5.25) and count.item() == 3


@pytest.mark.parametrize("bad", [{"p": 3}, {"reduction": "max"}])
def test_loss_rejects_bad_arguments(bad):
    with pytest.raises(ValueError):
        MaskedLpLoss(**bad)


# ---------------------------------------------------------------------------
# Implicit-feedback losses (MIL paper eqs. 2-8) and max-norm (eq. 14).
# ---------------------------------------------------------------------------
# 1 = positive, 0 = unobserved, -1 = negative feedback.
P_TRUE = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, -1.0]])
P_PRED = torch.tensor([[0.8, 0.5, 0.9], [0.3, 0.6, 0.2]])


def _sigmoid(x):
    return 1 / (1 + math.exp(-x))


def test_mil_hand_computed():
    # A=4, gamma=1 (barrier 4 (p-0.5)^2), gamma_pos=2, gamma_neg=2:
    # row 0: (1-0.8)^2 = 0.04 ; 4*(0.5-0.5)^2 = 0 ; 4*(0.9-0.5)^2 = 0.64
    # row 1: 4*(0.3-0.5)^2 = 0.16 ; (1-0.6)^2 = 0.16 ; negative 0.2^2 = 0.04
    # sum 1.04, divided by the batch size 2
    loss = MILLoss(A=4, gamma=1, gamma_pos=2, gamma_neg=2)(P_PRED, P_TRUE)
    assert loss.item() == pytest.approx(1.04 / 2)


def test_mil_paper_defaults_hand_computed():
    # A=1e6, gamma=10, gamma_pos=gamma_neg=1:
    # row 0: |1-0.8| = 0.2 ; 0 ; 1e6*0.4^20 ; row 1: 1e6*0.2^20 ; |1-0.6| = 0.4 ; |0.2| = 0.2
    expected = (0.2 + 1e6 * 0.4**20 + 1e6 * 0.2**20 + 0.4 + 0.2) / 2
    assert MILLoss()(P_PRED, P_TRUE).item() == pytest.approx(expected, rel=1e-5)


def test_mil_barrier_on_unobserved_entries():
    A, gamma = 1e6, 10
    loss = MILLoss(A=A, gamma=gamma)
    unobserved = torch.zeros(1, 1)
    barrier = A * 0.5 ** (2 * gamma)  # ~0.9537
    assert loss(torch.tensor([[0.0]]), unobserved).item() == pytest.approx(barrier, rel=1e-5)
    assert loss(torch.tensor([[1.0]]), unobserved).item() == pytest.approx(barrier, rel=1e-5)
    assert loss(torch.tensor([[0.5]]), unobserved).item() == 0
    # A positive predicted 1 costs nothing; predicted 0 costs |1-0|^1 = 1.
    assert loss(torch.tensor([[1.0]]), torch.ones(1, 1)).item() == 0
    assert loss(torch.tensor([[0.0]]), torch.ones(1, 1)).item() == pytest.approx(1.0)


def test_mil_negative_feedback_term():
    negative = -torch.ones(1, 1)
    # |p|^gamma_neg, only where the target is -1; zero at p = 0.
    assert MILLoss(gamma_neg=2)(torch.tensor([[0.3]]), negative).item() == pytest.approx(0.09)
    assert MILLoss(gamma_neg=1)(torch.tensor([[0.3]]), negative).item() == pytest.approx(0.3)
    assert MILLoss()(torch.tensor([[0.0]]), negative).item() == 0
    # No barrier applied to a negative entry predicted 0 (it would cost ~0.95).


def test_mil_is_per_row_mean_of_sums():
    loss = MILLoss(A=4, gamma=1, gamma_pos=2, gamma_neg=2)
    doubled = loss(P_PRED.repeat(2, 1), P_TRUE.repeat(2, 1))
    assert doubled.item() == pytest.approx(loss(P_PRED, P_TRUE).item())


def test_mil_sampled_unobserved_entries():
    # A=4, gamma=1, gamma_pos=gamma_neg=2 as above. Row 0: positive 0.04, unobserved
    # 0 (p=0.5) and 0.64 (p=0.9); row 1: positive 0.16, its one unobserved 0.16,
    # negative feedback 0.04 (never a sampling candidate).
    def mil(neg_ratio):
        loss = MILLoss(A=4, gamma=1, gamma_pos=2, gamma_neg=2, neg_ratio=neg_ratio)
        return loss(P_PRED, P_TRUE).item()

    assert mil(None) == pytest.approx(1.04 / 2)        # every unobserved entry (eq. 3)
    assert mil(2) == pytest.approx(1.04 / 2)           # 2 per positive: all of them
    assert mil(0) == pytest.approx((0.04 + 0.16 + 0.04) / 2)  # no barrier term
    torch.manual_seed(0)
    values = {round(mil(1), 6) for _ in range(50)}     # one of row 0's two unobserved
    assert values == {round((0.04 + 0.36) / 2, 6), round((0.04 + 0.64 + 0.36) / 2, 6)}


def test_pointwise_ce_all_unobserved_hand_computed():
    # -1 counts as a negative (target 0).
    # row 0: -ln 0.8 - ln(1-0.5) - ln(1-0.9) ; row 1: -ln(1-0.3) - ln 0.6 - ln(1-0.2)
    expected = (
        -math.log(0.8) - math.log(0.5) - math.log(0.1)  # row 0
        - math.log(0.7) - math.log(0.6) - math.log(0.8)  # row 1
    ) / 2
    loss = PointwiseCrossEntropyLoss(neg_ratio=None)(P_PRED, P_TRUE)
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    # Same as torch's BCE on the binarised targets, summed, over the batch size.
    ref = F.binary_cross_entropy(P_PRED, (P_TRUE > 0).float(), reduction="sum") / 2
    assert loss.item() == pytest.approx(ref.item(), rel=1e-5)


def test_pointwise_ce_sampling():
    # neg_ratio=2 with one positive and two others per row takes them all.
    full = PointwiseCrossEntropyLoss(neg_ratio=None)(P_PRED, P_TRUE)
    two = PointwiseCrossEntropyLoss(neg_ratio=2)(P_PRED, P_TRUE)
    assert two.item() == pytest.approx(full.item())
    # neg_ratio=1: one of the two others per row, so one of 4 possible values.
    row0 = [-math.log(0.8) - math.log(0.5), -math.log(0.8) - math.log(0.1)]
    row1 = [-math.log(0.6) - math.log(0.7), -math.log(0.6) - math.log(0.8)]
    possible = [(a + b) / 2 for a in row0 for b in row1]
    value = PointwiseCrossEntropyLoss(neg_ratio=1)(P_PRED, P_TRUE).item()
    assert any(value == pytest.approx(v, rel=1e-5) for v in possible)


def test_pointwise_ce_sample_sizes_and_reproducibility():
    y_true = (torch.rand(4, 50) < 0.1).float()
    y_true[0, :3] = 1
    pred = torch.rand(4, 50).clamp(0.05, 0.95).requires_grad_()
    loss = PointwiseCrossEntropyLoss(neg_ratio=3)
    torch.manual_seed(1)
    a = loss(pred, y_true)
    torch.manual_seed(1)
    b = loss(pred, y_true)
    assert a.item() == b.item()
    a.backward()
    # Entries used: every positive and round(3 * n_pos) sampled others per row.
    n_pos = (y_true > 0).sum(1)
    n_used = torch.minimum(4 * n_pos, torch.full_like(n_pos, 50))
    assert torch.equal((pred.grad != 0).sum(1), n_used)
    torch.manual_seed(2)
    assert loss(pred, y_true).item() != a.item()  # a different sample


@pytest.mark.parametrize(
    "loss",
    [
        MILLoss(),
        PointwiseCrossEntropyLoss(neg_ratio=None),
        PointwiseCrossEntropyLoss(neg_ratio=5),
        PairwiseCrossEntropyLoss(n_pairs=None),
        PairwiseCrossEntropyLoss(n_pairs=7),
        MultinomialLoss(),
    ],
)
def test_degenerate_rows_and_finite_gradients(loss):
    # Row 0 all positive, row 1 no positive, row 2 only negative feedback,
    # row 3 mixed; predictions include the extremes 0 and 1.
    y_true = torch.tensor(
        [[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0], [-1.0, -1.0, 0.0, 0.0], [1.0, 0.0, -1.0, 0.0]]
    )
    pred = torch.tensor(
        [[1.0, 0.0, 0.5, 0.9], [0.0, 1.0, 0.5, 0.1], [0.0, 1.0, 0.3, 0.7], [0.2, 0.5, 1.0, 0.0]],
        requires_grad=True,
    )
    value = loss(pred, y_true)
    assert value.dim() == 0 and torch.isfinite(value)
    value.backward()
    assert torch.isfinite(pred.grad).all()


def test_pointwise_ce_rows_without_positive_or_unobserved():
    pred = torch.tensor([[0.7, 0.4], [0.2, 0.9]])
    y_true = torch.tensor([[1.0, 1.0], [0.0, 0.0]])
    # Sampled: row 0 has no other entry, row 1 has no positive (0 negatives).
    assert PointwiseCrossEntropyLoss(neg_ratio=3)(pred, y_true).item() == pytest.approx(
        (-math.log(0.7) - math.log(0.4)) / 2, rel=1e-5
    )
    # Unsampled: row 1's unobserved entries are all used.
    assert PointwiseCrossEntropyLoss()(pred, y_true).item() == pytest.approx(
        (-math.log(0.7) - math.log(0.4) - math.log(0.8) - math.log(0.1)) / 2, rel=1e-5
    )


def test_pointwise_ce_clamps_probabilities():
    pred = torch.tensor([[0.0, 1.0]])
    y_true = torch.tensor([[1.0, 0.0]])
    # Both entries are clamped to eps / 1-eps: 2 * -ln(1e-5).
    value = PointwiseCrossEntropyLoss()(pred, y_true).item()
    assert value == pytest.approx(-2 * math.log(1e-5), rel=1e-4)


def test_pairwise_ce_all_pairs_hand_computed():
    # row 0: seen 0 (0.8); unseen 1 (0.5), 2 (0.9): -ln s(0.3) - ln s(-0.1)
    # row 1: seen 1 (0.6); unseen 0 (0.3), 2 (-1 -> unseen, 0.2): -ln s(0.3) - ln s(0.4)
    expected = (
        -math.log(_sigmoid(0.3)) - math.log(_sigmoid(-0.1))  # row 0
        - math.log(_sigmoid(0.3)) - math.log(_sigmoid(0.4))  # row 1
    ) / 2
    loss = PairwiseCrossEntropyLoss(n_pairs=None)(P_PRED, P_TRUE)
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_pairwise_ce_all_pairs_equal_a_loop():
    torch.manual_seed(0)
    y_true = (torch.rand(5, 12) < 0.3).float()
    y_true[0] = 0  # a row without a seen entry contributes nothing
    y_true[1] = 1  # nor a row without an unseen one
    pred = torch.rand(5, 12)
    expected = sum(
        -F.logsigmoid(pred[u, i] - pred[u, j]).item()
        for u in range(5) for i in range(12) for j in range(12)
        if y_true[u, i] > 0 and y_true[u, j] == 0
    ) / 5
    loss = PairwiseCrossEntropyLoss(n_pairs=None)(pred, y_true)
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_pairwise_ce_sampled():
    # One seen and one unseen entry per row: every sampled pair is the same.
    y_true = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    pred = torch.tensor([[0.9, 0.2], [0.4, 0.6]])
    # 5 pairs per row: 5 * (-ln s(0.7)) + 5 * (-ln s(0.2)), over 2 rows.
    expected = 5 * (-math.log(_sigmoid(0.7)) - math.log(_sigmoid(0.2))) / 2
    value = PairwiseCrossEntropyLoss(n_pairs=5)(pred, y_true).item()
    assert value == pytest.approx(expected, rel=1e-5)


def test_pairwise_ce_reproducible_and_unbiased():
    y_true = (torch.rand(3, 40) < 0.2).float()
    pred = torch.randn(3, 40)
    loss = PairwiseCrossEntropyLoss(n_pairs=20)
    torch.manual_seed(5)
    a = loss(pred, y_true)
    torch.manual_seed(5)
    assert loss(pred, y_true).item() == a.item()
    # Many samples average to n_pairs times the mean over all pairs of the row.
    all_pairs = PairwiseCrossEntropyLoss(n_pairs=None)
    n_seen = (y_true > 0).sum(1).float()
    n_pairs_per_row = n_seen * (40 - n_seen)
    row_sums = torch.stack([all_pairs(pred[r : r + 1], y_true[r : r + 1]) for r in range(3)])
    per_row_mean = row_sums / n_pairs_per_row
    big = PairwiseCrossEntropyLoss(n_pairs=20000)(pred, y_true)
    assert big.item() == pytest.approx((20000 * per_row_mean).sum().item() / 3, rel=0.02)


def test_multinomial_hand_computed():
    logits = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, math.log(2.0)]])
    y_true = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, -1.0]])
    # row 0: log Z = ln(e + e^2 + e^3); -(1 - log Z) - (3 - log Z)
    log_z0 = math.log(math.e + math.e**2 + math.e**3)
    row0 = -(1 - log_z0) - (3 - log_z0)
    # row 1: Z = 1 + 1 + 2 = 4; only the positive counts (-1 is ignored): -(0 - ln 4)
    row1 = math.log(4.0)
    loss = MultinomialLoss()(logits, y_true)
    assert loss.item() == pytest.approx((row0 + row1) / 2, rel=1e-6)
    # Same as the vae_cf reference on binary targets.
    x = y_true.clamp_min(0)
    ref = -torch.mean(torch.sum(F.log_softmax(logits, 1) * x, -1))
    assert loss.item() == pytest.approx(ref.item())


def test_max_norm_clips_columns_and_keeps_small_ones():
    w = torch.tensor([[3.0, 0.3, 0.0], [4.0, 0.4, 0.0], [0.0, 0.0, 0.0]])
    original = w.clone()
    out = max_norm_(w, 1.0, dim=0)
    assert out is w  # in place
    col_norms = torch.linalg.vector_norm(w, dim=0)
    assert (col_norms <= 1.0 + 1e-6).all()
    assert col_norms[0].item() == pytest.approx(1.0)
    assert torch.allclose(w[:, 0], original[:, 0] / 5)  # direction kept
    assert torch.equal(w[:, 1:], original[:, 1:])  # within the bound: unchanged (zero column too)


def test_max_norm_rows_and_random_matrix():
    torch.manual_seed(0)
    w = torch.randn(20, 8) * 3  # row norms around 3 * sqrt(8) ~ 8.5
    original = w.clone()
    bound = 8.0
    max_norm_(w, bound, dim=1)
    row_norms = torch.linalg.vector_norm(w, dim=1)
    assert (row_norms <= bound * (1 + 1e-6)).all()
    small = torch.linalg.vector_norm(original, dim=1) <= bound
    assert small.any() and (~small).any()
    assert torch.equal(w[small], original[small])


def test_max_norm_eq14_bound_and_no_grad():
    layer = torch.nn.Linear(10, 4)  # weight (4, 10): item i's embedding is weight[:, i]
    with torch.no_grad():
        layer.weight.mul_(10)
    constraint = MaxNorm(alpha=0.5, dim=0)
    assert constraint.bound(layer.weight) == pytest.approx(0.5 * math.sqrt(4))
    constraint(layer.weight)  # works on a leaf that requires grad
    assert layer.weight.requires_grad and layer.weight.grad_fn is None
    assert (torch.linalg.vector_norm(layer.weight, dim=0) <= 1.0 + 1e-6).all()


@pytest.mark.parametrize(
    "factory",
    [
        lambda: MILLoss(A=0),
        lambda: MILLoss(gamma=-1),
        lambda: MILLoss(neg_ratio=-1),
        lambda: PointwiseCrossEntropyLoss(neg_ratio=-1),
        lambda: PointwiseCrossEntropyLoss(eps=0),
        lambda: PairwiseCrossEntropyLoss(n_pairs=0),
        lambda: PairwiseCrossEntropyLoss(n_pairs=2.5),
        lambda: MaxNorm(alpha=0),
        lambda: max_norm_(torch.ones(2, 2), 0.0),
    ],
)
def test_implicit_losses_reject_bad_arguments(factory):
    with pytest.raises(ValueError):
        factory()


def test_implicit_losses_reject_shape_mismatch():
    with pytest.raises(ValueError, match="same shape"):
        MILLoss()(torch.zeros(2, 3), torch.zeros(2, 4))


# ---------------------------------------------------------------------------
# CDAE's square loss with negative sampling.
# ---------------------------------------------------------------------------
from sklearn_recae.losses import PointwiseSquaredLoss  # noqa: E402


def test_pointwise_squared_all_unobserved_hand_computed():
    # -1 counts as a negative (target 0); predictions used as given (no clamping).
    # row 0: (1-0.8)^2 + 0.5^2 + 0.9^2 = 0.04 + 0.25 + 0.81 = 1.10
    # row 1: 0.3^2 + (1-0.6)^2 + 0.2^2 = 0.09 + 0.16 + 0.04 = 0.29
    loss = PointwiseSquaredLoss(neg_ratio=None)(P_PRED, P_TRUE)
    assert loss.item() == pytest.approx((1.10 + 0.29) / 2, rel=1e-6)


def test_pointwise_squared_sampling_hand_computed():
    # neg_ratio=2: one positive, two others per row -> all of them.
    full = PointwiseSquaredLoss(neg_ratio=None)(P_PRED, P_TRUE)
    assert PointwiseSquaredLoss(neg_ratio=2)(P_PRED, P_TRUE).item() == pytest.approx(full.item())
    # neg_ratio=1: one of the two others per row, so one of 4 possible values.
    row0 = [0.04 + 0.25, 0.04 + 0.81]
    row1 = [0.16 + 0.09, 0.16 + 0.04]
    possible = [(a + b) / 2 for a in row0 for b in row1]
    value = PointwiseSquaredLoss(neg_ratio=1)(P_PRED, P_TRUE).item()
    assert any(value == pytest.approx(v, rel=1e-6) for v in possible)
    # Logits (outside [0, 1]) are fine: (1 - 3)^2 + (-2)^2 = 8.
    logits = torch.tensor([[3.0, -2.0]])
    assert PointwiseSquaredLoss()(logits, torch.tensor([[1.0, 0.0]])).item() == pytest.approx(8.0)


def test_pointwise_squared_sample_sizes_and_degenerate_rows():
    y_true = torch.tensor([[1.0, 1.0, 0.0, 0.0, 0.0, 0.0], [0.0] * 6, [1.0] * 6])
    pred = torch.full((3, 6), 0.5, requires_grad=True)
    torch.manual_seed(0)
    loss = PointwiseSquaredLoss(neg_ratio=1.5)(pred, y_true)
    # row 0: 2 positives + round(3) negatives, row 1: nothing, row 2: 6 positives; 0.25 each.
    assert loss.item() == pytest.approx((5 + 0 + 6) * 0.25 / 3)
    loss.backward()
    assert torch.equal((pred.grad != 0).sum(1), torch.tensor([5, 0, 6]))
    with pytest.raises(ValueError, match="neg_ratio"):
        PointwiseSquaredLoss(neg_ratio=-1)
    with pytest.raises(ValueError, match="same shape"):
        PointwiseSquaredLoss()(torch.zeros(2, 3), torch.zeros(2, 4))
