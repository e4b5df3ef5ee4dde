"""Metrics for generated text: BLEU (from sacrebleu, not re-implemented) and exact match.

Every function takes whole strings (tokens joined by spaces, or plain text) and compares each
hypothesis with its reference(s). `references` is either

- a list of N strings: one reference per hypothesis, or
- a list of N lists of strings: several acceptable references per hypothesis (an image can be
  described in more than one way: "a red circle above a blue square" is also "a blue square
  below a red circle"); the lists may differ in length.

BLEU (Papineni et al. 2002) is the geometric mean of clipped n-gram precisions (n = 1..4)
times a brevity penalty, on a 0-100 scale, computed over the whole corpus (not averaged per
sentence).
"""

from collections.abc import Sequence

import sacrebleu


def _reference_lists(hypotheses: Sequence[str], references: Sequence) -> list[list[str]]:
    """Check the lengths and turn either reference layout into one list per hypothesis."""
    if isinstance(hypotheses, str) or isinstance(references, str):
        raise ValueError("expected lists of strings, got a single string")
    if len(hypotheses) != len(references):
        raise ValueError(
            f"expected as many references as hypotheses, got {len(references)} references "
            f"for {len(hypotheses)} hypotheses"
        )
    refs = [[r] if isinstance(r, str) else list(r) for r in references]
    if any(len(r) == 0 for r in refs):
        raise ValueError("expected at least one reference per hypothesis, got an empty list")
    return refs


def _streams(refs: list[list[str]]) -> list[list[str | None]]:
    """sacrebleu wants reference *streams*: stream k holds the k-th reference of every
    hypothesis (None where a hypothesis has fewer)."""
    width = max(len(r) for r in refs)
    return [[r[k] if k < len(r) else None for r in refs] for k in range(width)]


def bleu(hypotheses: Sequence[str], references: Sequence) -> float:
    """Corpus BLEU (0-100) with sacrebleu's defaults (13a tokenisation, exp smoothing).

    Inputs:
    - hypotheses: N generated strings.
    - references: N strings, or N lists of acceptable strings.

    Returns the score as a float in [0, 100].
    """
    refs = _reference_lists(hypotheses, references)
    return float(sacrebleu.corpus_bleu(list(hypotheses), _streams(refs)).score)


def _normalise(text: str) -> str:
    return " ".join(text.split())


def exact_match(hypotheses: Sequence[str], references: Sequence) -> float:
    """Fraction (0-1) of hypotheses equal to one of their references.

    Strings are compared after collapsing runs of whitespace and stripping the ends; case and
    punctuation count.
    """
    refs = _reference_lists(hypotheses, references)
    if not refs:
        return 0.0
    hits = sum(_normalise(h) in {_normalise(r) for r in rs}
               for h, rs in zip(hypotheses, refs, strict=True))
    return hits / len(refs)


def sentence_bleu(hypothesis: str, references: str | Sequence[str]) -> float:
    """BLEU (0-100) of a single sentence, with smoothing: for showing examples, not for
    reporting (corpus BLEU is not the mean of sentence BLEUs)."""
    refs = [references] if isinstance(references, str) else list(references)
    return float(sacrebleu.sentence_bleu(hypothesis, refs).score)
