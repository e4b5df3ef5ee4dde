"""Tests for rnn_lib.charlm: corpus and split, n-gram baselines, the char model, evaluation."""

import math

import pytest
import torch
import torch.nn.functional as F

from rnn_lib.charlm import (
    CarriedStateLoss,
    CharRNN,
    CharRNNConfig,
    NGramModel,
    StreamBatches,
    detach_state,
    evaluate,
    load_corpus,
    perplexity,
    split_text,
)
from rnn_lib.vocab import Vocab


def tiny_model(cell="lstm", V=7, H=5, L=2, embedding_dim=4, seed=0):
    torch.manual_seed(seed)
    return CharRNN(CharRNNConfig(V, H, L, embedding_dim=embedding_dim, cell=cell)).double()


# ----------------------------------------------------------------------------- corpus


def test_corpus_loads_offline_and_is_the_sorted_help_topics():
    from pydoc_data.topics import topics

    text = load_corpus()
    assert isinstance(text, str)
    assert 300_000 < len(text) < 1_000_000  # about 0.46 MB in CPython 3.11
    first = sorted(topics)[0]
    assert text.startswith(topics[first])
    assert text == "".join(topics[k] for k in sorted(topics))


def test_split_sizes_add_up_and_keep_order():
    text = load_corpus()
    train, val = split_text(text, val_fraction=0.1)
    assert len(train) + len(val) == len(text)
    assert train + val == text
    assert abs(len(val) - 0.1 * len(text)) <= 1
    tr, va = split_text("abcdefghij", 0.3)
    assert (tr, va) == ("abcdefg", "hij")


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1])
def test_split_rejects_bad_fractions(fraction):
    with pytest.raises(ValueError, match="val_fraction"):
        split_text("abcdefghij", fraction)


# ----------------------------------------------------------------------------- baselines


def test_unigram_cross_entropy_matches_hand_computation():
    # train "aaab": counts a=3, b=1, N=4, V=2, add-one: p(a) = 4/6, p(b) = 2/6
    uni = NGramModel(2, order=1, alpha=1.0).fit([0, 0, 0, 1])
    assert torch.allclose(uni.log_probs().exp(), torch.tensor([4 / 6, 2 / 6], dtype=torch.float64))
    # evaluate "bab": targets are "ab" (every character but the first)
    expected = -(math.log(4 / 6) + math.log(2 / 6)) / 2
    assert uni.cross_entropy([1, 0, 1]) == pytest.approx(expected, rel=1e-12)


def test_bigram_cross_entropy_matches_hand_computation():
    # train "aaab": pairs aa, aa, ab; count(a) = 3, count(b) = 0 (no successor)
    # p(a|a) = (2+1)/(3+2) = 3/5, p(b|a) = (1+1)/(3+2) = 2/5, p(.|b) = 1/2
    bi = NGramModel(2, order=2, alpha=1.0).fit([0, 0, 0, 1])
    probs = bi.log_probs().exp()
    assert torch.allclose(probs, torch.tensor([[0.6, 0.4], [0.5, 0.5]], dtype=torch.float64))
    # evaluate "aaba": pairs aa, ab, ba
    expected = -(math.log(0.6) + math.log(0.4) + math.log(0.5)) / 3
    assert bi.cross_entropy([0, 0, 1, 0]) == pytest.approx(expected, rel=1e-12)
    assert perplexity(bi.cross_entropy([0, 0, 1, 0])) == pytest.approx(math.exp(expected))


def test_bigram_beats_unigram_on_a_predictable_text():
    ids = [0, 1, 2] * 50  # "abcabc...": the next character is fixed by the current one
    uni = NGramModel(3, 1).fit(ids)
    bi = NGramModel(3, 2).fit(ids)
    assert uni.cross_entropy(ids) == pytest.approx(math.log(3), abs=1e-3)
    assert bi.cross_entropy(ids) < 0.05


def test_ngram_rejects_bad_arguments():
    with pytest.raises(ValueError, match="order"):
        NGramModel(3, order=3)
    with pytest.raises(ValueError, match="alpha"):
        NGramModel(3, alpha=0.0)
    with pytest.raises(ValueError, match="at least 2"):
        NGramModel(3).fit([1])


# ----------------------------------------------------------------------------- model


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("embedding_dim", [None, 4])
def test_model_shapes(cell, embedding_dim):
    model = tiny_model(cell, V=7, H=5, L=2, embedding_dim=embedding_dim)
    x = torch.randint(0, 7, (3, 11))
    logits, state = model(x)
    assert logits.shape == (3, 11, 7)
    states = state if cell == "lstm" else (state,)
    for s in states:
        assert s.shape == (2, 3, 5)  # (L, N, H)


def test_one_hot_input_equals_an_embedding_with_the_same_weights():
    one_hot = tiny_model(embedding_dim=None, V=7, H=5, L=1)
    embedded = CharRNN(CharRNNConfig(7, 5, 1, embedding_dim=7)).double()
    embedded.load_state_dict({**one_hot.state_dict(), "embed.weight": torch.eye(7).double()})
    x = torch.randint(0, 7, (2, 9))
    assert torch.allclose(one_hot(x)[0], embedded(x)[0])


def test_model_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\(N, T\)"):
        tiny_model()(torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="cell"):
        CharRNN(CharRNNConfig(5, cell="transformer"))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_carrying_the_state_equals_one_long_run(cell):
    model = tiny_model(cell)
    x = torch.randint(0, 7, (2, 12))
    full, _ = model(x)
    first, state = model(x[:, :5])
    second, _ = model(x[:, 5:], state)
    assert torch.allclose(torch.cat([first, second], 1), full, atol=1e-12)
    # without the state the second half is different: the state really carries information
    cold, _ = model(x[:, 5:])
    assert not torch.allclose(cold, second, atol=1e-6)


def test_detach_state_cuts_the_graph():
    model = tiny_model()
    _, (h, c) = model(torch.randint(0, 7, (1, 3)))
    assert h.requires_grad
    h2, c2 = detach_state((h, c))
    assert not h2.requires_grad and not c2.requires_grad and torch.equal(h2, h)
    assert detach_state(None) is None


# ----------------------------------------------------------------------------- batches and loss


def test_stream_batches_are_consecutive_windows_with_shifted_targets():
    ids = torch.arange(200)
    batches = StreamBatches(ids, batch_size=3, seq_len=7, seed=1)
    windows = list(batches)
    assert len(windows) == len(batches) > 5
    for i, (x, y, index) in enumerate(windows):
        assert x.shape == y.shape == (3, 7)
        assert int(index) == i
        assert torch.equal(y, x + 1)  # ids are positions, so the target is the next position
        if i > 0:  # row n of window i continues row n of window i-1
            assert torch.equal(x[:, 0], windows[i - 1][1][:, -1])
    with pytest.raises(ValueError, match="characters"):
        StreamBatches(torch.arange(10), batch_size=4, seq_len=5)


def test_carried_state_loss_equals_the_loss_of_one_long_run():
    model = tiny_model()
    x_all = torch.randint(0, 7, (2, 13))
    x, y = x_all[:, :-1], x_all[:, 1:]
    loss_fn = CarriedStateLoss()
    first = loss_fn(model, (x[:, :6], y[:, :6], torch.tensor(0)))
    second = loss_fn(model, (x[:, 6:], y[:, 6:], torch.tensor(1)))
    logits, _ = model(x)
    full = F.cross_entropy(logits.reshape(-1, 7), y.reshape(-1))
    assert torch.allclose((first + second) / 2, full)
    assert not loss_fn.state[0].requires_grad  # detached: truncated BPTT
    loss_fn(model, (x[:, :6], y[:, :6], torch.tensor(0)))  # index 0 resets the state
    assert torch.allclose(loss_fn(model, (x[:, :6], y[:, :6], torch.tensor(0))), first)


# ----------------------------------------------------------------------------- evaluation


def test_evaluate_equals_the_full_run_cross_entropy():
    model = tiny_model()
    ids = torch.randint(0, 7, (40,))
    logits, _ = model(ids[None, :-1])
    expected = F.cross_entropy(logits[0], ids[1:]).item()
    assert evaluate(model, ids, streams=1, seq_len=6) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("streams", [1, 3, 7])
def test_evaluate_scores_every_target_once(streams):
    # a model whose logits ignore the input and equal the unigram log-probabilities must score
    # exactly the unigram cross-entropy, however the text is cut into streams
    ids = torch.randint(0, 7, (50,))
    uni = NGramModel(7, order=1).fit(ids)
    model = tiny_model(L=1)
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.copy_(uni.log_probs())
    assert evaluate(model, ids, streams=streams, seq_len=4) == pytest.approx(
        uni.cross_entropy(ids), rel=1e-10)


def test_character_vocab_round_trips_the_corpus_without_specials():
    text = load_corpus()[:5000]
    vocab = Vocab.build([text], specials=())
    assert "".join(vocab.decode(vocab.encode(text))) == text
    assert len(vocab) == len(set(text))
