"""Tests for rnn_lib.grammar: consistent tags and labels, seeding, exact bounds."""

import itertools
from collections import Counter, defaultdict

import pytest

from rnn_lib.grammar import ReviewGrammar, TaggedGrammar

# "w" is tagged X when "a" follows and Y when "b" follows; a left-to-right tagger guesses at
# "w" (right half the time), then is sure: (0.5 + 1) / 2 = 0.75.
TINY_CLASSES = {"WX": ("X", ("w",)), "WY": ("Y", ("w",)), "A": ("P", ("a",)),
                "B": ("Q", ("b",))}
TINY_RULES = {"S": [(0.5, ("WX", "A")), (0.5, ("WY", "B"))]}

# A small grammar with overlapping classes and several lengths, for brute force.
SMALL_CLASSES = {"D": ("DET", ("the", "a")), "N": ("NOUN", ("dog", "run", "fish")),
                 "V": ("VERB", ("run", "fish", "ate")), "P": ("PRT", ("up", ".")),
                 "E": ("END", ("."))}
SMALL_RULES = {"S": [(0.4, ("D", "N", "V", "E")), (0.3, ("N", "V", "P")), (0.2, ("V", "N")),
                     (0.1, ("N", "N", "V"))]}


def _every_sentence(grammar):
    """(template, words, probability) for every word sequence of every template."""
    for p, template in grammar.templates:
        word_lists = [grammar.classes[c][1] for c in template]
        for words in itertools.product(*word_lists):
            q = p
            for wl in word_lists:
                q /= len(wl)
            yield template, words, q


def brute_force_left(grammar):
    """Sum over every word sequence of every template, then the best guess per prefix."""
    mass = defaultdict(Counter)  # (prefix) -> tag -> probability
    for template, words, q in _every_sentence(grammar):
        for t in range(len(words)):
            mass[words[: t + 1]][grammar.classes[template[t]][0]] += q
    return sum(max(c.values()) for c in mass.values()) / grammar.mean_length()


def brute_force_word(grammar):
    """Every word of every sentence on its own: the best guess per word."""
    mass = defaultdict(Counter)  # word -> tag -> probability
    for template, words, q in _every_sentence(grammar):
        for c, w in zip(template, words, strict=True):
            mass[w][grammar.classes[c][0]] += q
    return sum(max(c.values()) for c in mass.values()) / grammar.mean_length()


def test_tiny_ceiling_by_hand():
    g = TaggedGrammar(TINY_CLASSES, TINY_RULES)
    assert g.bayes_accuracy("word") == pytest.approx(0.75)  # "w" is X or Y; a, b are sure
    assert g.bayes_accuracy("left") == pytest.approx(0.75)
    assert g.bayes_accuracy("full") == pytest.approx(1.0)


def test_left_ceiling_matches_brute_force_on_small_grammar():
    g = TaggedGrammar(SMALL_CLASSES, SMALL_RULES)
    exact = g.bayes_accuracy("left")
    assert exact == pytest.approx(brute_force_left(g), abs=1e-12)
    assert exact < 1.0
    assert g.bayes_accuracy("full") >= exact


def test_word_bound_matches_brute_force_and_is_below_left():
    g = TaggedGrammar(SMALL_CLASSES, SMALL_RULES)
    word = g.bayes_accuracy("word")
    assert word == pytest.approx(brute_force_word(g), abs=1e-12)
    assert word < g.bayes_accuracy("left") - 0.01  # here the left context does help
    course = TaggedGrammar()  # in the course grammar only the RIGHT context disambiguates
    assert course.bayes_accuracy("word") == pytest.approx(course.bayes_accuracy("left"))


def test_course_grammar_needs_right_context():
    g = TaggedGrammar()
    assert g.bayes_accuracy("full") == pytest.approx(1.0)  # unambiguous with the whole sentence
    assert 0.85 < g.bayes_accuracy("left") < 0.95


def test_tags_align_with_tokens_and_classes():
    g = TaggedGrammar()
    allowed = defaultdict(set)
    for tag, words in g.classes.values():
        for w in words:
            allowed[w].add(tag)
    for tokens, tags in g.sample(300, seed=1):
        assert len(tokens) == len(tags) and tokens[-1] == "." and tags[-1] == "PUNCT"
        assert all(tag in allowed[w] for w, tag in zip(tokens, tags, strict=True))


def test_ambiguous_words():
    amb = TaggedGrammar().ambiguous_words()
    assert amb["man"] == {"NOUN", "VERB"} and amb["old"] == {"ADJ", "NOUN"}
    assert amb["up"] == {"PRT", "PREP"} and "dog" not in amb and len(amb) == 15


def test_garden_path_tags_follow_the_right_context():
    g = TaggedGrammar()
    for tokens, tags in g.sample(500, seed=2):
        if tokens[1] in ("old", "young", "poor", "rich") and tokens[0] == "the":
            verb_next = tokens[3] in g.classes["VERB"][1] + g.classes["MOVE"][1]
            expected = ["ADJ", "NOUN"] if verb_next else ["NOUN", "VERB"]
            assert tags[1:3] == expected, (tokens, tags)


def test_sampling_is_seeded():
    g, r = TaggedGrammar(), ReviewGrammar()
    assert g.sample(50, seed=3) == g.sample(50, seed=3)
    assert g.sample(50, seed=3) != g.sample(50, seed=4)
    assert r.sample(50, seed=3) == r.sample(50, seed=3)
    assert r.sample(50, seed=3) != r.sample(50, seed=4)


def negation_rule(tokens, positive):
    """An independent reading of the rule: polarity of the clause after the last conjunction."""
    text = " ".join(tokens)
    last = text.replace(" and ", " | ").replace(" but ", " | ").split(" | ")[-1].split()
    adjective_positive = any(w in positive for w in last)
    return int(adjective_positive ^ ("not" in last))


def test_review_labels_follow_the_negation_rule():
    r = ReviewGrammar()
    samples = r.sample(2000, seed=5)
    for tokens, label in samples:
        assert label == negation_rule(tokens, r.positive) == r.label(tokens)
        if "at" in tokens:
            assert tokens[tokens.index("at") - 2] == "not"
    labels = Counter(label for _, label in samples)
    assert 0.4 < labels[1] / len(samples) < 0.6
    examples = {"the plot was not bad at all": 1, "the plot was very good": 1,
                "the plot was good but the cast was not good": 0,
                "the plot was not good and the cast was bad": 0,
                "the plot was not bad but the cast was dull": 0}
    for text, label in examples.items():
        assert r.label(text.split()) == label


def test_review_enumeration_is_the_distribution():
    r = ReviewGrammar(aspects=("plot", "cast"), positive=("good",), negative=("bad",))
    sentences = list(r.enumerate())
    assert sum(p for *_, p in sentences) == pytest.approx(1.0)
    assert all(label == r.label(t) for t, label, _ in sentences)
    # the same bag with both labels: "not" moved to the other clause
    a = "the plot was not good but the cast was good".split()
    b = "the plot was good but the cast was not good".split()
    assert Counter(a) == Counter(b) and (r.label(a), r.label(b)) == (1, 0)
    assert {tuple(a), tuple(b)} <= {t for t, *_ in sentences}


def test_bag_of_words_bound():
    # one clause only: the bag decides the label (it holds the adjective and "not")
    single = ReviewGrammar(p_single=1.0, p_and=0.0, p_but=0.0)
    assert single.bag_of_words_bound() == pytest.approx(1.0)
    # "but" only: swapping the clauses keeps the bag and flips the label: chance
    assert ReviewGrammar(p_single=0.0, p_and=0.0,
                         p_but=1.0).bag_of_words_bound() == pytest.approx(0.5)
    bound = ReviewGrammar().bag_of_words_bound()
    assert 0.6 < bound < 0.8


def test_bad_arguments():
    with pytest.raises(ValueError, match="expected view"):
        TaggedGrammar().bayes_accuracy("right")
    with pytest.raises(ValueError, match="summing to 1"):
        TaggedGrammar(TINY_CLASSES, {"S": [(0.5, ("WX", "A"))]})
    with pytest.raises(ValueError, match="p_single"):
        ReviewGrammar(p_single=0.5)
