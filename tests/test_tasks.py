"""Tests for rnn_lib.tasks: shapes, labels checked against a reference, seeded repeatability."""

import pytest
import torch

from rnn_lib.tasks import (
    TaskError,
    adding_problem,
    anbn_sample,
    encode_strings,
    first_token_recall,
)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_first_token_recall_shapes_marker_and_label_is_first_symbol():
    x, y = first_token_recall(32, 10, num_symbols=3, generator=gen())
    assert x.shape == (32, 10, 4) and x.dtype == torch.float32
    assert y.shape == (32,) and y.dtype == torch.long
    symbols, marker = x[..., :3], x[..., 3]
    assert torch.equal(symbols.sum(-1), torch.ones(32, 10))  # one-hot at every step
    assert torch.equal(symbols[:, 0].argmax(-1), y)
    expected_marker = torch.zeros(32, 10)
    expected_marker[:, 0] = 1
    assert torch.equal(marker, expected_marker)  # only step 0 is marked
    assert set(symbols[:, 1:].argmax(-1).flatten().tolist()) == {0, 1, 2}  # same alphabet
    assert set(y.tolist()) == {0, 1, 2}


def test_first_token_recall_classes_are_balanced_enough():
    _, y = first_token_recall(4000, 2, num_symbols=4, generator=gen())
    counts = torch.bincount(y, minlength=4).float() / 4000
    assert torch.allclose(counts, torch.full((4,), 0.25), atol=0.03)


def test_adding_problem_target_is_sum_of_marked_numbers():
    x, y = adding_problem(64, 21, generator=gen(3))
    assert x.shape == (64, 21, 2) and y.shape == (64,)
    markers = x[..., 1]
    assert torch.equal(markers.sum(1), torch.full((64,), 2.0))  # exactly two marks
    first, second = markers[:, :10], markers[:, 10:]
    assert torch.equal(first.sum(1), torch.ones(64))  # one mark in each half
    assert torch.equal(second.sum(1), torch.ones(64))
    expected = (x[..., 0] * markers).sum(1)
    torch.testing.assert_close(y, expected)
    assert bool(((x[..., 0] >= 0) & (x[..., 0] < 1)).all())


@pytest.mark.parametrize("task", [first_token_recall, adding_problem])
def test_generators_repeat_with_a_seed_and_differ_without(task):
    x1, y1 = task(16, 12, generator=gen(7))
    x2, y2 = task(16, 12, generator=gen(7))
    x3, _ = task(16, 12, generator=gen(8))
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(x1, x3)


def is_anbn(s: str) -> bool:
    """True when `s` is a^n b^n for some n >= 1: the reference the labels are checked against."""
    n = len(s) // 2
    return n >= 1 and len(s) == 2 * n and s == "a" * n + "b" * n



def test_is_anbn_reference():
    assert is_anbn("ab") and is_anbn("aaabbb")
    for s in ["", "a", "b", "ba", "aab", "abb", "abab", "aabbb", "aabab", "bbaa"]:
        assert not is_anbn(s), s


def test_anbn_sample_labels_match_reference_and_negatives_are_near_misses():
    ns = list(range(1, 30)) * 5
    strings, labels = anbn_sample(ns, generator=gen(1))
    assert len(strings) == 2 * len(ns) and labels.shape == (2 * len(ns),)
    assert labels.tolist() == [int(is_anbn(s)) for s in strings]
    assert labels.sum().item() == len(ns)  # balanced: one positive, one negative per n
    for n, neg in zip(ns, strings[1::2], strict=True):
        a, b = neg.count("a"), neg.count("b")
        assert a >= 1 and b >= 1 and set(neg) <= {"a", "b"}
        assert abs(a - n) <= 2 and abs(b - n) <= 2  # close to a^n b^n: counting is needed
    kinds = {"order" if s.count("a") == s.count("b") else "count" for s in strings[1::2]}
    assert kinds == {"order", "count"}


def test_anbn_sample_is_seeded():
    assert anbn_sample(range(1, 20), generator=gen(4)) [0] == anbn_sample(
        range(1, 20), generator=gen(4)
    )[0]
    with pytest.raises(TaskError, match="expected n"):
        anbn_sample([3, 0])


def test_encode_strings_one_hot_padding_and_lengths():
    x, lengths = encode_strings(["ab", "aabbb", "b"])
    assert x.shape == (3, 5, 2) and lengths.tolist() == [2, 5, 1]
    assert x[0].tolist() == [[1, 0], [0, 1], [0, 0], [0, 0], [0, 0]]
    assert x[1].argmax(-1).tolist() == [0, 0, 1, 1, 1]
    assert x[2, 0].tolist() == [0, 1] and x[2, 1:].sum().item() == 0
    with pytest.raises(TaskError, match="expected symbols"):
        encode_strings(["abc"])
    with pytest.raises(TaskError, match="expected non-empty"):
        encode_strings(["ab", ""])


@pytest.mark.parametrize(
    "call",
    [
        lambda: first_token_recall(0, 10),
        lambda: first_token_recall(4, 1),
        lambda: first_token_recall(4, 10, num_symbols=1),
        lambda: adding_problem(4, 1),
    ],
)
def test_bad_arguments_raise_task_error(call):
    with pytest.raises(TaskError, match="expected"):
        call()
