"""Small grammars for the sequence-problem lectures (05, 06), with exact accuracy bounds.

- `TaggedGrammar` generates sentences such as "my dog ate the assignment ." with one
  part-of-speech tag per token (a many-to-many task). A few words are ambiguous and only the
  words to their RIGHT decide their tag: in the garden-path sentence "the old man the boat ."
  `old` is a NOUN and `man` a VERB, in "the old man ate the boat ." they are ADJ and NOUN;
  `up` is a particle (PRT) in "the dog ran up ." and a preposition in "the dog ran up the hill .".
- `ReviewGrammar` generates review-like sentences with negation and a 0/1 sentiment label
  (many-to-one): "the plot was not bad at all" is positive; in "X but Y" the clause after "but"
  decides. Moving "not" from one clause to the other keeps the bag of words and flips the label.

Both are small enough that the best accuracy a model with restricted information can reach is
computed exactly from the generator's distribution (not estimated from samples):

    TaggedGrammar.bayes_accuracy("word")   # any tagger that sees only the word x_t itself
    TaggedGrammar.bayes_accuracy("left")   # any left-to-right tagger (it sees x_1..x_t)
    ReviewGrammar.bag_of_words_bound()     # any classifier that sees only the word multiset

Bayes accuracy of a view v of the input: sum over values of v of max_y P(v, y) -- the best
guess for each thing the model can see, weighted by how often it is seen.
"""

import random
from collections import Counter, defaultdict

import numpy as np

# A word class: name -> (tag, words). Words are drawn uniformly within a class; a word listed in
# two classes with different tags is ambiguous.
TAG_CLASSES = {
    "DET": ("DET", ("the", "this", "that", "every")),
    "THE": ("DET", ("the",)),
    "POSS": ("POSS", ("my", "your", "his", "her", "our", "their")),
    "ADJ": ("ADJ", ("big", "small", "lazy", "clever", "happy", "hungry", "red")),
    "OLD_ADJ": ("ADJ", ("old", "young", "poor", "rich")),
    "OLD_NOUN": ("NOUN", ("old", "young", "poor", "rich")),  # "the old": the old people
    "NOUN": ("NOUN", ("dog", "cat", "teacher", "student", "assignment", "homework", "boat",
                      "letter", "hill", "garden")),
    "NV_NOUN": ("NOUN", ("man", "fish", "duck", "watch", "book", "train")),
    "NV_VERB": ("VERB", ("man", "fish", "duck", "watch", "book", "train")),
    "VERB": ("VERB", ("ate", "read", "found", "lost", "liked", "wrote", "saw", "sold")),
    "MOVE": ("VERB", ("came", "went", "looked", "ran", "walked")),
    "PRT": ("PRT", ("in", "up", "down", "over", "around")),
    "PREP": ("PREP", ("in", "up", "down", "over", "around")),
    "ADV": ("ADV", ("quickly", "today", "yesterday", "again", "slowly")),
    ".": ("PUNCT", (".",)),
}

# A tiny probabilistic grammar without recursion: nonterminal -> [(probability, symbols)].
TAG_RULES = {
    "S": [(0.75, ("SUBJ", "VP", ".")),
          (0.25, ("THE", "OLD_NOUN", "NV_VERB", "NP", "."))],  # the old man the boat .
    "SUBJ": [(0.4, ("NP",)), (0.6, ("THE", "OLD_ADJ", "NV_NOUN"))],  # the old man ...
    "NP": [(0.3, ("DET", "NOUN")), (0.3, ("POSS", "NOUN")), (0.15, ("DET", "ADJ", "NOUN")),
           (0.15, ("POSS", "ADJ", "NOUN")), (0.1, ("DET", "NV_NOUN"))],
    "VP": [(0.5, ("VERB", "NP", "END")), (0.25, ("MOVE", "PRT", "END")),
           (0.25, ("MOVE", "PREP", "NP", "END"))],
    "END": [(0.6, ()), (0.4, ("ADV",))],
}


class TaggedGrammar:
    """Sentences with one tag per token, from a non-recursive probabilistic grammar.

    Args:
        classes: word classes, name -> (tag, words); default `TAG_CLASSES`.
        rules: nonterminal -> [(probability, symbols)], start symbol "S"; default `TAG_RULES`.
            A symbol is a class name or a nonterminal.

    The grammar is expanded once into `templates`: every sequence of classes it can produce,
    with its probability (they sum to 1).
    """

    def __init__(self, classes: dict | None = None, rules: dict | None = None):
        self.classes = dict(TAG_CLASSES if classes is None else classes)
        self.rules = dict(TAG_RULES if rules is None else rules)
        self.templates = self._expand("S")  # [(prob, (class, ...))]
        total = sum(p for p, _ in self.templates)
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"expected rule probabilities summing to 1, got {total:.6f}")
        self.tags = sorted({tag for tag, _ in self.classes.values()})
        self.words = sorted({w for _, words in self.classes.values() for w in words})

    def _expand(self, symbol):
        if symbol in self.classes:
            return [(1.0, (symbol,))]
        if symbol not in self.rules:
            raise ValueError(f"expected a class or a nonterminal, got {symbol!r}")
        out = []
        for p, rhs in self.rules[symbol]:
            partial = [(p, ())]
            for sym in rhs:  # every way to expand each symbol, in order
                partial = [(p1 * p2, t1 + t2) for p1, t1 in partial for p2, t2 in self._expand(sym)]
            out.extend(partial)
        return out

    def __repr__(self) -> str:
        return (f"TaggedGrammar({len(self.words)} words, {len(self.tags)} tags, "
                f"{len(self.templates)} templates, mean length {self.mean_length():.2f})")

    def mean_length(self) -> float:
        """Expected number of tokens per sentence."""
        return sum(p * len(t) for p, t in self.templates)

    def ambiguous_words(self) -> dict[str, set[str]]:
        """The words that can carry more than one tag, with their tags."""
        tags = defaultdict(set)
        for tag, words in self.classes.values():
            for w in words:
                tags[w].add(tag)
        return {w: t for w, t in sorted(tags.items()) if len(t) > 1}

    def sample(self, n: int, seed: int = 0) -> list[tuple[list[str], list[str]]]:
        """`n` (tokens, tags) pairs; the same seed gives the same sentences."""
        rng = random.Random(seed)
        probs, templates = zip(*self.templates, strict=True)
        out = []
        for template in rng.choices(templates, weights=probs, k=n):
            tokens = [rng.choice(self.classes[c][1]) for c in template]
            out.append((tokens, [self.classes[c][0] for c in template]))
        return out

    def bayes_accuracy(self, view: str = "left") -> float:
        """The best expected token accuracy of any tagger that sees `view` of the sentence.

        view="word": the tag of x_t is guessed from x_t alone (a lookup table, one-to-one);
        view="left": from x_1..x_t (a left-to-right tagger);
        view="full": from the whole sentence (1.0 means the grammar is unambiguous).

        Computed exactly: E[correct tags] / E[length], where E[correct] sums, over every
        prefix (or sentence), max_y P(prefix, y_t = y). Words that every class treats alike
        (same probability in each class) are merged into one group first, which keeps the
        enumeration small without changing the sum.
        """
        if view not in ("word", "left", "full"):
            raise ValueError(f"expected view 'word', 'left' or 'full', got {view!r}")
        if view == "word":  # P(w, y) summed over every template and position, then max_y
            mass = defaultdict(Counter)
            for p, template in self.templates:
                for c in template:
                    tag, words = self.classes[c]
                    for w in words:
                        mass[w][tag] += p / len(words)
            return sum(max(m.values()) for m in mass.values()) / self.mean_length()
        names = list(self.classes)
        signature = defaultdict(list)  # word -> probability in each class; alike words merge
        for w in self.words:
            sig = tuple(self.classes[c][1].count(w) / len(self.classes[c][1]) for c in names)
            signature[sig].append(w)
        emit = np.array([[len(ws) * p for p in sig] for sig, ws in signature.items()])  # (G, K)
        prior = np.array([p for p, _ in self.templates])  # (M,)
        L = max(len(t) for _, t in self.templates)
        cls = np.full((len(self.templates), L), -1)  # class index per position, -1 after the end
        for m, (_, t) in enumerate(self.templates):
            cls[m, : len(t)] = [names.index(c) for c in t]
        tag_of = np.array([self.tags.index(self.classes[c][0]) for c in names] + [-1])
        tags = tag_of[cls]  # (M, L), -1 after the end
        lengths = (cls >= 0).sum(1)

        def best(weights, column):  # max over tags y of the weight of templates tagging y here
            return max(weights[column == y].sum() for y in range(len(self.tags)))

        def visit(weights, t):  # weights[m] = P(template m, the prefix so far)
            total = 0.0
            alive = cls[:, t] >= 0
            for g in range(len(emit)):
                w = np.where(alive, weights * emit[g][cls[:, t]], 0.0)
                if not w.any():
                    continue
                if view == "left":
                    total += best(w, tags[:, t])
                else:  # the sentences that end here: score every position at once
                    done = np.where(lengths == t + 1, w, 0.0)
                    if done.any():
                        total += sum(best(done, tags[:, s]) for s in range(t + 1))
                if t + 1 < L:
                    total += visit(np.where(lengths > t + 1, w, 0.0), t + 1)
            return total

        return visit(prior, 0) / self.mean_length()


def _clause_forms():
    """Phrases after "the ASPECT was": (words before the adjective, after it, negated)."""
    return [((), (), False), (("very",), (), False), (("not",), (), True),
            (("not",), ("at", "all"), True)]


class ReviewGrammar:
    """Review-like sentences with negation and a sentiment label (1 positive, 0 negative).

    A clause is "the ASPECT was [very|not] ADJ [at all]" ("at all" only after "not"); its
    polarity is the adjective's, flipped by "not". A review is one clause, or two about
    different aspects joined by "and" (same polarity) or "but" (opposite polarity). The label
    is the polarity of the LAST clause: in "the plot was good but the acting was not good" the
    reviewer is negative.

    Args:
        aspects, positive, negative: the word lists.
        p_single, p_and, p_but: how often each shape of review is drawn (summing to 1).
    """

    def __init__(self, aspects=("plot", "acting", "music", "ending", "cast", "script"),
                 positive=("good", "great", "fun", "clever", "excellent"),
                 negative=("bad", "boring", "awful", "dull", "weak"),
                 p_single: float = 0.3, p_and: float = 0.3, p_but: float = 0.4):
        if abs(p_single + p_and + p_but - 1.0) > 1e-9:
            raise ValueError(f"expected p_single + p_and + p_but == 1, "
                             f"got {p_single + p_and + p_but}")
        self.aspects, self.positive = tuple(aspects), tuple(positive)
        self.negative = tuple(negative)
        self.shapes = {"single": p_single, "and": p_and, "but": p_but}
        # every clause, equally likely: (tokens, polarity)
        self.clauses = [(("the", a, "was", *pre, adj, *post), int((adj in self.positive) != neg))
                        for a in self.aspects for adj in self.positive + self.negative
                        for pre, post, neg in _clause_forms()]

    def __repr__(self) -> str:
        return (f"ReviewGrammar({len(self.aspects)} aspects, {len(self.positive)}+"
                f"{len(self.negative)} adjectives, shapes {self.shapes})")

    def label(self, tokens) -> int:
        """The label the rule gives a review (1 positive, 0 negative), read from its words."""
        tokens = list(tokens)
        for conj in ("but", "and"):  # the last clause decides
            if conj in tokens:
                tokens = tokens[tokens.index(conj) + 1:]
        positive = any(w in self.positive for w in tokens)
        return int(positive != ("not" in tokens))

    def _second(self, first, shape):
        """The clauses that may follow clause `first`: about another aspect, and of the same
        polarity after "and", the opposite after "but"."""
        tokens, polarity = first
        want = polarity if shape == "and" else 1 - polarity
        return [c for c in self.clauses if c[1] == want and c[0][1] != tokens[1]]

    def sample(self, n: int, seed: int = 0) -> list[tuple[list[str], int]]:
        """`n` (tokens, label) pairs; the same seed gives the same reviews."""
        rng = random.Random(seed)
        shapes, probs = zip(*self.shapes.items(), strict=True)
        out = []
        for shape in rng.choices(shapes, weights=probs, k=n):
            tokens, pol = first = rng.choice(self.clauses)
            if shape != "single":
                more, pol = rng.choice(self._second(first, shape))
                tokens = tokens + (shape,) + more
            out.append((list(tokens), pol))
        return out

    def enumerate(self):
        """Every review the grammar can produce: yields (tokens, label, probability)."""
        p_clause = 1.0 / len(self.clauses)
        for tokens, pol in self.clauses:
            yield tokens, pol, self.shapes["single"] * p_clause
            for shape in ("and", "but"):
                seconds = self._second((tokens, pol), shape)
                p = self.shapes[shape] * p_clause / len(seconds)
                for more, pol2 in seconds:
                    yield tokens + (shape,) + more, pol2, p

    def bag_of_words_bound(self) -> float:
        """The best accuracy of ANY classifier that sees only the multiset of words (exact).

        sum over multisets B of max_y P(B, y): where one bag carries both labels (the "not"
        moved to the other clause), no function of the bag can be right on both.
        """
        mass = defaultdict(lambda: [0.0, 0.0])
        for tokens, label, p in self.enumerate():
            mass[frozenset(Counter(tokens).items())][label] += p
        return sum(max(m) for m in mass.values())
