"""Decoding: turn a model's next-token distributions into a sequence (greedy, beam search).

Every decoder here drives a model through one function, the *step*:

    step(tokens, state) -> (log_probs, new_state)

    tokens     LongTensor of shape (N,): the previous token of each sequence (bos at first)
    state      the model's recurrent state (see "state convention" below)
    log_probs  of shape (N, V): log-probabilities of the next token (log_softmax of the logits)

State convention: `state` is a tensor, or a tuple/list/dict nesting tensors (None allowed),
and EVERY tensor in it has the batch on dim 0. An LSTMCell's `(h, c)` of shape (N, H) fits as
it is; a stacked `torch.nn.LSTM` state of shape (layers, N, H) has the batch on dim 1, so
transpose it inside your step (`h.transpose(0, 1)`), or keep it batch-first in the state.
Encoder outputs (N, S, H) and masks (N, S) used by attention fit as they are. Beam search
relies on this to copy and reorder states with `index_state(state, index)`.

- `decode`         the entry point: the best sequence of each input as N lists of token ids,
                   the same type whatever the beam size (1: greedy, K > 1: beam search).
- `greedy_decode`  picks the most likely token at each step, for a batch of N sequences; it
                   returns the padded (N, T) tensor and the lengths (what `decode` lists).
- `beam_search`    keeps the `beam_size` best partial sequences per input, batched.
- `sequence_log_prob` scores given sequences under the model (teacher forcing), so a notebook
  can check that beam search really finds more probable sequences than greedy decoding.

Sampling (softmax(logits / temperature), top-k) is `rnn_lib.sampling`, lecture 07's.

where N = batch size, K = beam size, V = vocabulary size, T = generated length.
"""

from collections.abc import Callable
from typing import Any

import torch

Step = Callable[[torch.Tensor, Any], tuple[torch.Tensor, Any]]


def map_state(fn: Callable[[torch.Tensor], torch.Tensor], state: Any) -> Any:
    """Apply `fn` to every tensor in a nested tuple/list/dict state; other leaves are kept."""
    if isinstance(state, torch.Tensor):
        return fn(state)
    if isinstance(state, dict):
        return {k: map_state(fn, v) for k, v in state.items()}
    if isinstance(state, tuple | list):
        return type(state)(map_state(fn, s) for s in state)
    return state


def index_state(state: Any, index: torch.Tensor) -> Any:
    """Select (and repeat) batch rows of every tensor in `state`: tensor[index] on dim 0."""
    return map_state(lambda t: t.index_select(0, index.to(t.device)), state)


def state_batch_size(state: Any) -> int:
    """The batch size shared by every tensor in `state` (dim 0); ValueError if they disagree."""
    sizes = set()
    map_state(lambda t: sizes.add(t.shape[0] if t.dim() > 0 else -1), state)
    if len(sizes) != 1 or -1 in sizes:
        raise ValueError(
            "expected every tensor in state to have the batch on dim 0 with one common size, "
            f"got sizes {sorted(sizes) or 'none (no tensor in state)'}; pass batch_size= "
            "when the state holds no tensor"
        )
    return sizes.pop()


def _check_log_probs(log_probs: torch.Tensor, rows: int) -> None:
    if log_probs.dim() != 2 or log_probs.shape[0] != rows:
        raise ValueError(
            f"expected step to return log_probs of shape ({rows}, V), "
            f"got {tuple(log_probs.shape)}"
        )


def _device_of(state: Any, default: torch.Tensor) -> torch.device:
    found = []
    map_state(lambda t: found.append(t.device), state)
    return found[0] if found else default.device


@torch.no_grad()
def decode(step: Step, state: Any, bos_id: int, eos_id: int, max_len: int, *,
           beam_size: int = 1, length_penalty: float = 1.0,
           batch_size: int | None = None) -> list[list[int]]:
    """Decode N sequences at once: greedy (beam_size=1) or beam search, one return type.

    Callers (captioning, translation) write one call and choose the search with beam_size;
    with K = 1 beam search and greedy decoding are the same algorithm, and this runs the
    plain greedy loop (`greedy_decode`) for it.

    Inputs:
    - step, state, bos_id, eos_id, max_len, batch_size: as in `greedy_decode`.
    - beam_size: K >= 1, the number of hypotheses kept per input (1: greedy decoding).
    - length_penalty: beam search's alpha >= 0 (see `beam_search`); with K = 1 there is one
      hypothesis per input, so it changes nothing.

    Returns a list of N lists of token ids: the best hypothesis of each input, without bos and
    eos (a hypothesis cut at max_len has max_len ids).
    """
    if beam_size < 1:
        raise ValueError(f"expected beam_size >= 1, got {beam_size}")
    if length_penalty < 0:
        raise ValueError(f"expected length_penalty >= 0, got {length_penalty}")
    if beam_size > 1:
        return beam_search(step, state, bos_id, eos_id, beam_size, max_len, length_penalty,
                           batch_size)
    tokens, lengths = greedy_decode(step, state, bos_id, eos_id, max_len, batch_size)
    return [tokens[n, : lengths[n]].tolist() for n in range(tokens.shape[0])]  # (N,) lists


@torch.no_grad()
def greedy_decode(step: Step, state: Any, bos_id: int, eos_id: int, max_len: int,
                  batch_size: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode N sequences at once, taking the most likely token at every step.

    The tensor form of `decode(..., beam_size=1)`: the same tokens, padded with eos into one
    (N, T) tensor, for code that works on the whole batch at once (lab 3 checks its greedy
    translation against it).

    Inputs:
    - step: step(tokens, state) -> (log_probs, state), see the module docstring.
    - state: the initial state, every tensor with the batch on dim 0.
    - bos_id, eos_id: ids of the start and end tokens; bos is fed first, eos stops a sequence.
    - max_len: the most tokens generated per sequence (eos included).
    - batch_size: N, only needed when `state` holds no tensor.

    Returns a tuple of:
    - tokens: LongTensor of shape (N, T), T <= max_len, on the CPU, without bos; a sequence's
      eos and every position after it hold eos_id. `tokens[n, :lengths[n]]` is the answer.
    - lengths: LongTensor of shape (N,): the number of tokens before eos (T if none).
    """
    if max_len < 1:
        raise ValueError(f"expected max_len >= 1, got {max_len}")
    N = batch_size if batch_size is not None else state_batch_size(state)
    out, done = [], None
    prev = torch.full((N,), bos_id, dtype=torch.long)
    for _ in range(max_len):
        log_probs, state = step(prev.to(_device_of(state, prev)), state)
        _check_log_probs(log_probs, N)
        tokens = log_probs.argmax(-1).cpu()  # (N,): the most likely token of each row
        if done is not None:
            tokens = torch.where(done, torch.full_like(tokens, eos_id), tokens)  # pad with eos
        out.append(tokens)
        done = tokens == eos_id if done is None else done | (tokens == eos_id)
        if bool(done.all()):
            break
        prev = tokens
    seqs = torch.stack(out, dim=1)  # (N, T)
    is_eos = seqs == eos_id
    # length = index of the first eos, or T when the sequence never ended
    lengths = torch.where(is_eos.any(1), is_eos.int().argmax(1), torch.tensor(seqs.shape[1]))
    return seqs, lengths


@torch.no_grad()
def beam_search(step: Step, state: Any, bos_id: int, eos_id: int, beam_size: int, max_len: int,
                length_penalty: float = 1.0, batch_size: int | None = None) -> list[list[int]]:
    """Beam search for N sequences at once; returns the best hypothesis of each.

    Each input keeps K = beam_size partial sequences (beams). At every step each beam is
    extended by every token, scores add up, and the K best of the K*V candidates survive:

        score(y_1..y_t) = sum_i log p(y_i | y_<i, x)

    A beam that has produced eos is finished: it stays in the beam with a frozen score (its only
    continuation is eos again, with log-prob 0) and competes with the others. At the end the
    hypotheses are ranked by the length-normalised score

        score / length ** length_penalty        (length counts the eos, when there is one)

    length_penalty = 0 ranks by raw log-prob, which favours short outputs (every token costs
    probability); 1 ranks by mean log-prob per token. With K = 1 this is exactly greedy
    decoding. All N*K beams run as one batch through `step`. `decode(..., beam_size=K)`
    calls this for K > 1.

    Inputs:
    - step, state, bos_id, eos_id, max_len, batch_size: as in `greedy_decode`.
    - beam_size: K >= 1.
    - length_penalty: the exponent alpha above (>= 0).

    Returns a list of N lists of token ids, without bos and eos.
    """
    if beam_size < 1:
        raise ValueError(f"expected beam_size >= 1, got {beam_size}")
    if max_len < 1:
        raise ValueError(f"expected max_len >= 1, got {max_len}")
    if length_penalty < 0:
        raise ValueError(f"expected length_penalty >= 0, got {length_penalty}")
    N = batch_size if batch_size is not None else state_batch_size(state)
    K = beam_size
    state = index_state(state, torch.arange(N).repeat_interleave(K))  # (N*K, ...) copies
    # only the first copy is live at the start, so the K beams do not all pick the same token
    scores = torch.full((N, K), float("-inf"))
    scores[:, 0] = 0.0
    history = torch.empty(N, K, 0, dtype=torch.long)  # tokens so far, per beam
    finished = torch.zeros(N, K, dtype=torch.bool)
    lengths = torch.zeros(N, K)
    prev = torch.full((N * K,), bos_id, dtype=torch.long)
    dev = _device_of(state, prev)
    for _ in range(max_len):
        log_probs, state = step(prev.to(dev), state)
        _check_log_probs(log_probs, N * K)
        log_probs = log_probs.float().cpu().view(N, K, -1)  # (N, K, V)
        V = log_probs.shape[-1]
        # a finished beam can only "continue" with eos, at no cost
        frozen = torch.full((V,), float("-inf"))
        frozen[eos_id] = 0.0
        log_probs = torch.where(finished.unsqueeze(-1), frozen, log_probs)
        cand = scores.unsqueeze(-1) + log_probs  # (N, K, V)
        scores, flat = cand.view(N, K * V).topk(K, dim=1)  # (N, K)
        beam, token = flat // V, flat % V  # which beam each survivor extends, and with what
        history = torch.cat([history.gather(1, beam.unsqueeze(-1).expand_as(history)),
                             token.unsqueeze(-1)], dim=2)  # (N, K, t)
        was_finished = finished.gather(1, beam)
        lengths = lengths.gather(1, beam) + (~was_finished).float()
        finished = was_finished | (token == eos_id)
        state = index_state(state, (torch.arange(N).unsqueeze(1) * K + beam).view(-1))
        prev = token.view(-1)
        if bool(finished.all()):
            break
    best = (scores / lengths.clamp(min=1) ** length_penalty).argmax(dim=1)  # (N,)
    out = []
    for n in range(N):
        seq = history[n, best[n]].tolist()  # (T,) the best beam of input n
        out.append(seq[: seq.index(eos_id)] if eos_id in seq else seq)
    return out


@torch.no_grad()
def sequence_log_prob(step: Step, state: Any, sequences: list[list[int]], bos_id: int,
                      eos_id: int) -> torch.Tensor:
    """Total log-probability of given sequences (eos appended) under the model.

    Teacher forcing: feed bos, then each true token, and add up log p of the next true token.
    Returns a tensor of shape (N,), one score per sequence (in the same order).
    """
    N = len(sequences)
    targets = [list(s) + [eos_id] for s in sequences]
    T = max(len(t) for t in targets)
    total = torch.zeros(N)
    prev = torch.full((N,), bos_id, dtype=torch.long)
    dev = _device_of(state, prev)
    for t in range(T):
        log_probs, state = step(prev.to(dev), state)
        _check_log_probs(log_probs, N)
        nxt = torch.tensor([tg[t] if t < len(tg) else eos_id for tg in targets])
        live = torch.tensor([t < len(tg) for tg in targets])
        total += torch.where(live, log_probs.float().cpu().gather(1, nxt[:, None])[:, 0], 0.0)
        prev = nxt
    return total
