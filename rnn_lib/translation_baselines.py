"""Baselines for lecture 09's translation task: what a translation gets without a neural network.

- `learn_lexicon` reads a word-for-word dictionary off the training pairs: for every source
  word, the target words it is most often aligned to (the grammar gives the true alignment,
  so this is the best dictionary the training data allows);
- `word_by_word` translates with such a dictionary, one source word at a time, in source
  order: no learning of order, no context (the classic "monotone word substitution").

Where word substitution scores close to a neural model, the task is not testing what the
model is said to learn (reordering, agreement).
"""

from collections import Counter, defaultdict


def learn_lexicon(pairs) -> dict[str, tuple[str, ...]]:
    """The most frequent translation of each source word in aligned training pairs.

    Inputs:
    - pairs: `rnn_lib.translation.Pair`s (src, tgt, align), where align[i] holds the target
      positions of source word i.
    Returns {source word: tuple of target words}; ties go to the translation seen first.
    """
    counts: dict[str, Counter] = defaultdict(Counter)
    for pair in pairs:
        if len(pair.align) != len(pair.src):
            raise ValueError(f"expected one alignment entry per source word, got "
                             f"{len(pair.align)} for {len(pair.src)} words")
        for word, where in zip(pair.src, pair.align, strict=True):
            counts[word][tuple(pair.tgt[j] for j in where)] += 1
    return {word: c.most_common(1)[0][0] for word, c in counts.items()}


def word_by_word(sources, lexicon: dict[str, tuple[str, ...]]) -> list[str]:
    """Translate each source sentence (a sequence of words) word by word, in source order.

    Words missing from `lexicon` are dropped. Returns one string per sentence (words joined
    by spaces), like `rnn_lib.translation.translate_pairs`.
    """
    return [" ".join(t for word in src for t in lexicon.get(word, ())) for src in sources]
