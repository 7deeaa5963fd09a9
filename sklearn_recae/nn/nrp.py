"""The NRP networks (Neural Representation for Prediction), no scikit-learn.

A user is represented from its rating row and its side information, an item
from its rating column and its side information (§3 of the paper).

- ``structure="direct"`` (§3.2, eq. 6): one encoder per source, the codes
  concatenated per entity (with an optional ID embedding), and a prediction
  MLP ``h([z_user, z_item])`` outputs the rating; no decoders.
- ``structure="autoencoder"`` (§3.1, eq. 2, NRP-aSDAE): each entity has an
  additional stacked denoising autoencoder (:class:`ASDAE`, Dong et al.,
  AAAI 2017): the (corrupted) side information enters *every* hidden layer of
  the encoder and the decoder, the decoder reconstructs the clean rating
  vector and side information, and the rating is ``z_userᵀ z_item`` plus a
  bias, ``z`` the middle layer.

**Noise.** In training only, :meth:`NRPModule.corrupt` applies masking noise
(each stored input value zeroed with probability ``mask_fraction``) and
additive Gaussian noise (``noise_std``, on the stored values) to the rating
rows, rating columns and side information of a batch. The codes that predict
the ratings and the reconstructions are computed from the corrupted inputs;
the reconstruction targets are the clean ones. In eval mode nothing is
corrupted.

**No leakage.** The rating of entry ``(u, i)`` sits in the user's row (at
``i``) and in the item's column (at ``u``). The first layer of a rating
encoder is linear, so the code of the row *without* that entry is
``W x_u + b − x_ui W[:, i]``: each encoder is run once per distinct user (item)
of a batch and the removed entry's contribution is subtracted per entry
(:func:`first_layer_without`), which equals zeroing ``x_ui`` in the
(corrupted) input exactly, at the cost of one gathered column of ``W`` per
entry.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .autorec import make_activation

__all__ = ["ASDAE", "NRPModule", "RatingEncoder", "first_layer_without", "make_mlp"]


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


def first_layer_without(first: nn.Linear, x: torch.Tensor, index: torch.Tensor | None = None,
                        left_out: torch.Tensor | None = None,
                        values: torch.Tensor | None = None) -> torch.Tensor:
    """``first(x)[index]`` with input position ``left_out`` of each output row set to zero.

    Parameters
    ----------
    first : torch.nn.Linear
        The first (linear) layer of an encoder.
    x : tensor of shape (n_distinct, n_inputs)
        Dense input vectors, each once.
    index : long tensor of shape (n,), default=None
        The vector of each output row (None: every row of ``x`` once).
    left_out : long tensor of shape (n,), default=None
        Position left out of each output row's vector (None: none).
    values : tensor of shape (n,), default=None
        The input's value at ``left_out``; None reads ``x[index, left_out]``.
    """
    pre = first(x)
    if index is not None:
        pre = pre[index]
    if left_out is not None:
        if values is None:
            values = x[index, left_out] if index is not None else x[
                torch.arange(len(x), device=x.device), left_out]
        pre = pre - values[:, None] * first.weight.T[left_out]
    return pre


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

        Arguments as for :func:`first_layer_without`.
        """
        pre = first_layer_without(self.first, x, index, left_out, values)
        return self.rest(self.dropout(self.first_activation(pre)))


class ASDAE(nn.Module):
    """Additional stacked denoising autoencoder of one entity (rating vector + side information).

    Every hidden layer ``l`` (encoder and decoder) reads the side information
    ``x`` besides the layer below: ``h_l = act(W_l h_{l-1} + V_l x + b_l)``,
    ``h_0`` the rating vector; the outputs are linear,
    ``ŝ = W_out h + b_s`` and ``x̂ = V_out h + b_x``. The code is the middle
    layer (the last of ``units``); the decoder mirrors the encoder.

    Parameters
    ----------
    n_inputs : int
        Length of the rating vector.
    n_side : int
        Width of the side information (0: none, a stacked denoising
        autoencoder of the ratings alone).
    units : sequence of int
        Encoder widths; the decoder's hidden layers are ``units[-2::-1]``.
    activation : str
    dropout : float, default=0.0
        Dropout after each hidden layer.
    """

    def __init__(self, n_inputs: int, n_side: int, units: Sequence[int], activation: str,
                 dropout: float = 0.0) -> None:
        super().__init__()
        widths = [*units, *reversed(units[:-1])]
        self.n_code_layers = len(units)
        self.rating_layers = nn.ModuleList(
            nn.Linear(n_in, n_out) for n_in, n_out in zip([n_inputs, *widths[:-1]], widths))
        self.side_layers = nn.ModuleList(
            nn.Linear(n_side, width, bias=False) for width in widths) if n_side else None
        self.rating_output = nn.Linear(widths[-1], n_inputs)
        self.side_output = nn.Linear(widths[-1], n_side) if n_side else None
        self.activation = make_activation(activation)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def _layers(self, h: torch.Tensor, side, index, layers: range, *, pre=None) -> torch.Tensor:
        """Hidden layers ``layers`` from ``h`` (``pre``: the first one's rating term, given)."""
        for k in layers:
            term = self.rating_layers[k](h) if pre is None else pre
            pre = None
            if side is not None:
                injected = self.side_layers[k](side)
                term = term + (injected if index is None else injected[index])
            h = self.dropout(self.activation(term))
        return h

    def encode(self, x: torch.Tensor, side: torch.Tensor | None = None,
               index: torch.Tensor | None = None, left_out: torch.Tensor | None = None,
               values: torch.Tensor | None = None) -> torch.Tensor:
        """Codes of ``x[index]`` with entry ``left_out`` of each set to zero.

        ``side`` holds the side information of the rows of ``x`` (gathered by
        ``index`` as they are); the other arguments as for
        :func:`first_layer_without`.
        """
        pre = first_layer_without(self.rating_layers[0], x, index, left_out, values)
        return self._layers(None, side, index, range(self.n_code_layers), pre=pre)

    def forward(self, x: torch.Tensor, side: torch.Tensor | None = None):
        """Reconstructions ``(ŝ, x̂)`` of the rows of ``x`` (``x̂`` None without side data)."""
        h = self._layers(self.encode(x, side), side, None,
                         range(self.n_code_layers, len(self.rating_layers)))
        return self.rating_output(h), (None if side is None else self.side_output(h))


class NRPModule(nn.Module):
    """User and item encoders over ratings and side information, and the rating predictor.

    Parameters
    ----------
    n_users, n_items : int
        Rows and columns of the rating matrix (lengths of item columns and
        user rows).
    user_sources, item_sources : sequence of int
        Width of each side-information source of the users (items); empty
        for none. The autoencoder structure reads the sources of an entity
        as one side-information vector.
    encoder_units : sequence of int
        Layers of each rating encoder; the last is its code width.
    side_units : sequence of int
        Layers of each side-information encoder (``structure="direct"``).
    predictor_units : sequence of int
        Hidden layers of the prediction MLP (a final 1-unit linear layer is
        added); ``structure="direct"`` only.
    id_components : int, default=0
        Width of the user and item ID embeddings (0: no ID source); with
        ``structure="autoencoder"`` any positive value adds embeddings of the
        code's width to the codes.
    activation : str, default="selu"
    dropout : float, default=0.0
        Dropout after each hidden layer of the encoders and the predictor.
    structure : {"direct", "autoencoder"}, default="direct"
    rating_offset : float, default=0.0
        Initial output bias (e.g. the mean training rating).
    mask_fraction, noise_std : float, default=0.0
        Masking and additive Gaussian noise on the inputs, in training only
        (see :meth:`corrupt`).
    reconstruction : {"mean", "sum"}, default="mean"
        ``"sum"``: the paper's aSDAE loss, per row the squared error summed over
        all its entries (zeros included), each row counted once an epoch
        (weighted per entry by ``1 / its training entries``) against the
        per-entry squared rating error. ``"mean"``: mean squared errors of
        the batch's observed ratings and of its side information.
    reconstruction_weight, side_weight : float, default=1.0
        Weights of the rating and side-information reconstruction terms
        (the aSDAE's ``α`` and ``1 − α``) against the rating error.
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
        mask_fraction: float = 0.0,
        noise_std: float = 0.0,
        reconstruction: str = "mean",
        reconstruction_weight: float = 1.0,
        side_weight: float = 1.0,
    ) -> None:
        super().__init__()
        self.structure = structure
        self.mask_fraction = float(mask_fraction)
        self.noise_std = float(noise_std)
        self.reconstruction = reconstruction
        self.reconstruction_weight = float(reconstruction_weight)
        self.side_weight = float(side_weight)
        self.user_sources = [int(w) for w in user_sources]
        self.item_sources = [int(w) for w in item_sources]
        if structure == "autoencoder":
            self.user_ratings = ASDAE(n_items, sum(self.user_sources), encoder_units, activation,
                                      dropout)
            self.item_ratings = ASDAE(n_users, sum(self.item_sources), encoder_units, activation,
                                      dropout)
        else:
            self.user_ratings = RatingEncoder(n_items, encoder_units, activation, dropout)
            self.item_ratings = RatingEncoder(n_users, encoder_units, activation, dropout)
            self.user_side = nn.ModuleList(
                make_mlp(w, side_units, activation, dropout=dropout) for w in self.user_sources)
            self.item_side = nn.ModuleList(
                make_mlp(w, side_units, activation, dropout=dropout) for w in self.item_sources)
        id_width = id_components if structure == "direct" else encoder_units[-1]
        self.user_ids = nn.Embedding(n_users, id_width) if id_components else None
        self.item_ids = nn.Embedding(n_items, id_width) if id_components else None
        if structure == "autoencoder":
            self.bias = nn.Parameter(torch.tensor(float(rating_offset)))
            return
        n_user_code = encoder_units[-1] + side_units[-1] * len(self.user_sources) + id_components
        n_item_code = encoder_units[-1] + side_units[-1] * len(self.item_sources) + id_components
        self.predictor = make_mlp(n_user_code + n_item_code, [*predictor_units, 1],
                                  activation, dropout=dropout, last_activation=False)
        with torch.no_grad():
            self.predictor[-1].bias.fill_(rating_offset)

    def _code(self, ratings, rows, side, index, left_out, values, ids, id_embedding,
              side_encoders, sources):
        if id_embedding is None:
            embedded = None
        elif ids is not None:
            embedded = id_embedding(ids)
        else:  # rows unknown to the embedding get the mean embedding
            embedded = id_embedding.weight.mean(0).expand(len(rows) if index is None
                                                          else len(index), -1)
        if self.structure == "autoencoder":
            code = ratings.encode(rows, side, index, left_out, values)
            return code if embedded is None else code + embedded
        parts = [ratings(rows, index, left_out, values)]
        if sources:
            side = side if index is None else side[index]
            parts += [encoder(block) for block, encoder in
                      zip(torch.split(side, sources, dim=1), side_encoders)]
        if embedded is not None:
            parts.append(embedded)
        return torch.cat(parts, dim=1)

    def user_code(self, rows, user_side=None, index=None, left_out=None, values=None, users=None):
        """Code ``z_u`` of user rows (``index``/``left_out``/``values``: see :class:`RatingEncoder`).

        ``user_side`` holds the distinct users' side information (gathered by
        ``index``); ``users`` their IDs (one per output row), None for users
        unknown to the ID embedding (they get the mean embedding).
        """
        return self._code(self.user_ratings, rows, user_side, index, left_out, values, users,
                          self.user_ids, getattr(self, "user_side", None), self.user_sources)

    def item_code(self, cols, item_side=None, index=None, left_out=None, values=None, items=None):
        """Code ``z_i`` of item columns; as :meth:`user_code`."""
        return self._code(self.item_ratings, cols, item_side, index, left_out, values, items,
                          self.item_ids, getattr(self, "item_side", None), self.item_sources)

    def rate(self, z_user: torch.Tensor, z_item: torch.Tensor) -> torch.Tensor:
        """Predicted ratings of paired codes (one rating per row)."""
        if self.structure == "direct":
            return self.predictor(torch.cat([z_user, z_item], dim=1)).squeeze(1)
        return (z_user * z_item).sum(1) + self.bias

    def corrupt(self, x: torch.Tensor | None) -> torch.Tensor | None:
        """``x`` with masking and additive Gaussian noise on its stored values (training only)."""
        if x is None or not self.training or not (self.mask_fraction or self.noise_std):
            return x
        stored = x != 0
        if self.mask_fraction:
            stored = stored & (torch.rand_like(x) >= self.mask_fraction)
            x = torch.where(stored, x, 0.0)
        if self.noise_std:
            x = x + self.noise_std * torch.randn_like(x) * stored
        return x

    def forward(self, batch) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Ratings of a batch of entries, each predicted without its own rating in the inputs.

        ``batch`` has the dense distinct user rows and item columns
        (``user_rows``, ``item_cols``), their side information, and per
        entry the position of its user and item among them (``user_index``,
        ``item_index``), the user and item IDs (``users``, ``items``) and the
        input's value at the entry (``values``; 0 for an entry not in the
        input). In training mode the inputs are corrupted (:meth:`corrupt`)
        and, with ``structure="autoencoder"``, it returns ``(ratings,
        reconstruction loss)``.
        """
        noisy = self.training and bool(self.mask_fraction or self.noise_std)
        inputs = [self.corrupt(getattr(batch, name))
                  for name in ("user_rows", "user_side", "item_cols", "item_side")]
        # the left-out value is read from the corrupted input when there is noise
        values = None if noisy else batch.values
        z_user = self.user_code(inputs[0], inputs[1], batch.user_index, batch.items, values,
                                batch.users)
        z_item = self.item_code(inputs[2], inputs[3], batch.item_index, batch.users, values,
                                batch.items)
        ratings = self.rate(z_user, z_item)
        if self.structure == "autoencoder" and self.training:
            return ratings, self.reconstruction_loss(batch, inputs)
        return ratings

    def reconstruction_loss(self, batch, inputs=None) -> torch.Tensor:
        """Weighted reconstruction error of the batch's distinct rows, columns and side data.

        ``inputs``: the corrupted ``(user_rows, user_side, item_cols,
        item_side)`` (default: the clean ones); the targets are the clean
        ones. See ``reconstruction`` for the two normalisations.
        """
        if inputs is None:
            inputs = [batch.user_rows, batch.user_side, batch.item_cols, batch.item_side]
        loss = torch.zeros((), device=batch.user_rows.device)
        for autoencoder, noisy, noisy_side, clean, clean_side, index in (
            (self.user_ratings, inputs[0], inputs[1], batch.user_rows, batch.user_side,
             batch.user_index),
            (self.item_ratings, inputs[2], inputs[3], batch.item_cols, batch.item_side,
             batch.item_index),
        ):
            ratings, side = autoencoder(noisy, noisy_side)
            observed = clean != 0
            if self.reconstruction == "sum":
                per_row = self.reconstruction_weight * (ratings - clean).square().sum(1)
                if side is not None:
                    per_row = per_row + self.side_weight * (side - clean_side).square().sum(1)
                # each row once an epoch: its share of the batch's entries over its entries
                share = torch.bincount(index, minlength=len(clean)) / observed.sum(1).clamp(min=1)
                loss = loss + (share * per_row).sum() / len(index)
                continue
            error = torch.where(observed, ratings - clean, 0.0).square()
            loss = loss + self.reconstruction_weight * error.sum() / observed.sum().clamp(min=1)
            if side is not None:
                loss = loss + self.side_weight * (side - clean_side).square().mean()
        return loss
