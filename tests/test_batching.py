"""Tests for rnn_lib.batching: round trips through torch.nn.utils.rnn and the bucket sampler."""

import pytest
import torch
from torch.nn.utils.rnn import PackedSequence

from rnn_lib.batching import (
    BucketBatchSampler,
    batch_loader,
    collate,
    encode_examples,
    pack_batch,
    pack_padded,
    pad_batch,
    padding_fraction,
    plot_padded_and_packed,
    unpack,
)


def make_seqs(lengths, features=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    shape = (lambda n: (n,)) if features is None else (lambda n: (n, features))
    return [torch.randn(*shape(n), generator=g) for n in lengths]


def unpad(padded, lengths):
    """The sequences of a padded (N, T, *) batch: sequence i is padded[i, :lengths[i]]."""
    return [row[: int(n)] for row, n in zip(padded, lengths, strict=True)]


@pytest.mark.parametrize("features", [None, 3])
def test_pad_then_unpad_gives_the_inputs(features):
    seqs = make_seqs([3, 5, 1, 4], features)
    padded, lengths = pad_batch(seqs, pad_value=-1.0)
    assert padded.shape[:2] == (4, 5) and lengths.tolist() == [3, 5, 1, 4]
    assert (padded[2, 1:] == -1).all()
    for a, b in zip(unpad(padded, lengths), seqs, strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_pack_and_unpack_round_trip(enforce_sorted):
    lengths = [5, 4, 3, 1] if enforce_sorted else [3, 5, 1, 4]
    seqs = make_seqs(lengths, 2)
    packed = pack_batch(seqs, enforce_sorted=enforce_sorted)
    assert isinstance(packed, PackedSequence)
    assert packed.data.shape == (sum(lengths), 2)
    assert packed.batch_sizes.tolist() == [4, 3, 3, 2, 1]  # sequences still running per step
    padded, got_lengths = unpack(packed)
    assert got_lengths.tolist() == lengths  # the original order comes back
    for a, b in zip(unpad(padded, got_lengths), seqs, strict=True):
        assert torch.equal(a, b)
    padded2, _ = pad_batch(seqs)
    again, _ = unpack(pack_padded(padded2, lengths, enforce_sorted=enforce_sorted),
                      total_length=7)
    assert again.shape == (4, 7, 2) and torch.equal(again[:, :5], padded2)


def test_unsorted_input_needs_enforce_sorted_false():
    with pytest.raises(RuntimeError):
        pack_batch(make_seqs([2, 4]), enforce_sorted=True)


def test_bad_lengths_are_reported():
    padded, _ = pad_batch(make_seqs([2, 3]))
    with pytest.raises(ValueError, match="expected lengths in 1..3"):
        pack_padded(padded, [0, 3])
    with pytest.raises(ValueError, match="shape"):
        pack_padded(padded, [2, 3, 1])
    with pytest.raises(ValueError, match="empty"):
        pad_batch([])


def test_collate_pads_tokens_and_targets():
    batch = collate([([4, 5, 6], [1, 2, 3]), ([7], [4])], pad_id=0)
    assert batch.tokens.tolist() == [[4, 5, 6], [7, 0, 0]]
    assert batch.targets.tolist() == [[1, 2, 3], [4, -100, -100]]
    assert batch.lengths.tolist() == [3, 1]
    labels = collate([([4, 5], 1), ([6], 0)])
    assert labels.targets.tolist() == [1, 0] and labels.tokens.shape == (2, 2)
    with pytest.raises(ValueError, match="one target per token"):
        collate([([4, 5], [1])])


def test_bucket_sampler_covers_every_index_once_and_groups_lengths():
    g = torch.Generator().manual_seed(0)
    lengths = torch.randint(1, 60, (1003,), generator=g).tolist()
    sampler = BucketBatchSampler(lengths, batch_size=16, pool_batches=20, seed=1)
    epochs = [list(sampler), list(sampler)]
    for batches in epochs:
        assert len(batches) == len(sampler)
        flat = sorted(i for b in batches for i in b)
        assert flat == list(range(len(lengths)))
        assert max(len(b) for b in batches) == 16
    assert epochs[0] != epochs[1]  # a new order every epoch
    random_batches = [list(range(i, min(i + 16, 1003))) for i in range(0, 1003, 16)]
    bucketed, unbucketed = (padding_fraction(lengths, epochs[0]),
                            padding_fraction(lengths, random_batches))
    assert bucketed < 0.1 < unbucketed  # ~3% padding against ~50%
    spreads = sorted(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in epochs[0])
    assert spreads[int(0.9 * len(spreads))] <= 4  # most batches: lengths within a few steps


def test_bucket_sampler_is_seeded_and_has_a_fixed_order_without_shuffle():
    lengths = [5, 1, 3, 2, 4, 1, 6]
    assert list(BucketBatchSampler(lengths, 2, seed=3)) == list(BucketBatchSampler(lengths, 2,
                                                                                     seed=3))
    fixed = BucketBatchSampler(lengths, 3, shuffle=False)
    assert list(fixed) == [[1, 5, 3], [2, 4, 0], [6]] and len(fixed) == 3
    with pytest.raises(ValueError, match="batch_size"):
        BucketBatchSampler(lengths, 0)


@pytest.mark.parametrize("by_length", [False, True])
def test_batch_loader_yields_every_example(by_length):
    examples = [(list(range(1, n + 1)), n % 2) for n in range(1, 40)]
    loader = batch_loader(examples, 8, by_length=by_length, seed=0)
    seen = []
    for batch in loader:
        for row, n in zip(batch.tokens, batch.lengths, strict=True):
            seen.append(int(n))
            assert row[:n].tolist() == list(range(1, int(n) + 1)) and (row[n:] == 0).all()
    assert sorted(seen) == list(range(1, 40))


def test_encode_examples():
    from rnn_lib.vocab import Vocab

    vocab = Vocab.build([["my", "dog", "ate"]], specials=("<pad>", "<unk>"))
    tags = {"POSS": 0, "NOUN": 1, "VERB": 2}
    got = encode_examples([(["my", "dog", "ate"], ["POSS", "NOUN", "VERB"]), (["dog"], 1)],
                          vocab, tags | {1: 1})
    assert got == [([2, 3, 4], [0, 1, 2]), ([3], 1)]


def test_plot_padded_and_packed_draws_the_packed_layout():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seqs = [[11, 12, 13], [21, 22, 23, 24, 25], [31]]
    left, right = plot_padded_and_packed(seqs)
    padded = left.get_images()[0].get_array()  # (N, T, 4) RGBA
    packed = right.get_images()[0].get_array()
    assert padded.shape[:2] == packed.shape[:2] == (3, 5)
    grey = padded[2, 4]  # seq 2 (length 1) is padding from step 2 on
    assert (padded[0, 3] == grey).all() and not (padded[0, 2] == grey).all()
    assert "6 of 15 cells padding" in left.get_title()
    # packed rows are longest first: seq 1, 0, 2; the column labels carry batch_sizes
    assert [t.get_text() for t in right.get_yticklabels()] == ["seq 1", "seq 0", "seq 2"]
    assert [t.get_text().split()[1] for t in right.get_xticklabels()] == ["3", "2", "2", "1", "1"]
    assert [t.get_text() for t in right.texts[:5]] == ["21", "22", "23", "24", "25"]
    assert len(left.texts) == len(right.texts) == 9  # one per real token
    plt.close(left.figure)
