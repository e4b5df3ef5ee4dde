"""Tests for rnn_lib.metrics: BLEU and chrF through sacrebleu, exact match."""

import pytest
import sacrebleu

from rnn_lib.metrics import bleu, exact_match, sentence_bleu

HYP = ["a red circle above a blue square", "a green triangle left of a red square"]
REF = ["a red circle above a blue square", "a green square left of a red triangle"]


def test_bleu_matches_sacrebleu_and_bounds():
    assert bleu(REF, REF) == pytest.approx(100.0)
    assert bleu(HYP, REF) == pytest.approx(sacrebleu.corpus_bleu(HYP, [REF]).score)
    assert 0.0 < bleu(HYP, REF) < 100.0
    assert bleu(["x y z w"], ["a b c d"]) == pytest.approx(0.0)


def test_bleu_is_a_corpus_score_not_a_mean_of_sentences():
    mean_sentence = sum(sentence_bleu(h, r) for h, r in zip(HYP, REF, strict=True)) / len(HYP)
    assert bleu(HYP, REF) != pytest.approx(mean_sentence)


def test_multiple_references_take_the_best_match():
    refs = [["a blue square below a red circle", "a red circle above a blue square"],
            ["a red square right of a green triangle"]]  # lists may differ in length
    hyps = ["a red circle above a blue square", "a red square right of a green triangle"]
    assert bleu(hyps, refs) == pytest.approx(100.0)
    assert exact_match(hyps, refs) == 1.0
    assert bleu(hyps, [r[0] for r in refs]) < 100.0  # one reference only: the first differs


def test_exact_match():
    assert exact_match(HYP, REF) == 0.5
    assert exact_match(["  a  red circle "], ["a red circle"]) == 1.0  # whitespace only
    assert exact_match(["a Red circle"], ["a red circle"]) == 0.0  # case counts
    assert exact_match([], []) == 0.0


def test_errors():
    with pytest.raises(ValueError, match="as many references as hypotheses"):
        bleu(HYP, REF[:1])
    with pytest.raises(ValueError, match="single string"):
        exact_match("a red circle", "a red circle")
    with pytest.raises(ValueError, match="at least one reference"):
        bleu(["a"], [[]])
