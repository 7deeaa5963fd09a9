"""The NRP networks (Neural Representation for Prediction), no scikit-learn.

A user is represented by the concatenation of one encoder output per source
of information: its rating row, each user side-information source, and
optionally a user ID embedding; an item likewise by its rating column, its
side-information sources and an item ID embedding (§3.2 of the paper).

- ``structure="direct"`` (eq. 6): a prediction MLP ``h([z_user, z_item])``
  outputs the rating; no decoders.
- ``structure="autoencoder"`` (eq. 2): each encoder has a decoder that
  reconstructs its input, and the rating is ``z_userᵀ z_item`` (plus a bias).
  The dot product needs codes of one width, so here the sources' codes are
  *summed* instead of concatenated (a fixed linear map of the concatenation).

**No leakage.** The rating of entry ``(u, i)`` sits in the user's row (at
``i``) and in the item's column (at ``u``). The first layer of a rating
encoder is linear, so the code of the row *without* that entry is
``W x_u + b − x_ui W[:, i]``: each encoder is run once per distinct user (item)
of a batch and the removed entry's contribution is subtracted per entry
(:meth:`RatingEncoder.forward`), which equals zeroing ``x_ui`` in the input
exactly, at the cost of one gathered column of ``W`` per entry.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .autorec import make_activation

__all__ = ["NRPModule", "RatingEncoder", "make_mlp"]


def make_mlp(n_inputs: int, units: Sequence[int], activation: str, *, dropout: float = 0.0,
             last_activation: bool = True) -> nn.Sequential:
    """Fully connected layers ``n_inputs → units[0] → … → units[-1]``.

    Each layer but the last (all of them with ``last_activation``) is followed
    by ``activation`` and, when ``dropout > 0``, dropout.
    """
    layers: list[nn.Module] = []
    widths = [n_inputs, *units]
    for k, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if last_activation or k < len(units) - 1:
            layers.append(make_activation(activation))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class RatingEncoder(nn.Module):
    """Fully connected encoder of a rating vector that can leave one entry out.

    Parameters
    ----------
    n_inputs : int
        Length of the vector (items for a user row, users for an item column).
    units : sequence of int
        Widths of the layers, the last one the code's.
    activation : str
    dropout : float, default=0.0
    """

    def __init__(self, n_inputs: int, units: Sequence[int], activation: str,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.first = nn.Linear(n_inputs, units[0])
        self.first_activation = make_activation(activation)
        self.rest = make_mlp(units[0], units[1:], activation, dropout=dropout)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor, index: torch.Tensor | None = None,
                left_out: torch.Tensor | None = None,
                values: torch.Tensor | None = None) -> torch.Tensor:
        """Codes of the rows ``x[index]`` with entry ``left_out`` of each set to zero.

        Parameters
        ----------
        x : tensor of shape (n_distinct, n_inputs)
            Dense input vectors, each once.
        index : long tensor of shape (n,), default=None
            The vector of each output row (None: every row of ``x`` once).
        left_out : long tensor of shape (n,), default=None
            Position left out of each output row's vector (None: none).
        values : tensor of shape (n,), default=None
            The input's value at ``left_out`` (``x[index, left_out]``).
        """
        pre = self.first(x)
        if index is not None:
            pre = pre[index]
        if left_out is not None:
            pre = pre - values[:, None] * self.first.weight.T[left_out]
        return self.rest(self.dropout(self.first_activation(pre)))


class NRPModule(nn.Module):
    """User and item encoders over ratings and side information, and the rating predictor.

    Parameters
    ----------
    n_users, n_items : int
        Rows and columns of the rating matrix (lengths of item columns and
        user rows).
    user_sources, item_sources : sequence of int
        Width of each side-information source of the users (items); empty
        for none.
    encoder_units : sequence of int
        Layers of each rating encoder; the last is its code width.
    side_units : sequence of int
        Layers of each side-information encoder. With
        ``structure="autoencoder"`` its last width must equal
        ``encoder_units[-1]`` (codes are summed).
    predictor_units : sequence of int
        Hidden layers of the prediction MLP (a final 1-unit linear layer is
        added); ``structure="direct"`` only.
    id_components : int, default=0
        Width of the user and item ID embeddings (0: no ID source); with
        ``structure="autoencoder"`` any positive value adds embeddings of the
        code's width (codes are summed).
    activation : str, default="selu"
    dropout : float, default=0.0
        Dropout after each hidden layer of the encoders and the predictor.
    structure : {"direct", "autoencoder"}, default="direct"
    rating_offset : float, default=0.0
        Initial output bias (e.g. the mean training rating).
    """

    def __init__(
        self,
        n_users: int,
        n_items: int,
        user_sources: Sequence[int] = (),
        item_sources: Sequence[int] = (),
        encoder_units: Sequence[int] = (500, 200, 100),
        side_units: Sequence[int] = (100,),
        predictor_units: Sequence[int] = (500, 200, 100, 50),
        id_components: int = 0,
        activation: str = "selu",
        dropout: float = 0.0,
        structure: str = "direct",
        rating_offset: float = 0.0,
    ) -> None:
        super().__init__()
        self.structure = structure
        self.user_sources = [int(w) for w in user_sources]
        self.item_sources = [int(w) for w in item_sources]
        self.user_ratings = RatingEncoder(n_items, encoder_units, activation, dropout)
        self.item_ratings = RatingEncoder(n_users, encoder_units, activation, dropout)
        self.user_side = nn.ModuleList(
            make_mlp(w, side_units, activation, dropout=dropout) for w in self.user_sources)
        self.item_side = nn.ModuleList(
            make_mlp(w, side_units, activation, dropout=dropout) for w in self.item_sources)
        # the autoencoder sums the codes: its ID embeddings have the code's width
        id_width = id_components if structure == "direct" else encoder_units[-1]
        self.user_ids = nn.Embedding(n_users, id_width) if id_components else None
        self.item_ids = nn.Embedding(n_items, id_width) if id_components else None
        n_user_code = encoder_units[-1] + side_units[-1] * len(self.user_sources)
        n_item_code = encoder_units[-1] + side_units[-1] * len(self.item_sources)
        n_user_code += id_components if id_components else 0
        n_item_code += id_components if id_components else 0
        if structure == "direct":
            self.predictor = make_mlp(n_user_code + n_item_code, [*predictor_units, 1],
                                      activation, dropout=dropout, last_activation=False)
            with torch.no_grad():
                self.predictor[-1].bias.fill_(rating_offset)
        else:
            self.bias = nn.Parameter(torch.tensor(float(rating_offset)))
            decoder_units = list(reversed(encoder_units[:-1]))
            self.user_decoders = self._decoders(n_items, self.user_sources, encoder_units[-1],
                                                decoder_units, side_units, activation)
            self.item_decoders = self._decoders(n_users, self.item_sources, encoder_units[-1],
                                                decoder_units, side_units, activation)

    @staticmethod
    def _decoders(n_ratings, sources, n_code, decoder_units, side_units, activation):
        side_decoder_units = list(reversed(side_units[:-1]))
        return nn.ModuleList(
            [make_mlp(n_code, [*decoder_units, n_ratings], activation, last_activation=False)]
            + [make_mlp(n_code, [*side_decoder_units, w], activation, last_activation=False)
               for w in sources]
        )

    def _code(self, rating_code, side, side_encoders, sources, ids, id_embedding):
        parts = [rating_code]
        if sources:
            for block, encoder in zip(torch.split(side, sources, dim=1), side_encoders):
                parts.append(encoder(block))
        if id_embedding is not None and self.structure == "direct":
            parts.append(id_embedding(ids) if ids is not None
                         else id_embedding.weight.mean(0).expand(len(rating_code), -1))
        if self.structure == "autoencoder":
            code = torch.stack(parts).sum(0)
            if id_embedding is not None:
                code = code + (id_embedding(ids) if ids is not None
                               else id_embedding.weight.mean(0))
            return code
        return torch.cat(parts, dim=1)

    def user_code(self, rows, user_side=None, index=None, left_out=None, values=None, users=None):
        """Code ``z_u`` of user rows (``index``/``left_out``/``values``: see :class:`RatingEncoder`).

        ``user_side`` holds the distinct users' side information (gathered by
        ``index``); ``users`` their IDs (one per output row), None for users
        unknown to the ID embedding (they get the mean embedding).
        """
        code = self.user_ratings(rows, index, left_out, values)
        if user_side is not None and index is not None:
            user_side = user_side[index]
        return self._code(code, user_side, self.user_side, self.user_sources, users,
                          self.user_ids)

    def item_code(self, cols, item_side=None, index=None, left_out=None, values=None, items=None):
        """Code ``z_i`` of item columns; as :meth:`user_code`."""
        code = self.item_ratings(cols, index, left_out, values)
        if item_side is not None and index is not None:
            item_side = item_side[index]
        return self._code(code, item_side, self.item_side, self.item_sources, items,
                          self.item_ids)

    def rate(self, z_user: torch.Tensor, z_item: torch.Tensor) -> torch.Tensor:
        """Predicted ratings of paired codes (one rating per row)."""
        if self.structure == "direct":
            return self.predictor(torch.cat([z_user, z_item], dim=1)).squeeze(1)
        return (z_user * z_item).sum(1) + self.bias

    def forward(self, batch) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Ratings of a batch of entries, each predicted without its own rating in the inputs.

        ``batch`` has the dense distinct user rows and item columns
        (``user_rows``, ``item_cols``), their side information, and per
        entry the position of its user and item among them (``user_index``,
        ``item_index``), the user and item IDs (``users``, ``items``) and the
        input's value at the entry (``values``; 0 for an entry not in the
        input). In training mode with ``structure="autoencoder"`` it returns
        ``(ratings, reconstruction loss)``.
        """
        z_user = self.user_code(batch.user_rows, batch.user_side, batch.user_index,
                                batch.items, batch.values, batch.users)
        z_item = self.item_code(batch.item_cols, batch.item_side, batch.item_index,
                                batch.users, batch.values, batch.items)
        ratings = self.rate(z_user, z_item)
        if self.structure == "autoencoder" and self.training:
            return ratings, self.reconstruction_loss(batch)
        return ratings

    def reconstruction_loss(self, batch) -> torch.Tensor:
        """Mean squared reconstruction error of the batch's distinct rows, columns and side data.

        Ratings are scored on their observed entries only; side information
        on every entry. Codes are those of the full inputs.
        """
        loss = torch.zeros((), device=batch.user_rows.device)
        for inputs, side, sources, decoders, code in (
            (batch.user_rows, batch.user_side, self.user_sources, self.user_decoders,
             self.user_code(batch.user_rows, batch.user_side, users=batch.distinct_users)),
            (batch.item_cols, batch.item_side, self.item_sources, self.item_decoders,
             self.item_code(batch.item_cols, batch.item_side, items=batch.distinct_items)),
        ):
            observed = inputs != 0
            error = torch.where(observed, decoders[0](code) - inputs, 0.0).square()
            loss = loss + error.sum() / observed.sum().clamp(min=1)
            if sources:
                for block, decoder in zip(torch.split(side, sources, dim=1), decoders[1:]):
                    loss = loss + (decoder(code) - block).square().mean()
        return loss
