"""Looking inside a captioner's mistakes: search errors, model errors, exposure bias.

- `caption_log_probs`: log p(caption | image) under the model (teacher forcing), to check that
  beam search finds captions the model rates higher than greedy decoding does.
- `classify_errors`: a wrong caption is a *search error* when the model gives a correct
  caption a higher log-probability than the caption the search returned (a better search
  would have found something better than what it returned), and a *model error* when the
  model rates its wrong caption at least as high as every correct one (no search can fix it:
  the model's probabilities are wrong).
- `teacher_forced_tokens` and `position_accuracy`: per-word accuracy, position by position,
  of the words the model predicts from the true prefix (teacher forcing) or from its own
  (free running), both against the same reference, so that the two numbers differ only in
  whose prefix the model reads.
- `errors_after_first`: after the first wrong word of a free-running caption, how often the
  following words are wrong, beside how often the model gets those same positions wrong when
  it reads the true prefix.

Every caption is a string of words; the token "<eos>" closes each reference and prediction.
where N = images, P = positions (the longest reference's words + 1 for <eos>).
"""

from collections import Counter

import torch

from rnn_lib.captioning import CaptionModel
from rnn_lib.decoding import sequence_log_prob
from rnn_lib.training import evaluating, model_device
from rnn_lib.vocab import Vocab

EOS = "<eos>"


@torch.no_grad()
def caption_log_probs(model: CaptionModel, images: torch.Tensor, captions: list[str],
                      vocab: Vocab, batch_size: int = 500) -> torch.Tensor:
    """log p(caption, <eos> | image) of each caption under `model` (eval mode): shape (N,)."""
    if len(images) != len(captions):
        raise ValueError(f"expected one caption per image, got {len(captions)} captions for "
                         f"{len(images)} images")
    dev = model_device(model)
    out = []
    with evaluating(model):
        for start in range(0, len(captions), batch_size):
            chunk = images[start:start + batch_size].to(dev)
            ids = [vocab.encode(c.split()) for c in captions[start:start + batch_size]]
            out.append(sequence_log_prob(model.step, model.start(chunk), ids, vocab.bos_id,
                                         vocab.eos_id))
    return torch.cat(out) if out else torch.zeros(0)


def classify_errors(hyp_log_p: torch.Tensor, ref_log_p: torch.Tensor, correct: list[bool],
                    tol: float = 1e-4) -> dict[str, int]:
    """Count correct captions, search errors and model errors.

    Inputs:
    - hyp_log_p: of shape (N,), log p of each returned caption.
    - ref_log_p: of shape (N,), log p of the most probable correct caption of each image.
    - correct: N booleans, whether the returned caption is correct.
    - tol: log-probabilities closer than this count as equal (a model error).

    Returns {"correct": ., "search error": ., "model error": .}, the counts summing to N.
    """
    if not len(hyp_log_p) == len(ref_log_p) == len(correct):
        raise ValueError(f"expected equal lengths, got {len(hyp_log_p)}, {len(ref_log_p)} and "
                         f"{len(correct)}")
    counts = {"correct": 0, "search error": 0, "model error": 0}
    for h, r, ok in zip(hyp_log_p.tolist(), ref_log_p.tolist(), correct, strict=True):
        counts["correct" if ok else "search error" if r > h + tol else "model error"] += 1
    return counts


@torch.no_grad()
def teacher_forced_tokens(model: CaptionModel, images: torch.Tensor, captions: list[str],
                          vocab: Vocab, batch_size: int = 500) -> list[list[str]]:
    """The model's most likely word at every position of each caption, given the true prefix.

    Returns N lists of len(caption.split()) + 1 words (the last predicts "<eos>")."""
    dev = model_device(model)
    out = []
    with evaluating(model):
        for start in range(0, len(captions), batch_size):
            chunk = captions[start:start + batch_size]
            ids = [vocab.encode(c.split(), add_bos=True) for c in chunk]  # <bos> w_1..w_n
            T = max(len(i) for i in ids)
            inputs = torch.tensor([i + [vocab.pad_id] * (T - len(i)) for i in ids])  # (n, T)
            pred = model(images[start:start + batch_size].to(dev), inputs.to(dev)).argmax(-1)
            for row, i in zip(pred.cpu().tolist(), ids, strict=True):
                out.append([vocab.itos[t] for t in row[: len(i)]])
    return out


def _tokens(words: str | list[str]) -> list[str]:
    """A caption string as words + <eos>; a list of predicted words is taken as it is."""
    return words.split() + [EOS] if isinstance(words, str) else list(words)


def position_accuracy(predicted: list, references: list[str]) -> tuple[torch.Tensor,
                                                                        torch.Tensor]:
    """Per-position word accuracy against one reference per caption.

    Inputs:
    - predicted: N captions, each a string (generated; "<eos>" is appended) or a list of words
      (from `teacher_forced_tokens`, already ending with the prediction for "<eos>").
    - references: N reference strings ("<eos>" is appended).

    Position p of a reference counts as right when the prediction has the same word at p
    (a prediction that is too short is wrong at the missing positions).
    Returns (right, total), LongTensors of shape (P,); right.sum() / total.sum() is the
    accuracy over every reference word and <eos>.
    """
    if len(predicted) != len(references):
        raise ValueError(f"expected one reference per prediction, got {len(references)} "
                         f"references for {len(predicted)} predictions")
    refs = [_tokens(r) for r in references]
    P = max((len(r) for r in refs), default=0)
    right, total = torch.zeros(P, dtype=torch.long), torch.zeros(P, dtype=torch.long)
    for pred, ref in zip(predicted, refs, strict=True):
        pred = _tokens(pred)
        for p, word in enumerate(ref):
            total[p] += 1
            right[p] += p < len(pred) and pred[p] == word
    return right, total


def errors_after_first(free: list[str], forced: list[list[str]],
                       references: list[str]) -> dict[str, int]:
    """Do mistakes compound? Look at the reference positions after a caption's first error.

    Inputs:
    - free: N generated captions (strings).
    - forced: N lists of words from `teacher_forced_tokens` for the same images and references.
    - references: N reference strings.

    Returns counts over the captions with a free-running error: "captions", "words" (the
    reference positions after the first error, <eos> included), "free_wrong" (of those, wrong
    when the model ran free) and "forced_wrong" (wrong when it read the true prefix).
    """
    if not len(free) == len(forced) == len(references):
        raise ValueError(f"expected equal lengths, got {len(free)}, {len(forced)} and "
                         f"{len(references)}")
    counts = Counter(captions=0, words=0, free_wrong=0, forced_wrong=0)
    for hyp, tf, ref in zip(free, forced, references, strict=True):
        hw, tw, rw = _tokens(hyp), _tokens(tf), _tokens(ref)
        wrong = [p for p, w in enumerate(rw) if p >= len(hw) or hw[p] != w]
        if not wrong:
            continue
        counts["captions"] += 1
        for p in range(wrong[0] + 1, len(rw)):
            counts["words"] += 1
            counts["free_wrong"] += p >= len(hw) or hw[p] != rw[p]
            counts["forced_wrong"] += p >= len(tw) or tw[p] != rw[p]
    return dict(counts)
