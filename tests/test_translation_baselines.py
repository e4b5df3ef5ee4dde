"""The word-by-word baseline: a dictionary read off aligned pairs, and monotone substitution."""

import pytest

from rnn_lib.lexicon import lexicon
from rnn_lib.metrics import bleu
from rnn_lib.translation import Pair, make_corpus
from rnn_lib.translation_baselines import learn_lexicon, word_by_word


def test_learn_lexicon_takes_the_most_frequent_aligned_translation():
    pairs = [Pair(("a", "b"), ("x", "y", "z"), ((0,), (1, 2))),
             Pair(("a",), ("w",), ((0,),)),
             Pair(("b", "a"), ("y", "z", "x"), ((1, 2), (0,)))]
    assert learn_lexicon(pairs) == {"a": ("x",), "b": ("y", "z")}
    with pytest.raises(ValueError, match="one alignment entry per source word"):
        learn_lexicon([Pair(("a", "b"), ("x",), ((0,),))])


def test_word_by_word_keeps_source_order_and_drops_unknown_words():
    lex = {"la": ("the",), "casa": ("house",), "roja": ("red",), "del": ("of", "the")}
    assert word_by_word([("la", "casa", "roja"), ("del", "??", "casa")], lex) == \
        ["the house red", "of the house"]


def test_default_corpus_is_nearly_word_substitution_verb_final_is_not():
    # on the default corpus the learned dictionary is the grammar's own, and substitution
    # scores high (only adjective swaps break it); verb-final order breaks it far more
    scores = {}
    for verb_final in (False, True):
        c = make_corpus(800, 150, max_len=16, seed=2, verb_final=verb_final)
        lex = learn_lexicon(c.train)
        if not verb_final:
            assert all(lex[w] == lexicon()[w] for w in lex)
        refs = [" ".join(p.tgt) for p in c.test]
        scores[verb_final] = bleu(word_by_word([p.src for p in c.test], lex), refs)
        # word substitution is perfect on the words themselves: every reference word is found
        hyp = word_by_word([p.src for p in c.test], lex)
        if not verb_final:
            assert all(sorted(h.split()) == sorted(r.split())
                       for h, r in zip(hyp, refs, strict=True))
    assert scores[False] > 55 and scores[True] < scores[False] - 15
