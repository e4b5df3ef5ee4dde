"""Sequence to sequence: an encoder reads the source, a decoder writes the target one token
at a time (Sutskever, Vinyals & Le 2014; Cho et al. 2014), optionally with attention
(Bahdanau, Cho & Bengio 2015).

    Encoder      embedding -> LSTM (bidirectional by default) over the source
                 h_1..h_S (the memory) and a start state for the decoder
    Decoder      one step: embedding of y_{t-1} -> LSTMCell -> linear -> logits of y_t;
                 optionally with one fixed context c (the mean h_j) fed at every step
    AttnDecoder  one step with attention: context c_t = attend(s_{t-1}, h_1..h_S);
                 LSTMCell on [emb(y_{t-1}); c_t] -> s_t; linear on [s_t; c_t; emb] -> logits
    Seq2Seq      the decoder loop (teacher forcing with a ratio) and the `step` function that
                 `rnn_lib.decoding` (decode: greedy or beam search) drives.

The decoder state is a dict whose tensors all have the batch on dim 0 (h, c and, with
attention, the memory, its mask and its projection U h), as `rnn_lib.decoding` expects.

where N = batch size, S = source length, T = target length, E = embedding size,
H = hidden size, D = directions (2 when bidirectional), V = target vocabulary size.
"""

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnn_lib.attention import AdditiveAttention
from rnn_lib.batching import lengths_to_mask
from rnn_lib.decoding import decode
from rnn_lib.training import in_eval_mode


class Encoded(NamedTuple):
    """What the encoder hands the decoder."""

    memory: torch.Tensor  # (N, S, D*H): h_j for every source position
    mask: torch.Tensor  # (N, S): True at real (non-padding) positions
    h: torch.Tensor  # (N, H): the decoder's first hidden state
    c: torch.Tensor  # (N, H): the decoder's first cell state


class Encoder(nn.Module):
    """Embedding + LSTM over a padded batch of source sentences.

    Args:
        vocab_size: source vocabulary size.
        embedding_dim: E. hidden_size: H (per direction).
        bidirectional: read the sentence both ways, so h_j knows its left and right context.
        pad_id: id of <pad> (its embedding stays zero).

    Inputs: src of shape (N, S), lengths of shape (N,) (on any device).
    Outputs: an `Encoded`: memory (N, S, D*H), mask (N, S), and the decoder start state
    h, c of shape (N, H) = tanh(Linear(final states of both directions)).
    """

    def __init__(self, vocab_size: int, embedding_dim: int, hidden_size: int,
                 bidirectional: bool = True, pad_id: int = 0):
        super().__init__()
        self.hidden_size, self.bidirectional = hidden_size, bidirectional
        D = 2 if bidirectional else 1
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=pad_id)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, batch_first=True,
                            bidirectional=bidirectional)
        self.bridge_h = nn.Linear(D * hidden_size, hidden_size)
        self.bridge_c = nn.Linear(D * hidden_size, hidden_size)

    @property
    def output_size(self) -> int:
        return self.hidden_size * (2 if self.bidirectional else 1)

    def forward(self, src: torch.Tensor, lengths: torch.Tensor) -> Encoded:
        if src.dim() != 2 or lengths.shape != (src.shape[0],):
            raise ValueError(f"expected src of shape (N, S) and lengths of shape (N,), "
                             f"got {tuple(src.shape)} and {tuple(lengths.shape)}")
        N, S = src.shape
        x = self.embedding(src)  # (N, S, E)
        # packing: the LSTM stops at each sentence's end, so padding never enters h_S
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, (h_n, c_n) = self.lstm(packed)  # h_n, c_n: (D, N, H)
        memory, _ = pad_packed_sequence(out, batch_first=True, total_length=S)  # (N, S, D*H)
        h_last = h_n.transpose(0, 1).reshape(N, -1)  # (N, D*H): forward end, backward start
        c_last = c_n.transpose(0, 1).reshape(N, -1)  # (N, D*H)
        mask = lengths_to_mask(lengths.to(src.device), S)  # (N, S)
        return Encoded(memory, mask, torch.tanh(self.bridge_h(h_last)),
                       torch.tanh(self.bridge_c(c_last)))


def mean_memory(memory: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The mean of the encoder states over the real positions of each sentence.

    Inputs: memory of shape (N, S, K), mask (BoolTensor) of shape (N, S).
    Returns a tensor of shape (N, K): sum_j mask_j h_j / sum_j mask_j.
    """
    weights = mask.to(memory.dtype)  # (N, S)
    return (weights.unsqueeze(-1) * memory).sum(1) / weights.sum(1, keepdim=True)  # (N, K)


class Decoder(nn.Module):
    """One decoder step without attention: everything about the source must fit in a fixed
    vector, the start state (h, c) and, with `context_size`, one fixed context c.

    Without context (Sutskever et al. 2014) the source enters only through s_0:
        s_t = LSTMCell(emb(y_{t-1}), s_{t-1}),  logits_t = Linear(s_t)
    With context (Cho et al. 2014) the same c, the mean of the encoder states, is fed at
    every step, as the attention decoder feeds its c_t, but it does not change with t:
        s_t = LSTMCell([emb(y_{t-1}); c], s_{t-1}),  logits_t = Linear([s_t; c; emb(y_{t-1})])

    Args: vocab_size (V), embedding_dim (E), hidden_size (H), pad_id, context_size (K, the
        encoder's memory size D*H; 0 for no context).

    Inputs: y_prev of shape (N,) (the previous target token), state (a dict with h, c and,
        with context, "context" of shape (N, K)).
    Outputs: logits of shape (N, V), the new state, and None (no attention weights).
    """

    def __init__(self, vocab_size: int, embedding_dim: int, hidden_size: int, pad_id: int = 0,
                 context_size: int = 0):
        super().__init__()
        self.context_size = context_size
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=pad_id)
        self.cell = nn.LSTMCell(embedding_dim + context_size, hidden_size)
        extra = context_size + embedding_dim if context_size else 0
        self.out = nn.Linear(hidden_size + extra, vocab_size)

    def init_state(self, enc: Encoded) -> dict:
        if not self.context_size:
            return {"h": enc.h, "c": enc.c}
        if enc.memory.shape[-1] != self.context_size:
            raise ValueError(f"expected memory of size {self.context_size}, "
                             f"got {enc.memory.shape[-1]}")
        return {"h": enc.h, "c": enc.c, "context": mean_memory(enc.memory, enc.mask)}

    def forward(self, y_prev: torch.Tensor, state: dict):
        emb = self.embedding(y_prev)  # (N, E)
        if not self.context_size:
            h, c = self.cell(emb, (state["h"], state["c"]))  # (N, H) each
            return self.out(h), {"h": h, "c": c}, None  # logits (N, V)
        ctx = state["context"]  # (N, K), the same at every step
        h, c = self.cell(torch.cat([emb, ctx], dim=-1), (state["h"], state["c"]))  # (N, H)
        logits = self.out(torch.cat([h, ctx, emb], dim=-1))  # (N, V)
        return logits, {**state, "h": h, "c": c}, None


class AttnDecoder(nn.Module):
    """One decoder step with Bahdanau attention.

        c_t = sum_j alpha_tj h_j,   alpha_t = masked softmax_j(v^T tanh(W s_{t-1} + U h_j))
        s_t = LSTMCell([emb(y_{t-1}); c_t], s_{t-1})
        logits_t = Linear([s_t; c_t; emb(y_{t-1})])

    Args: vocab_size (V), embedding_dim (E), hidden_size (H), memory_size (D*H of the encoder),
        attn_size (A, default H), pad_id.

    Inputs: y_prev of shape (N,), state (a dict with h, c, memory, mask, proj_keys).
    Outputs: logits of shape (N, V), the new state, and the attention weights of shape (N, S).
    """

    def __init__(self, vocab_size: int, embedding_dim: int, hidden_size: int, memory_size: int,
                 attn_size: int | None = None, pad_id: int = 0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=pad_id)
        self.attention = AdditiveAttention(hidden_size, memory_size, attn_size)
        self.cell = nn.LSTMCell(embedding_dim + memory_size, hidden_size)
        self.out = nn.Linear(hidden_size + memory_size + embedding_dim, vocab_size)

    def init_state(self, enc: Encoded) -> dict:
        proj_keys = self.attention.project_keys(enc.memory)  # (N, S, A), once per sentence
        return {"h": enc.h, "c": enc.c, "memory": enc.memory, "mask": enc.mask,
                "proj_keys": proj_keys}

    def forward(self, y_prev: torch.Tensor, state: dict):
        emb = self.embedding(y_prev)  # (N, E)
        context, weights = self.attention(state["h"], state["memory"], state["mask"],
                                          state["proj_keys"])  # (N, D*H), (N, S)
        h, c = self.cell(torch.cat([emb, context], dim=-1), (state["h"], state["c"]))  # (N, H)
        logits = self.out(torch.cat([h, context, emb], dim=-1))  # (N, V)
        return logits, {**state, "h": h, "c": c}, weights


class Seq2SeqOutput(NamedTuple):
    logits: torch.Tensor  # (N, T, V)
    attention: torch.Tensor | None  # (N, T, S) for an AttnDecoder, None for a plain Decoder


class Seq2Seq(nn.Module):
    """An encoder and a decoder, with the loop that runs the decoder over a target.

    Inputs: src (N, S), src_lengths (N,), tgt_in (N, T) (<bos> y_1 .. y_{T-1}),
        teacher_forcing: the probability, per sentence and step, of feeding the true previous
        token; otherwise the model's own best guess is fed (1.0: always the truth, 0.0: never).
    Outputs: a `Seq2SeqOutput` (logits (N, T, V), attention (N, T, S) or None).
    """

    def __init__(self, encoder: Encoder, decoder: Decoder | AttnDecoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def start(self, src: torch.Tensor, src_lengths: torch.Tensor) -> dict:
        """Encode the source and return the decoder's first state."""
        return self.decoder.init_state(self.encoder(src, src_lengths))

    def step(self, tokens: torch.Tensor, state: dict):
        """One decoding step for `rnn_lib.decoding`: (N,) tokens -> (N, V) log-probs, state."""
        logits, state, _ = self.decoder(tokens, state)
        return F.log_softmax(logits, dim=-1), state

    def forward(self, src, src_lengths, tgt_in, teacher_forcing: float = 1.0) -> Seq2SeqOutput:
        if not 0.0 <= teacher_forcing <= 1.0:
            raise ValueError(f"expected teacher_forcing in [0, 1], got {teacher_forcing}")
        N, T = tgt_in.shape
        state = self.start(src, src_lengths)
        y = tgt_in[:, 0]  # (N,) <bos>
        logits, attention = [], []
        for t in range(T):
            step_logits, state, weights = self.decoder(y, state)  # (N, V)
            logits.append(step_logits)
            attention.append(weights)
            if t + 1 < T:
                y = tgt_in[:, t + 1]
                if teacher_forcing < 1.0:  # feed the model's own guess where the coin says so
                    truth = torch.rand(N, device=y.device) < teacher_forcing
                    y = torch.where(truth, y, step_logits.argmax(-1).detach())
        attn = None if attention[0] is None else torch.stack(attention, dim=1)  # (N, T, S)
        return Seq2SeqOutput(torch.stack(logits, dim=1), attn)  # (N, T, V)


def make_model(src_vocab_size: int, tgt_vocab_size: int, attention: bool, embedding_dim: int = 64,
               hidden_size: int = 128, bidirectional: bool = True, pad_id: int = 0,
               context: bool = False) -> Seq2Seq:
    """A Seq2Seq with an `AttnDecoder` (attention=True) or a plain `Decoder`, same encoder.
    `context` (plain decoder only) feeds the mean encoder state at every step (Cho et al.)."""
    enc = Encoder(src_vocab_size, embedding_dim, hidden_size, bidirectional, pad_id)
    if attention:
        if context:
            raise ValueError("expected context=False with attention (its context is c_t)")
        dec = AttnDecoder(tgt_vocab_size, embedding_dim, hidden_size, enc.output_size,
                          pad_id=pad_id)
    else:
        dec = Decoder(tgt_vocab_size, embedding_dim, hidden_size, pad_id,
                      context_size=enc.output_size if context else 0)
    return Seq2Seq(enc, dec)


def seq2seq_loss(pad_id: int, teacher_forcing: float = 1.0):
    """A `loss_fn(model, batch)` for `rnn_lib.training.train`: mean cross-entropy per target
    token, padding excluded. batch = (src, src_lengths, tgt_in, tgt_out)."""
    def loss_fn(model: Seq2Seq, batch) -> torch.Tensor:
        src, src_lengths, tgt_in, tgt_out = batch
        logits = model(src, src_lengths, tgt_in, teacher_forcing).logits  # (N, T, V)
        return F.cross_entropy(logits.flatten(0, 1), tgt_out.flatten(), ignore_index=pad_id)
    return loss_fn


@torch.no_grad()
@in_eval_mode
def translate(model: Seq2Seq, src: torch.Tensor, src_lengths: torch.Tensor, bos_id: int,
              eos_id: int, beam_size: int = 1, max_len: int | None = None,
              length_penalty: float = 1.0) -> list[list[int]]:
    """Translate a batch: greedy decoding (beam_size=1) or beam search, via rnn_lib.decoding.

    Returns N lists of target token ids (no <bos>, no <eos>). max_len defaults to
    2 * longest source + 5; length_penalty is beam search's (1: rank by log-prob per word).
    """
    max_len = max_len or 2 * int(src_lengths.max()) + 5
    return decode(model.step, model.start(src, src_lengths), bos_id, eos_id, max_len,
                  beam_size=beam_size, length_penalty=length_penalty)
