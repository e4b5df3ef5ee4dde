"""Sampling from a language model: temperature, top-k, and the autoregressive loop.

A trained model gives logits z (one score per character) for the next character. We turn them
into a distribution and draw from it:

    p_i = exp(z_i / tau) / sum_j exp(z_j / tau)          (temperature tau > 0)

tau = 1 is the model's own distribution; tau < 1 sharpens it (tau -> 0 is argmax, "greedy"),
tau > 1 flattens it towards uniform. Top-k sampling first keeps only the k largest logits, so
the long tail of unlikely characters is never drawn.

Generation is autoregressive: the drawn character is fed back as the next input, and the
recurrent state carries everything drawn so far. In training the model instead always sees the
true previous character (teacher forcing); `draw_unrolled` draws the two side by side.

Letters used in shapes: N = batch size, P = prompt length, S = steps generated, V = vocabulary.
"""

from typing import NamedTuple

import torch

from rnn_lib.training import in_eval_mode, model_device


def adjust_logits(logits: torch.Tensor, temperature: float = 1.0,
                  top_k: int | None = None) -> torch.Tensor:
    """Divide logits by the temperature and set all but the top k to -inf.

    Inputs:
        - logits: of shape (..., V).
        - temperature: tau > 0.
        - top_k: keep the k largest logits of each row (None or k >= V: keep all).
    Returns: adjusted logits of shape (..., V), ready for softmax or sampling.
    """
    if temperature <= 0:
        raise ValueError(f"expected temperature > 0 (next_probs takes 0), got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"expected top_k >= 1 or None, got {top_k}")
    z = logits.float() / temperature  # (..., V)
    if top_k is not None and top_k < z.size(-1):
        keep = torch.zeros_like(z, dtype=torch.bool)
        keep.scatter_(-1, z.topk(top_k, dim=-1).indices, True)  # exactly k per row, even on ties
        z = z.masked_fill(~keep, float("-inf"))
    return z


def next_probs(logits: torch.Tensor, temperature: float = 1.0,
               top_k: int | None = None) -> torch.Tensor:
    """The distribution we sample the next character from, of shape (..., V).

    temperature = 0 is the limit tau -> 0: all the mass on the argmax.
    """
    if temperature == 0:
        return torch.nn.functional.one_hot(logits.argmax(-1), logits.size(-1)).float()
    return torch.softmax(adjust_logits(logits, temperature, top_k), dim=-1)


def sample_next(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw one id per row from `next_probs(logits, temperature, top_k)`.

    Inputs:
        - logits: of shape (N, V).
        - generator: a CPU torch.Generator, for repeatable draws (sampling runs on the CPU).
    Returns: LongTensor of shape (N,) on the logits' device.
    """
    if logits.dim() != 2:
        raise ValueError(f"expected logits of shape (N, V), got {tuple(logits.shape)}")
    if temperature == 0:
        return logits.argmax(-1)
    probs = next_probs(logits, temperature, top_k).cpu()  # (N, V)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1).to(logits.device)  # (N,)


class Generation(NamedTuple):
    """What `generate` returns: drawn ids (N, S) and the distribution each came from (N, S, V)."""

    ids: torch.Tensor
    probs: torch.Tensor


@torch.no_grad()
@in_eval_mode
def generate(model, prompt: torch.Tensor, steps: int, *, temperature: float = 1.0,
             top_k: int | None = None, generator: torch.Generator | None = None,
             state=None) -> Generation:
    """Autoregressive generation: read a prompt, then draw a character and feed it back, S times.

    `model(x, state) -> (logits, state)` with x of shape (N, t) and logits (N, t, V), as
    `rnn_lib.charlm.CharRNN`. The whole prompt is read in one call (its state carries it all);
    afterwards each step feeds the one character just drawn.

    Inputs:
        - prompt: ids of shape (N, P) with P >= 1 (or (P,) for a single sequence).
        - steps: S, the number of characters to generate.
        - state: the model's state before the prompt (None: zeros).
    Returns: Generation(ids of shape (N, S), probs of shape (N, S, V)), both on the CPU.
    """
    if prompt.dim() == 1:
        prompt = prompt[None]  # (1, P)
    if prompt.dim() != 2 or prompt.size(1) < 1:
        raise ValueError(f"expected a prompt of shape (N, P), P >= 1, got {tuple(prompt.shape)}")
    device = model_device(model)
    logits, state = model(prompt.to(device), state)  # (N, P, V)
    logits = logits[:, -1]  # (N, V): the prediction after the last prompt character
    ids, probs = [], []
    for _ in range(steps):
        probs.append(next_probs(logits, temperature, top_k).cpu())  # (N, V)
        nxt = sample_next(logits, temperature, top_k, generator)  # (N,)
        ids.append(nxt.cpu())
        logits, state = model(nxt[:, None], state)  # feed the drawn character back: (N, 1, V)
        logits = logits[:, -1]
    V = logits.size(-1)
    if not ids:
        return Generation(torch.empty(prompt.size(0), 0, dtype=torch.long),
                          torch.empty(prompt.size(0), 0, V))
    return Generation(torch.stack(ids, 1), torch.stack(probs, 1))  # (N, S), (N, S, V)


def generate_text(model, vocab, prompt: str, steps: int, **kwargs) -> str:
    """`generate` for one string: encode the prompt with `vocab`, decode what was drawn.

    Keyword arguments (temperature, top_k, generator, state) go to `generate`.
    """
    ids = torch.tensor(vocab.encode(prompt), dtype=torch.long)
    out = generate(model, ids, steps, **kwargs).ids[0]
    return prompt + "".join(vocab.decode(out.tolist()))


@torch.no_grad()
@in_eval_mode
def score_continuation(model, prompt: torch.Tensor, ids: torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """How the model itself (tau = 1, no top-k) rates a continuation of a prompt, step by step.

    Reads prompt + ids teacher-forced: the states are the ones generation went through, so this
    is the model's own judgement of text it drew, whatever temperature drew it.

    Inputs:
        - prompt: ids of shape (N, P), P >= 1 (or (P,)).
        - ids: the continuation, of shape (N, S) (or (S,)).
    Returns: (log_probs, entropy), both of shape (N, S) on the CPU:
        log_probs[n, s] = log p(ids[n, s] | prompt, ids[n, :s]), and entropy[n, s] the entropy
        (nats) of that next-character distribution: how unsure the model was at that step.
    """
    if prompt.dim() == 1:
        prompt = prompt[None]  # (1, P)
    if ids.dim() == 1:
        ids = ids[None]  # (1, S)
    if prompt.dim() != 2 or prompt.size(1) < 1 or ids.dim() != 2 or ids.size(0) != prompt.size(0):
        raise ValueError(f"expected a prompt (N, P), P >= 1, and ids (N, S), got "
                         f"{tuple(prompt.shape)} and {tuple(ids.shape)}")
    device = model_device(model)
    P = prompt.size(1)
    text = torch.cat([prompt, ids], 1).to(device)  # (N, P + S)
    logits, _ = model(text[:, :-1])  # (N, P + S - 1, V)
    logp = torch.log_softmax(logits[:, P - 1:].float(), -1).cpu()  # (N, S, V): predicts ids
    picked = logp.gather(-1, ids[..., None].cpu()).squeeze(-1)  # (N, S)
    entropy = -(logp.exp() * logp).sum(-1)  # (N, S)
    return picked, entropy


def distinct_ngrams(text: str, n: int = 4) -> float:
    """The fraction of a text's n-grams (overlapping) that are distinct: 1.0 never repeats one.

    A crude diversity measure (Li et al. 2016 count distinct word n-grams): a generator stuck in
    a loop ("the the the ...") scores low.
    """
    if n < 1:
        raise ValueError(f"expected n >= 1, got {n}")
    grams = [text[i:i + n] for i in range(len(text) - n + 1)]
    if not grams:
        raise ValueError(f"expected a text of at least {n} characters, got {len(text)}")
    return len(set(grams)) / len(grams)


def draw_unrolled(ax, inputs: str, outputs: str, *, feed_back: bool = False,
                  title: str | None = None) -> None:
    """Draw an unrolled RNN: inputs below, a cell per step, outputs above, the state between.

    feed_back=False draws teacher forcing (every input is the true previous character);
    feed_back=True draws generation (each output is fed back as the next input, dashed arrows).
    """
    if len(inputs) != len(outputs):
        raise ValueError(f"expected {len(inputs)} outputs (one per input), got {len(outputs)}")
    from matplotlib.patches import FancyBboxPatch  # plotting only when asked for

    arrow = dict(arrowstyle="->", color="black", lw=1.2)
    for t, (x, y) in enumerate(zip(inputs, outputs, strict=True)):
        ax.add_patch(FancyBboxPatch((2 * t - 0.45, -0.35), 0.9, 0.7, fc="#cde", ec="black",
                                    boxstyle="round,pad=0.05"))
        ax.text(2 * t, 0, "RNN", ha="center", va="center", fontsize=9)
        ax.text(2 * t, -1.6, repr(x), ha="center", va="center", fontsize=11,
                color="tab:red" if feed_back and t > 0 else "black")
        ax.text(2 * t, 1.6, repr(y), ha="center", va="center", fontsize=11, color="tab:blue")
        ax.annotate("", xy=(2 * t, -0.45), xytext=(2 * t, -1.35), arrowprops=arrow)
        ax.annotate("", xy=(2 * t, 1.35), xytext=(2 * t, 0.45), arrowprops=arrow)
        if t > 0:
            ax.annotate("", xy=(2 * t - 0.5, 0), xytext=(2 * t - 1.5, 0), arrowprops=arrow)
            if feed_back:  # the drawn output of step t-1 becomes the input of step t
                ax.annotate("", xy=(2 * t - 0.15, -1.35), xytext=(2 * t - 1.85, 1.35),
                            arrowprops=dict(arrowstyle="->", color="tab:red", ls="--", lw=1.2))
    ax.text(-1.3, 1.6, "target" if not feed_back else "drawn", ha="right", va="center")
    ax.text(-1.3, -1.6, "input", ha="right", va="center")
    ax.set_xlim(-2.6, 2 * len(inputs) - 0.8)
    ax.set_ylim(-2.1, 2.1)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
