import pytest
import torch

from sklearn_recae.losses import MaskedLpLoss, lp_penalty, masked_squared_error_sums

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
