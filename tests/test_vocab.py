"""rnn_lib.vocab: ids are stable, round trips work, mistakes are named."""

import pytest
import torch

from rnn_lib.vocab import Vocab


def test_build_orders_specials_then_frequency():
    v = Vocab.build([["b", "a", "a"], ["c", "a", "b"]])
    assert v.itos == ["<pad>", "<unk>", "<bos>", "<eos>", "a", "b", "c"]
    assert (v.pad_id, v.unk_id, v.bos_id, v.eos_id) == (0, 1, 2, 3)
    assert len(v) == 7 and "a" in v and "z" not in v


def test_encode_decode_round_trip():
    v = Vocab.build(["the dog ate".split()])
    ids = v.encode("the dog ate".split(), add_bos=True, add_eos=True)
    assert ids[0] == v.bos_id and ids[-1] == v.eos_id
    assert v.decode(ids) == ["the", "dog", "ate"]
    assert v.decode(torch.tensor(ids + [v.stoi["dog"]])) == ["the", "dog", "ate"]  # stops at eos
    assert v.decode(ids, strip_specials=False)[0] == "<bos>"
    assert v.encode(["cat"]) == [v.unk_id]


def test_character_vocabulary_without_specials():
    v = Vocab.build(["hello"], specials=())
    assert v.itos == ["l", "h", "e", "o"]
    assert v.pad_id is None
    assert "".join(v.decode(v.encode("hole"))) == "hole"
    with pytest.raises(KeyError, match="'z' is not in the vocabulary"):
        v.encode("z")
    with pytest.raises(ValueError, match="no <eos> token"):
        v.encode("he", add_eos=True)


def test_min_freq_and_duplicates():
    v = Vocab.build([["a", "a", "b"]], min_freq=2)
    assert "b" not in v and "a" in v
    with pytest.raises(ValueError, match="distinct tokens"):
        Vocab(["a", "a"])
