"""The synthetic parallel corpus: alignment, reordering, agreement, splits and tensors."""

import random

import pytest
import torch

from rnn_lib import translation
from rnn_lib.lexicon import (
    ADJECTIVES,
    DETERMINERS,
    INTRANSITIVE,
    NOUNS,
    TRANSITIVE,
    lexicon,
    word_classes,
)
from rnn_lib.translation import (
    Grammar,
    Pair,
    _word,
    batches,
    bleu_by_length,
    encode_pairs,
    make_corpus,
)
from rnn_lib.vocab import Vocab


@pytest.fixture(scope="module")
def corpus():
    return make_corpus(600, 120, max_len=16, min_test_len=8, n_longer=30, seed=1)


@pytest.fixture(scope="module")
def vocabs(corpus):
    return (Vocab.build(p.src for p in corpus.train), Vocab.build(p.tgt for p in corpus.train))


NOUN_EN = {f: g for sg, pl, g, *_ in NOUNS for f in (sg, pl)}
POST_ADJ = {f for forms, _, pos in ADJECTIVES if pos == "post" for f in forms}


def test_every_source_word_maps_to_its_translation(corpus):
    lex = lexicon()
    for pair in corpus.train + corpus.test:
        assert len(pair.align) == len(pair.src)
        for i, word in enumerate(pair.src):
            assert tuple(pair.tgt[j] for j in pair.align[i]) == lex[word], str(pair)
        # the alignment covers every target position exactly once
        assert sorted(j for js in pair.align for j in js) == list(range(len(pair.tgt)))


def test_the_example_sentences_translate_word_by_word():
    lex = lexicon()
    words = "este restaurante tiene buena comida".split()
    assert " ".join(w for s in words for w in lex[s]) == "this restaurant has good food"
    # and the grammar's reordering turns "la casa roja" into "the red house"
    phrase = _word("la", "the")
    n = len(phrase.units)
    phrase.units += _word("casa", "house").units + _word("roja", "red").units
    phrase.order += [n + 1, n]
    pair = Pair.from_phrase(phrase)
    assert pair.tgt == ("the", "red", "house") and pair.align == ((0,), (2,), (1,))


def test_adjectives_after_the_noun_move_before_it(corpus):
    swaps = 0
    for pair in corpus.train:
        for i in range(len(pair.src) - 1):
            if pair.src[i] in NOUN_EN and pair.src[i + 1] in POST_ADJ:
                (noun_at,), (adj_at,) = pair.align[i], pair.align[i + 1]
                assert adj_at == noun_at - 1, str(pair)  # English: adjective right before
                swaps += 1
    assert swaps > 100  # the corpus really exercises the swap


def test_determiners_agree_with_their_noun(corpus):
    gender_number = {}
    for forms, _ in DETERMINERS:
        for k, f in enumerate(forms):
            gender_number.setdefault(f, set()).add(k)
    noun_form = {sg: 0 for sg, *_ in NOUNS} | {pl: 2 for _, pl, *_ in NOUNS}
    checked = 0
    for pair in corpus.train:
        for i, w in enumerate(pair.src[:-1]):
            nxt = pair.src[i + 1]
            if w in gender_number and nxt in NOUN_EN:
                k = noun_form[nxt] + (NOUN_EN[nxt] == "f")
                assert k in gender_number[w], str(pair)
                checked += 1
    assert checked > 100


def test_contraction_del_gives_two_target_words(corpus):
    pairs = [p for p in corpus.train if "del" in p.src]
    assert pairs, "expected some sentences with the contraction del"
    for p in pairs:
        assert len(p.tgt) == len(p.src) + p.src.count("del")
    assert not any(p.src[i:i + 2] == ("de", "el") for p in corpus.train for i in range(len(p.src)))


def test_test_split_is_longer_than_train_and_disjoint(corpus):
    train_len = [len(p.src) for p in corpus.train]
    test_len = [len(p.src) for p in corpus.test]
    longer_len = [len(p.src) for p in corpus.longer]
    assert (len(corpus.train), len(corpus.test), len(corpus.longer)) == (600, 120, 30)
    assert min(train_len) == 3 and max(train_len) <= 16
    assert min(test_len) == 8 and max(test_len) == 16
    for L in range(8, 17):  # spread evenly over the test lengths
        assert test_len.count(L) in (13, 14)
    assert sum(test_len) / len(test_len) > sum(train_len) / len(train_len) + 2
    assert min(longer_len) == 17 and max(longer_len) == 22  # beyond every training sentence
    splits = [{p.src for p in ps} for ps in (corpus.train, corpus.test, corpus.longer)]
    assert not (splits[0] & splits[1] or splits[0] & splits[2] or splits[1] & splits[2])
    assert len(splits[0]) == len(corpus.train)  # no duplicates


def test_same_seed_same_corpus():
    a = make_corpus(50, 10, seed=3)
    b = make_corpus(50, 10, seed=3)
    c = make_corpus(50, 10, seed=4)
    assert a.train == b.train and a.test == b.test
    assert a.train != c.train
    assert "train: 50 pairs" in repr(a) and "longer: 0 pairs" in repr(a)


def test_grammar_terminates_and_varies():
    g = Grammar(random.Random(0))
    lengths = {len(Pair.from_phrase(g.sentence()).src) for _ in range(500)}
    assert min(lengths) == 3 and max(lengths) > 15


def test_bad_lengths_are_rejected(monkeypatch):
    with pytest.raises(ValueError, match="min_test_len <= max_len"):
        make_corpus(10, 10, min_test_len=12, max_len=10)
    monkeypatch.setattr(translation, "PATIENCE", 300)  # give up sooner, to keep the test fast
    with pytest.raises(ValueError, match="could not sample"):
        make_corpus(1000, 1, max_len=3, min_test_len=3)  # fewer than 1000 3-word sentences


def test_encode_pairs_pads_and_shifts(corpus, vocabs):
    sv, tv = vocabs
    pairs = corpus.train[:5]
    src, lengths, tgt_in, tgt_out = encode_pairs(pairs, sv, tv)
    assert src.shape == (5, max(len(p.src) for p in pairs))
    assert tgt_in.shape == tgt_out.shape == (5, max(len(p.tgt) for p in pairs) + 1)
    for n, p in enumerate(pairs):
        L, T = len(p.src), len(p.tgt)
        assert lengths[n] == L
        assert sv.decode(src[n, :L]) == list(p.src) and torch.all(src[n, L:] == sv.pad_id)
        assert tgt_in[n, 0] == tv.bos_id and tv.decode(tgt_in[n, 1:T + 1]) == list(p.tgt)
        assert tv.decode(tgt_out[n, :T]) == list(p.tgt) and tgt_out[n, T] == tv.eos_id
        assert torch.all(tgt_out[n, T + 1:] == tv.pad_id)


def test_batches_cover_every_pair_once_per_epoch(corpus, vocabs):
    sv, tv = vocabs
    epoch = batches(corpus.train, sv, tv, batch_size=32, seed=0)
    first, second = epoch(), epoch()
    for bs in (first, second):
        assert sum(b[0].shape[0] for b in bs) == len(corpus.train)
        seen = sorted(tuple(sv.decode(s[:n])) for b in bs for s, n in zip(*b[:2], strict=True))
        assert seen == sorted(p.src for p in corpus.train)
    assert not torch.equal(first[0][0], second[0][0]) or len(first) == 1  # reshuffled


def test_bleu_by_length_buckets(corpus):
    refs = [" ".join(p.tgt) for p in corpus.test]
    scores = bleu_by_length(corpus.test, refs, [8, 13, 17, 30])
    assert scores == pytest.approx({"8-12": 100.0, "13-16": 100.0})  # empty bucket left out
    wrong = ["the the the" for _ in refs]
    assert all(s < 5 for s in bleu_by_length(corpus.test, wrong, [8, 13, 17]).values())


@pytest.fixture(scope="module")
def verb_final():
    return make_corpus(600, 120, max_len=16, min_test_len=8, seed=1, verb_final=True)


VERB_EN = {sg: (en_sg, en_pl) for sg, _, en_sg, en_pl in TRANSITIVE + INTRANSITIVE}


def test_verb_final_source_puts_the_verb_after_its_object(verb_final):
    lex = lexicon()
    moved = 0
    for pair in verb_final.train + verb_final.test:
        assert sorted(j for js in pair.align for j in js) == list(range(len(pair.tgt)))
        for i, word in enumerate(pair.src):
            got = tuple(pair.tgt[j] for j in pair.align[i])
            if word in VERB_EN:  # one source form; English picks the number
                assert len(got) == 1 and got[0] in VERB_EN[word], str(pair)
            else:
                assert got == lex[word], str(pair)
        for i, word in enumerate(pair.src):
            if word in VERB_EN and i > 0 and pair.src[i - 1] in set(NOUN_EN) | POST_ADJ:
                # the word before a verb (the end of its object or subject) comes after it
                # in English, unless it ends the subject of an intransitive verb
                if pair.align[i - 1][0] > pair.align[i][0]:
                    moved += 1
    assert moved > 100  # the verb really moves over its object, often
    assert not any(w in pair.src for pair in verb_final.train for w in
                   {pl for _, pl, _, _ in TRANSITIVE + INTRANSITIVE})  # no plural verb forms


def test_verb_final_english_verb_agrees_with_the_subject():
    g = Grammar(random.Random(5), verb_final=True, p_mod=0.0, p_and=0.0)
    for _ in range(200):
        pair = Pair.from_phrase(g.sentence())
        # a simple clause: the subject NP, then (object NP) verb; English: subject verb object
        verb_at = next(i for i, w in enumerate(pair.src) if w in VERB_EN)
        noun_at = next(i for i, w in enumerate(pair.src) if w in NOUN_EN)  # the subject's noun
        plural = pair.src[noun_at] not in {sg for sg, *_ in NOUNS}
        (j,), (k,) = pair.align[verb_at], pair.align[noun_at]
        assert pair.tgt[j] == VERB_EN[pair.src[verb_at]][plural], str(pair)
        assert j > k and all(j < pair.align[i][0] for i in range(noun_at + 1, verb_at)
                             if pair.src[i] not in POST_ADJ), str(pair)


def test_verb_final_is_an_option_and_the_default_corpus_is_unchanged(verb_final):
    assert len(verb_final.train) == 600 and len(verb_final.test) == 120
    assert {len(p.src) for p in verb_final.test} == set(range(8, 17))
    # lab 3 trains on the default corpus: the option must not change what it gets
    default = make_corpus(50, 10, seed=3)
    assert default.train == make_corpus(50, 10, seed=3, verb_final=False).train
    assert str(default.train[0]) == ("la ciudad con mi libro trabaja sin mi niño  ->  "
                                     "the city with my book works without my boy")
    assert str(make_corpus(50, 10, seed=3, verb_final=True).train[1]) == (
        "los panes nuevos un amigo limpio que unos panes grandes quiere vende  ->  "
        "the new breads sell a clean friend that wants some big breads")


def test_word_classes_cover_the_lexicon():
    classes = word_classes()
    assert set(classes) == set(lexicon())
    assert classes["perros"] == "noun" and classes["roja"] == "adjective"
    assert classes["ve"] == classes["ven"] == "verb" and classes["los"] == "determiner"
    assert classes["con"] == "preposition" and classes["del"] == "function word"
