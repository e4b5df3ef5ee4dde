"""The recurrent encoder under every read-out: (embedding) -> RNN/LSTM/GRU, stacked, uni- or
bidirectional.

    features (N, T, H_in)                       -> RNN/LSTM/GRU -> outputs (N, T, D*H), h_n
    token ids (N, T) -> embedding (N, T, E)      -> RNN/LSTM/GRU -> outputs (N, T, D*H), h_n

A read-out (`ReadOut`) puts a linear layer on it: a many-to-one classifier
(`rnn_lib.classifiers.SequenceClassifier`) reads the last layer's final state(s), a
many-to-many tagger (`rnn_lib.taggers.SequenceTagger`) reads the output at every step.

When `lengths` are given the recurrent layer runs on a packed batch, so padding never reaches
it: the final state is each sequence's own, and the backward direction starts at each
sequence's real end.

where N = batch size, T = longest length in the batch, H_in = input size, E = embedding size,
H = hidden size, D = 2 if bidirectional else 1, V = vocabulary size.
"""

import torch
from torch import nn

from rnn_lib.batching import pack_padded, unpack

CELLS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}  # cell= -> class in torch.nn, rnn_lib.layers


def recurrent_layer(cell: str, input_size: int, hidden_size: int, num_layers: int = 1, *,
                    bidirectional: bool = False, dropout: float = 0.0, backend=nn) -> nn.Module:
    """The batch-first RNN (tanh), LSTM or GRU named by `cell`, from `backend`.

    Args:
        cell: "rnn", "lstm" or "gru" (the keys of CELLS).
        input_size, hidden_size, num_layers, bidirectional: as in torch.nn.LSTM.
        dropout: between layers (ignored for one layer, where torch.nn would warn).
        backend: where the classes come from: torch.nn (fast, the default) or rnn_lib.layers
            (the from-scratch layers, same parameters and outputs).
    """
    if cell not in CELLS:
        raise ValueError(f"expected cell to be one of {sorted(CELLS)}, got {cell!r}")
    return getattr(backend, CELLS[cell])(
        input_size, hidden_size, num_layers, batch_first=True, bidirectional=bidirectional,
        dropout=dropout if num_layers > 1 else 0.0)


def last_layer_state(h_n: torch.Tensor, bidirectional: bool) -> torch.Tensor:
    """The last layer's final hidden state(s), directions concatenated.

    h_n of shape (num_layers * D, N, H) is ordered layer by layer, forward before backward, so
    the last layer's forward state is h_n[-2] and its backward state h_n[-1] when D = 2.
    Returns: of shape (N, D*H).
    """
    return torch.cat([h_n[-2], h_n[-1]], dim=-1) if bidirectional else h_n[-1]


class RecurrentEncoder(nn.Module):
    """An optional embedding, then a recurrent layer: the common body of every read-out.

    Args:
        input_size: H_in, features per step; with embedding_dim, V, the vocabulary size.
        hidden_size: H per direction.
        embedding_dim: None (default): the inputs are features (N, T, H_in); else E: the
            inputs are token ids (N, T), looked up in an E-wide table (row `pad_id` stays zero).
        num_layers, bidirectional, dropout: as in torch.nn.LSTM (dropout between layers).
        cell: "rnn" (tanh), "lstm" or "gru".
        pad_id: the padding token id (with embedding_dim).
        backend: torch.nn or rnn_lib.layers, as for `recurrent_layer`.

    Inputs: x, lengths=None
        x: token ids of shape (N, T), int64, with embedding_dim; else of shape (N, T, H_in).
        lengths: of shape (N,); None runs the padded batch as it is (padding included).
    Outputs: outputs, h_n
        outputs: of shape (N, T, D*H), zeros after each sequence's end when lengths are given.
        h_n: of shape (num_layers * D, N, H), the final hidden states (for an LSTM, not the
            cell states).
    """

    def __init__(self, input_size: int, hidden_size: int, *, embedding_dim: int | None = None,
                 num_layers: int = 1, bidirectional: bool = False, cell: str = "lstm",
                 dropout: float = 0.0, pad_id: int = 0, backend=nn):
        super().__init__()
        self.cell, self.bidirectional = cell, bidirectional
        self.embed = None
        if embedding_dim is not None:
            self.embed = nn.Embedding(input_size, embedding_dim, padding_idx=pad_id)
        self.rnn = recurrent_layer(cell, input_size if embedding_dim is None else embedding_dim,
                                   hidden_size, num_layers, bidirectional=bidirectional,
                                   dropout=dropout, backend=backend)
        self.out_features = hidden_size * (2 if bidirectional else 1)  # D*H

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None):
        if self.embed is not None:
            if x.dim() != 2:
                raise ValueError(f"expected tokens of shape (N, T), got {tuple(x.shape)}")
            x = self.embed(x)  # (N, T, E)
        elif x.dim() != 3:
            raise ValueError(f"expected x of shape (N, T, H_in), got {tuple(x.shape)}")
        T = x.shape[1]
        if lengths is not None:
            x = pack_padded(x, lengths)  # PackedSequence: the padding is dropped
        out, h_n = self.rnn(x)
        if isinstance(h_n, tuple):  # LSTM: (h_n, c_n)
            h_n = h_n[0]
        if lengths is not None:
            out, _ = unpack(out, total_length=T)  # (N, T, D*H)
        return out, h_n  # (N, T, D*H), (num_layers * D, N, H)

    def extra_repr(self) -> str:
        return f"cell={self.cell!r}"


class ReadOut(nn.Module):
    """A `RecurrentEncoder`, dropout and a linear read-out of C outputs; a subclass's forward
    picks what the read-out reads (the final state, or every step).

    Args:
        input_size: H_in, or V with embedding_dim, as for `RecurrentEncoder`.
        num_outputs: C, the number of classes (of tags, for a tagger).
        hidden_size: H per direction (default 64).
        embedding_dim, num_layers, bidirectional, cell, dropout, pad_id, backend: as for
            `RecurrentEncoder`; dropout also comes before the read-out.
    """

    def __init__(self, input_size: int, num_outputs: int, *, hidden_size: int = 64,
                 embedding_dim: int | None = None, num_layers: int = 1,
                 bidirectional: bool = False, cell: str = "lstm", dropout: float = 0.0,
                 pad_id: int = 0, backend=nn):
        super().__init__()
        self.encoder = RecurrentEncoder(
            input_size, hidden_size, embedding_dim=embedding_dim, num_layers=num_layers,
            bidirectional=bidirectional, cell=cell, dropout=dropout, pad_id=pad_id,
            backend=backend)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(self.encoder.out_features, num_outputs)
