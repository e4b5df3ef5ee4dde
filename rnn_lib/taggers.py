"""Many-to-many models: one tag per token; and the tagging baseline without context.

    SequenceTagger:    embedding -> RNN/LSTM/GRU (stacked, uni- or bidirectional) -> linear per step
    MostFrequentTag:   each word's most frequent training tag (no context, no training loop)

The recurrent body is `rnn_lib.encoders.RecurrentEncoder`, the same as under
`rnn_lib.classifiers.SequenceClassifier`; a tagger is a classifier at every step, so it is
trained and measured with `rnn_lib.classifiers.classification_loss`, `accuracy` and
`accuracy_and_se` (padded steps, target -100, skipped).

where N = batch size, T = longest length in the batch, E = embedding size, H = hidden size,
D = 2 if bidirectional else 1, C = number of tags.
"""

from collections import Counter, defaultdict

import torch

from rnn_lib.encoders import ReadOut


class SequenceTagger(ReadOut):
    """One tag per token: logits_t = W o_t + b, o_t the top layer's output at step t.

    Args: input_size (V with embedding_dim, else H_in), num_outputs (C, the tags), then as
        `rnn_lib.encoders.ReadOut` (hidden_size=64, embedding_dim=None, num_layers=1,
        bidirectional=False, cell="lstm", dropout=0.0, pad_id=0, backend=torch.nn).
    Inputs: tokens (N, T) (or features (N, T, H_in) without embedding_dim), lengths (N,) or None.
    Outputs: logits of shape (N, T, C).
    """

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        out, _ = self.encoder(tokens, lengths)  # (N, T, D*H)
        return self.head(self.drop(out))  # (N, T, C)


class MostFrequentTag:
    """The one-to-one tagging baseline: each word gets the tag it carries most often in the
    training pairs; a word never seen in training gets the most frequent tag overall.

    It is what a tagger can do with no context at all; `TaggedGrammar.bayes_accuracy("word")`
    is its exact limit. Its "parameters" are the entries of its table (`len(baseline)`).

    Args:
        pairs: (tokens, tags) training pairs, two lists of the same length each.
    """

    def __init__(self, pairs):
        counts, overall = defaultdict(Counter), Counter()
        for tokens, tags in pairs:
            if len(tokens) != len(tags):
                raise ValueError(f"expected one tag per token, got {len(tokens)} tokens and "
                                 f"{len(tags)} tags")
            for w, t in zip(tokens, tags, strict=True):
                counts[w][t] += 1
                overall[t] += 1
        if not overall:
            raise ValueError("expected at least one tagged token, got none")
        self.table = {w: c.most_common(1)[0][0] for w, c in counts.items()}
        self.default = overall.most_common(1)[0][0]

    def __repr__(self) -> str:
        return f"MostFrequentTag({len(self.table)} words, unseen -> {self.default!r})"

    def __len__(self) -> int:
        return len(self.table)

    def predict(self, tokens) -> list:
        """One tag per token."""
        return [self.table.get(w, self.default) for w in tokens]

    def accuracy(self, pairs) -> float:
        """Token accuracy over (tokens, tags) pairs."""
        right = total = 0
        for tokens, tags in pairs:
            right += sum(p == t for p, t in zip(self.predict(tokens), tags, strict=True))
            total += len(tags)
        return right / total
