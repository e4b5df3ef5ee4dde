"""A synthetic parallel corpus: a Spanish-like source language and its English translation.

A *synchronous grammar* builds both sentences at once. Each source word is a unit that knows
its translation, and each rule says in which order its parts appear on each side:

    NP -> Det Adj_pre N Adj_post Mod   (source)      la casa roja      ->  the red house
    NP -> Det Adj_pre Adj_post N Mod   (target)      el buen perro     ->  the good dog

so every sentence pair comes with its word alignment. What makes translation non-trivial here:

- adjectives follow the noun in the source and precede it in the target (a local swap);
- determiners, adjectives and verbs agree in gender and number in the source only
  (la / el / las / los -> the, rojo / roja / rojos / rojas -> red, tiene / tienen -> has / have);
- one contraction, del -> "of the", so the two sides may differ in length;
- prepositional phrases, relative clauses ("que ...") and coordination ("y ...") nest, so
  sentences run from 3 to 30+ words.

With `verb_final=True` (lecture 09's corpus) the source puts the verb after its object, as
German subordinate clauses and Japanese do (a prepositional phrase of the verb stays after it,
as in German's "Nachfeld"), and does not mark the verb's number:

    S -> NP_subj NP_obj V [PP]  (source)   los perros la casa ve en el parque
    S -> NP_subj V NP_obj [PP]  (target)   the dogs see the house in the park

so the verb moves over the whole object, with the object's own modifiers and relative clauses
(verb-final too: "que el pan come" -> "that eats the bread"), and the English verb (sees /
see) must get its number from the subject, several words away. Word-by-word substitution no
longer gives the translation.

The test split is longer than the training split on average (its lengths are spread evenly,
while the grammar mostly makes short sentences), and an optional third split holds sentences
longer than any seen in training.
"""

import random
from dataclasses import dataclass, field

import torch
from torch.nn.utils.rnn import pad_sequence

from rnn_lib.batching import BucketBatchSampler
from rnn_lib.lexicon import ADJECTIVES, DETERMINERS, INTRANSITIVE, NOUNS, PREPOSITIONS, TRANSITIVE


# ----------------------------------------------------------------------------- the grammar
@dataclass
class Phrase:
    """A phrase on both sides: `units` in source order, each a (source word, target words)
    pair, and `order`, the positions of those units in target order."""

    units: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    order: list[int] = field(default_factory=list)

    def add(self, other: "Phrase") -> "Phrase":
        """Append `other` after self on both sides."""
        offset = len(self.units)
        self.units += other.units
        self.order += [offset + i for i in other.order]
        return self


def _word(src: str, tgt: str) -> Phrase:
    return Phrase([(src, tuple(tgt.split()))], [0])


def _reorder(parts: list[Phrase], tgt_order: list[int]) -> Phrase:
    """Join `parts` in source order; on the target side they come in `tgt_order` (a
    permutation of their indices), each keeping its own internal order."""
    out, offsets = Phrase(), []
    for part in parts:
        offsets.append(len(out.units))
        out.units += part.units
    for k in tgt_order:
        out.order += [offsets[k] + i for i in parts[k].order]
    return out


class Grammar:
    """Random sentence pairs from the synchronous grammar.

    Args:
        rng: a `random.Random` (seeded by the caller, so corpora repeat).
        p_mod: chance that a noun phrase takes a modifier (a PP or a relative clause); it
            shrinks with depth, so the recursion always ends.
        p_and: chance of one more coordinated clause ("y ...").
        verb_final: source verbs follow their object (S O V [PP] -> S V O [PP]), and take
            one form for both numbers (the singular's): English must find the number in the
            subject. False (the default): the same order on both sides, verbs agree.
    """

    def __init__(self, rng: random.Random, p_mod: float = 0.35, p_and: float = 0.25,
                 verb_final: bool = False):
        self.rng, self.p_mod, self.p_and = rng, p_mod, p_and
        self.verb_final = verb_final

    def sentence(self) -> Phrase:
        s = self.clause(0)
        while self.rng.random() < self.p_and:  # coordination: S -> S y S
            s.add(_word("y", "and")).add(self.clause(1))
        return s

    def clause(self, depth: int) -> Phrase:
        number = self.rng.choice("sp")
        return self.noun_phrase(depth, number).add(self.verb_phrase(depth, number))

    def verb_phrase(self, depth: int, number: str) -> Phrase:
        r = self.rng
        k = 0 if number == "s" else 1
        if r.random() < 0.7:  # VP -> V_t NP
            verb = r.choice(TRANSITIVE)
            obj = self.noun_phrase(depth + 1, bare_ok=True)
        else:  # VP -> V_i
            verb = r.choice(INTRANSITIVE)
            obj = Phrase()
        pp = self.prep_phrase(depth + 1) if r.random() < self.p_mod / (1 + depth) else Phrase()
        if self.verb_final:  # source: [NP] V [PP]; target: V [NP] [PP]; one verb form
            return _reorder([obj, _word(verb[0], verb[2 + k]), pp], [1, 0, 2])
        return _word(verb[k], verb[2 + k]).add(obj).add(pp)

    def prep_phrase(self, depth: int) -> Phrase:
        es, en = self.rng.choice(PREPOSITIONS)
        np_ = self.noun_phrase(depth)
        if es == "de" and np_.units[0][0] == "el":  # contraction: de + el -> del
            np_.units[0] = ("del", ("of", "the"))
            return np_
        return _word(es, en).add(np_)

    def noun_phrase(self, depth: int, number: str | None = None, bare_ok: bool = False) -> Phrase:
        r = self.rng
        number = number or r.choice("sp")
        sg_es, pl_es, gender, sg_en, pl_en, mass = r.choice(NOUNS)
        form = (0 if gender == "m" else 1) + (0 if number == "s" else 2)
        np_ = Phrase()
        bare = bare_ok and (mass or number == "p") and r.random() < 0.3  # "tiene buena comida"
        if not bare:
            forms, en = r.choice(DETERMINERS)
            np_.add(_word(forms[form], en[0 if number == "s" else 1]))
        if r.random() < 0.15:  # Adj_pre: same place on both sides ("buena comida")
            forms, en, _ = r.choice([a for a in ADJECTIVES if a[2] == "pre"])
            np_.add(_word(forms[form], en))
        noun = _word(sg_es if number == "s" else pl_es, sg_en if number == "s" else pl_en)
        # Adj_post: source ... N Adj; target ... Adj N  (the swap)
        if r.random() < 0.45:
            forms, en, _ = r.choice([a for a in ADJECTIVES if a[2] == "post"])
            adj = _word(forms[form], en)
            n = len(np_.units)
            np_.units += noun.units + adj.units
            np_.order += [n + 1, n]
        else:
            np_.add(noun)
        if r.random() < self.p_mod / (1 + depth):
            if r.random() < 0.5:  # NP -> NP PP
                np_.add(self.prep_phrase(depth + 1))
            else:  # NP -> NP que VP (a subject relative clause)
                np_.add(_word("que", "that")).add(self.verb_phrase(depth + 1, number))
        return np_


@dataclass(frozen=True)
class Pair:
    """One sentence pair with its word alignment.

    src, tgt: the two sentences as token lists.
    align: for each source position i, the target positions of its translation (a tuple).
    """

    src: tuple[str, ...]
    tgt: tuple[str, ...]
    align: tuple[tuple[int, ...], ...]

    @classmethod
    def from_phrase(cls, phrase: Phrase) -> "Pair":
        tgt, where = [], {}
        for i in phrase.order:
            words = phrase.units[i][1]
            where[i] = tuple(range(len(tgt), len(tgt) + len(words)))
            tgt += words
        src = tuple(u[0] for u in phrase.units)
        return cls(src, tuple(tgt), tuple(where[i] for i in range(len(src))))

    def __str__(self) -> str:
        return f"{' '.join(self.src)}  ->  {' '.join(self.tgt)}"


@dataclass
class Corpus:
    """Three disjoint splits of sentence pairs.

    train:  the grammar's natural mix, mostly short sentences (3..max_len words);
    test:   spread evenly over min_test_len..max_len words, so longer than train on average;
    longer: longer than any training sentence (max_len+1..max_len+extra words), to see
            whether a model can go beyond the lengths it was trained on.
    """

    train: list[Pair]
    test: list[Pair]
    longer: list[Pair] = field(default_factory=list)

    def __repr__(self) -> str:
        def span(ps):
            if not ps:
                return "0 pairs"
            lens = [len(p.src) for p in ps]
            mean = sum(lens) / len(lens)
            return f"{len(ps)} pairs, {min(lens)}-{max(lens)} words (mean {mean:.1f})"
        return f"Corpus(train: {span(self.train)}; test: {span(self.test)}; " \
               f"longer: {span(self.longer)})"


PATIENCE = 5000  # sampling gives up after this many useless sentences in a row


def _spread(grammar: Grammar, n: int, lo: int, hi: int, taken: set) -> list[Pair]:
    """n new pairs whose source lengths are spread evenly over lo..hi (rejection sampling)."""
    lengths = list(range(lo, hi + 1))
    want = {L: n // len(lengths) + (i < n % len(lengths)) for i, L in enumerate(lengths)}
    out: dict[tuple[str, ...], Pair] = {}
    misses = 0
    while len(out) < n and misses < PATIENCE:
        pair = Pair.from_phrase(grammar.sentence())
        if want.get(len(pair.src), 0) > 0 and pair.src not in out and pair.src not in taken:
            want[len(pair.src)] -= 1
            out[pair.src] = pair
            misses = 0
        else:
            misses += 1
    return list(out.values())


def make_corpus(n_train: int, n_test: int, max_len: int = 24, min_test_len: int = 8,
                n_longer: int = 0, extra: int = 6, seed: int = 0,
                verb_final: bool = False) -> Corpus:
    """Sample a `Corpus`: `n_train` distinct pairs with source length <= max_len (as the
    grammar makes them: mostly short), `n_test` pairs spread evenly over the source lengths
    min_test_len..max_len, and `n_longer` pairs spread over max_len+1..max_len+extra.
    `verb_final` chooses the source word order (see `Grammar`).

    Raises ValueError when min_test_len is not in 3..max_len, or when the grammar cannot fill
    the splits (too many pairs asked for the lengths allowed).
    """
    if not 3 <= min_test_len <= max_len:
        raise ValueError(f"expected 3 <= min_test_len <= max_len, got {min_test_len}, {max_len}")
    rng = random.Random(seed)
    # long sentences are rare under the default probabilities: a richer grammar finds them
    short = Grammar(rng, verb_final=verb_final)
    long_ = Grammar(rng, p_mod=0.8, p_and=0.45, verb_final=verb_final)
    test = _spread(long_, n_test, min_test_len, max_len, set())
    longer = _spread(long_, n_longer, max_len + 1, max_len + extra, set())
    held_out = {p.src for p in test + longer}
    train: dict[tuple[str, ...], Pair] = {}
    misses = 0
    while len(train) < n_train and misses < PATIENCE:
        pair = Pair.from_phrase(short.sentence())
        if len(pair.src) <= max_len and pair.src not in held_out and pair.src not in train:
            train[pair.src] = pair
            misses = 0
        else:
            misses += 1
    if len(train) < n_train or len(test) < n_test or len(longer) < n_longer:
        raise ValueError(f"could not sample {n_train}/{n_test}/{n_longer} train/test/longer "
                         f"pairs (got {len(train)}/{len(test)}/{len(longer)}); allow longer "
                         "sentences or ask for fewer pairs")
    return Corpus(list(train.values()), test, longer)


# ----------------------------------------------------------------------------- tensors
def encode_pairs(pairs: list[Pair], src_vocab, tgt_vocab):
    """Pad a list of pairs into tensors.

    Returns a tuple (src, src_lengths, tgt_in, tgt_out):
    - src: LongTensor of shape (N, S), padded with src_vocab.pad_id
    - src_lengths: LongTensor of shape (N,)
    - tgt_in: LongTensor of shape (N, T): <bos> y_1 ... y_{T-1}, padded (the decoder's inputs)
    - tgt_out: LongTensor of shape (N, T): y_1 ... y_{T-1} <eos>, padded (what it must predict)
    where N = number of pairs, S = longest source, T = longest target + 1.
    """
    src = [torch.tensor(src_vocab.encode(p.src)) for p in pairs]
    tgt = [torch.tensor(tgt_vocab.encode(p.tgt, add_bos=True, add_eos=True)) for p in pairs]
    lengths = torch.tensor([len(s) for s in src])
    src = pad_sequence(src, batch_first=True, padding_value=src_vocab.pad_id)  # (N, S)
    tgt = pad_sequence(tgt, batch_first=True, padding_value=tgt_vocab.pad_id)  # (N, T+1)
    return src, lengths, tgt[:, :-1], tgt[:, 1:]


def batches(pairs: list[Pair], src_vocab, tgt_vocab, batch_size: int,
            shuffle: bool = True, seed: int = 0):
    """A zero-argument callable for `rnn_lib.training.train`: each call returns a freshly
    shuffled list of padded batches (see `encode_pairs`). Pairs of similar source length share
    a batch (`rnn_lib.batching.BucketBatchSampler`, pools of 50 batches), so little compute
    goes to padding; shuffle=False gives one fixed order, sorted by length."""
    sampler = BucketBatchSampler([len(p.src) for p in pairs], batch_size, shuffle=shuffle,
                                 seed=seed)

    def epoch():
        return [encode_pairs([pairs[i] for i in idx], src_vocab, tgt_vocab)
                for idx in sampler.batches()]

    return epoch


# ----------------------------------------------------------------------------- evaluation
def translate_pairs(model, pairs: list[Pair], src_vocab, tgt_vocab, device=None,
                    beam_size: int = 1, batch_size: int = 256) -> list[str]:
    """Translate the source side of `pairs` with `rnn_lib.seq2seq.translate`; returns one
    target string (words joined by spaces) per pair, in order. The sources go to `device`,
    by default the model's."""
    from rnn_lib.seq2seq import translate
    from rnn_lib.training import model_device

    device = model_device(model) if device is None else device
    hyps = []
    for start in range(0, len(pairs), batch_size):
        src, lengths, _, _ = encode_pairs(pairs[start:start + batch_size], src_vocab, tgt_vocab)
        ids = translate(model, src.to(device), lengths, tgt_vocab.bos_id, tgt_vocab.eos_id,
                        beam_size=beam_size)
        hyps += [" ".join(tgt_vocab.decode(seq)) for seq in ids]
    return hyps


def bleu_by_length(pairs: list[Pair], hyps: list[str], edges: list[int]) -> dict[str, float]:
    """Corpus BLEU (sacrebleu, via `rnn_lib.metrics.bleu`) of each source-length bucket.

    `edges` = [a, b, c] gives buckets a..b-1 and b..c-1; returns {"a-(b-1)": bleu, ...},
    leaving out empty buckets.
    """
    from rnn_lib.metrics import bleu

    out = {}
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        idx = [i for i, p in enumerate(pairs) if lo <= len(p.src) < hi]
        if idx:
            out[f"{lo}-{hi - 1}"] = bleu([hyps[i] for i in idx],
                                         [" ".join(pairs[i].tgt) for i in idx])
    return out
