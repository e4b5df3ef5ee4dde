"""Tests for rnn_lib.taggers and the token-id classifiers of rnn_lib.classifiers on the same
encoder: shapes, packing ignores padding, losses, a short training run."""

import pytest
import torch
import torch.nn.functional as F

from rnn_lib.batching import collate
from rnn_lib.classifiers import (
    BagOfWords,
    SequenceClassifier,
    accuracy,
    accuracy_and_se,
    classification_loss,
)
from rnn_lib.encoders import last_layer_state
from rnn_lib.taggers import MostFrequentTag, SequenceTagger
from rnn_lib.training import train

V, K, C = 20, 5, 3


def random_batch(lengths, extra_pad=0, seed=0):
    g = torch.Generator().manual_seed(seed)
    examples = [(torch.randint(1, V, (n,), generator=g).tolist(),
                 torch.randint(0, K, (n,), generator=g).tolist()) for n in lengths]
    batch = collate(examples)
    if extra_pad:
        pad = torch.zeros(len(lengths), extra_pad, dtype=torch.long)
        batch = batch._replace(tokens=torch.cat([batch.tokens, pad], 1),
                               targets=torch.cat([batch.targets, pad - 100], 1))
    return batch


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers,bidirectional", [(1, False), (2, True), (3, False)])
def test_shapes(cell, layers, bidirectional):
    batch = random_batch([4, 7, 2])
    kw = dict(embedding_dim=6, hidden_size=8, num_layers=layers, bidirectional=bidirectional,
              cell=cell)
    assert SequenceTagger(V, K, **kw)(batch.tokens, batch.lengths).shape == (3, 7, K)
    assert SequenceClassifier(V, C, **kw)(batch.tokens, batch.lengths).shape == (3, C)
    assert SequenceClassifier(V, C, **kw)(batch.tokens).shape == (3, C)
    assert BagOfWords(V, C, embedding_dim=6)(batch.tokens).shape == (3, C)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_packed_path_ignores_padding(bidirectional):
    torch.manual_seed(0)
    kw = dict(embedding_dim=6, hidden_size=8, num_layers=2, bidirectional=bidirectional)
    tagger, clf = SequenceTagger(V, K, **kw).eval(), SequenceClassifier(V, C, **kw).eval()
    tight, loose = random_batch([4, 7, 2]), random_batch([4, 7, 2], extra_pad=5)
    assert loose.tokens.shape == (3, 12)
    a, b = tagger(tight.tokens, tight.lengths), tagger(loose.tokens, loose.lengths)
    assert torch.allclose(a, b[:, :7], atol=1e-6)
    _, h_tight = clf.encoder(tight.tokens, tight.lengths)
    _, h_loose = clf.encoder(loose.tokens, loose.lengths)
    assert torch.allclose(h_tight, h_loose, atol=1e-6)  # every layer and direction
    assert torch.allclose(clf(tight.tokens, tight.lengths), clf(loose.tokens, loose.lengths),
                          atol=1e-6)
    # without lengths the RNN also reads the padding: the final state changes (the bug)
    assert not torch.allclose(clf(tight.tokens), clf(loose.tokens), atol=1e-4)


def test_last_layer_state_is_the_output_at_each_end():
    torch.manual_seed(0)
    clf = SequenceClassifier(V, C, embedding_dim=6, hidden_size=8, num_layers=2,
                             bidirectional=True).eval()
    batch = random_batch([4, 7, 2])
    out, h_n = clf.encoder(batch.tokens, batch.lengths)  # (N, T, 16), (4, N, 8)
    last = out[torch.arange(3), batch.lengths - 1]  # each sentence's own last step
    h = last_layer_state(h_n, bidirectional=True)
    assert torch.allclose(h[:, :8], last[:, :8]) and torch.allclose(h[:, 8:], out[:, 0, 8:])
    assert torch.equal(h, torch.cat([h_n.view(2, 2, 3, 8)[-1, 0], h_n.view(2, 2, 3, 8)[-1, 1]],
                                    -1))
    assert (out[2, 2:] == 0).all()  # nothing after the end of the short sentence


def test_bag_of_words_is_blind_to_order_and_padding():
    torch.manual_seed(0)
    bow = BagOfWords(V, C, embedding_dim=6)
    tokens = torch.tensor([[3, 4, 5, 6]])
    shuffled = torch.tensor([[6, 4, 3, 5, 0, 0]])
    assert torch.allclose(bow(tokens), bow(shuffled))
    assert torch.allclose(bow(shuffled), bow(shuffled, torch.tensor([4])))
    assert not torch.allclose(bow(tokens), bow(torch.tensor([[3, 3, 5, 6]])))  # counts matter


def test_losses_skip_padding():
    torch.manual_seed(0)
    tagger = SequenceTagger(V, K, embedding_dim=6, hidden_size=8)
    batch = random_batch([4, 7, 2])
    logits = tagger(batch.tokens, batch.lengths)
    real = batch.targets != -100
    manual = F.cross_entropy(logits[real], batch.targets[real])
    assert torch.allclose(classification_loss(tagger, batch), manual)
    assert real.sum() == 13
    clf = SequenceClassifier(V, C, embedding_dim=6, hidden_size=8)
    cb = batch._replace(targets=torch.tensor([0, 2, 1]))
    assert torch.allclose(classification_loss(clf, cb),
                          F.cross_entropy(clf(cb.tokens, cb.lengths), cb.targets))


def test_a_bidirectional_tagger_learns_a_right_context_task():
    # tag of token t = the token after it (the last token: 0): impossible left to right
    g = torch.Generator().manual_seed(0)
    def example(n):
        x = torch.randint(1, K, (n,), generator=g).tolist()
        return x, x[1:] + [0]
    data = [collate([example(int(n)) for n in torch.randint(2, 9, (32,), generator=g)])
            for _ in range(8)]
    torch.manual_seed(0)
    bi = SequenceTagger(K, K, embedding_dim=8, hidden_size=16, bidirectional=True)
    uni = SequenceTagger(K, K, embedding_dim=8, hidden_size=16)
    for model in (bi, uni):
        history = train(model, classification_loss, data, epochs=10, lr=0.03, progress=False)
        assert history.epoch_loss[-1] < history.epoch_loss[0]
    assert accuracy(bi, data) > 0.95 > 0.6 > accuracy(uni, data)


def test_rnn_lib_layers_backend_matches_torch():
    layers = pytest.importorskip("rnn_lib.layers")
    torch.manual_seed(0)
    kw = dict(embedding_dim=6, hidden_size=8, num_layers=2, bidirectional=True, cell="gru")
    fast, mine = SequenceClassifier(V, C, **kw), SequenceClassifier(V, C, **kw, backend=layers)
    mine.load_state_dict(fast.state_dict())
    batch = random_batch([4, 7, 2])
    assert torch.allclose(fast(batch.tokens, batch.lengths), mine(batch.tokens, batch.lengths),
                          atol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="expected cell"):
        SequenceTagger(V, K, cell="transformer")
    with pytest.raises(ValueError, match=r"expected tokens of shape \(N, T\)"):
        SequenceTagger(V, K, embedding_dim=6)(torch.zeros(2, 3, 4, dtype=torch.long))


def test_accuracy_and_se_against_a_hand_count():
    class Fixed(torch.nn.Module):  # predicts tag 0 everywhere
        def forward(self, tokens, lengths=None):
            return torch.zeros(*tokens.shape, K).index_fill_(-1, torch.tensor([0]), 1.0)

    batch = collate([([1, 2, 3], [0, 0, 1]), ([4], [0]), ([5, 6], [1, 1])])
    acc, se = accuracy_and_se(Fixed(), [batch])
    assert acc == pytest.approx(3 / 6) == accuracy(Fixed(), [batch])
    r, n = torch.tensor([2.0, 1.0, 0.0]), torch.tensor([3.0, 1.0, 2.0])
    expected = (r - 0.5 * n).std(correction=0) / n.mean() / 3 ** 0.5
    assert se == pytest.approx(expected.item())
    labels = collate([([1], 0), ([2], 0), ([3], 1), ([4], 0)])  # one label per sentence
    class Zero(torch.nn.Module):
        def forward(self, tokens, lengths=None):
            return torch.tensor([[1.0, 0.0]]).expand(len(tokens), 2)

    acc, se = accuracy_and_se(Zero(), [labels])
    assert acc == 0.75 and se == pytest.approx((0.75 * 0.25 / 4) ** 0.5)


def test_most_frequent_tag():
    train_pairs = [("the old man".split(), ["DET", "ADJ", "NOUN"]),
                   ("the old man".split(), ["DET", "NOUN", "VERB"]),
                   ("old dogs".split(), ["ADJ", "NOUN"])]
    baseline = MostFrequentTag(train_pairs)
    assert len(baseline) == 4 and baseline.default == "NOUN"  # NOUN 3 times
    assert baseline.predict("the old man cat".split()) == ["DET", "ADJ", "NOUN", "NOUN"]
    assert baseline.accuracy(train_pairs) == pytest.approx(6 / 8)
    with pytest.raises(ValueError, match="one tag per token"):
        MostFrequentTag([(["a", "b"], ["X"])])


def test_classifier_and_tagger_read_one_encoder():
    torch.manual_seed(0)
    kw = dict(embedding_dim=6, hidden_size=8)
    tagger, clf = SequenceTagger(V, C, **kw).eval(), SequenceClassifier(V, C, **kw).eval()
    clf.load_state_dict(tagger.state_dict())  # the same parameters under the same names
    batch = random_batch([4, 7, 2])
    per_step = tagger(batch.tokens, batch.lengths)  # (N, T, C)
    last = per_step[torch.arange(3), batch.lengths - 1]  # each sentence's own last step
    assert torch.allclose(clf(batch.tokens, batch.lengths), last, atol=1e-6)
    # on features (no embedding) the tagger takes the (x, y, lengths) tuples of rnn_lib.tasks
    features = SequenceTagger(3, C, hidden_size=4)
    x, y = torch.randn(2, 5, 3), torch.tensor([[0, 1, 2, 0, 1], [2, 2, -100, -100, -100]])
    lengths = torch.tensor([5, 2])
    logits = features(x, lengths)
    assert logits.shape == (2, 5, C)
    assert torch.allclose(classification_loss(features, (x, y, lengths)),
                          F.cross_entropy(logits[y != -100], y[y != -100]))
    split = [(x[:1], y[:1]), (x[1:], y[1:], lengths[1:])]  # batches with and without lengths
    assert accuracy(features, [(x, y, lengths)]) == accuracy(features, split)
