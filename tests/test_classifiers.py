"""Tests for rnn_lib.classifiers: shapes, padding that does not leak, the loss and accuracy."""

import pytest
import torch
from torch import nn

from rnn_lib.classifiers import (
    SequenceClassifier,
    accuracy,
    classification_loss,
    train_classifier,
)
from rnn_lib.tasks import first_token_recall


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_shapes_and_layer_type(cell):
    torch.manual_seed(0)
    model = SequenceClassifier(3, 4, hidden_size=5, cell=cell, num_layers=2)
    assert isinstance(model.encoder.rnn, {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell])
    assert model(torch.randn(2, 7, 3)).shape == (2, 4)
    # one output is still a column (N, 1): the type never depends on C
    assert SequenceClassifier(3, 1, hidden_size=5, cell=cell)(torch.randn(2, 7, 3)).shape == (2, 1)
    assert f"cell='{cell}'" in repr(model)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_padding_does_not_change_the_prediction(cell):
    torch.manual_seed(0)
    model = SequenceClassifier(2, 3, hidden_size=6, cell=cell)
    short, long = torch.randn(1, 3, 2), torch.randn(1, 6, 2)
    x = torch.zeros(2, 6, 2)
    x[0, :3], x[1] = short[0], long[0]
    x[0, 3:] = 5.0  # garbage after the end must be ignored
    out = model(x, torch.tensor([3, 6]))
    torch.testing.assert_close(out[0], model(short)[0])
    torch.testing.assert_close(out[1], model(long)[0])
    assert not torch.allclose(model(x)[0], model(short)[0])  # without lengths it would leak


def test_final_state_is_the_layers_last_hidden_state():
    torch.manual_seed(0)
    model = SequenceClassifier(2, 3, hidden_size=4, cell="lstm")
    x = torch.randn(5, 8, 2)
    out, _ = model.encoder.rnn(x)
    torch.testing.assert_close(model(x), model.head(out[:, -1]))


class FixedLogits(nn.Module):
    def forward(self, x, lengths=None):
        return x[:, 0, :]  # the first step's "logits"


def test_accuracy_counts_argmax_hits_and_restores_mode():
    x = torch.tensor([[[0.1, 0.9]], [[0.8, 0.2]], [[0.3, 0.7]], [[0.6, 0.4]]])
    model = FixedLogits().train()
    assert accuracy(model, [(x, torch.tensor([1, 0, 0, 0]))]) == 0.75
    assert model.training
    assert accuracy(model, [(x, torch.tensor([0, 1, 0, 1]), torch.ones(4))]) == 0.0
    # over several batches, every target counts once (not a mean of batch means)
    assert accuracy(model, [(x[:1], torch.tensor([1])), (x[1:], torch.tensor([1, 1, 1]))]) == 0.5


def test_unknown_cell_and_bad_input():
    with pytest.raises(ValueError, match="expected cell"):
        SequenceClassifier(2, 2, cell="transformer")
    with pytest.raises(ValueError, match=r"expected x of shape \(N, T, H_in\)"):
        SequenceClassifier(2, 2)(torch.randn(4, 2))
    with pytest.raises(ValueError, match=r"expected tokens of shape \(N, T\)"):
        SequenceClassifier(5, 2, embedding_dim=3)(torch.zeros(2, 3, 4, dtype=torch.long))


def test_classification_loss_with_and_without_lengths():
    torch.manual_seed(0)
    model = SequenceClassifier(2, 3, hidden_size=4, cell="gru")
    x, y = torch.randn(5, 6, 2), torch.tensor([0, 1, 2, 1, 0])
    expected = nn.functional.cross_entropy(model(x), y)
    torch.testing.assert_close(classification_loss(model, (x, y)), expected)
    full = torch.full((5,), 6)
    torch.testing.assert_close(classification_loss(model, (x, y, full)), expected)


def test_train_classifier_learns_a_short_recall_and_records_a_curve():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = SequenceClassifier(4, 3, hidden_size=16, cell="lstm")
    test = first_token_recall(256, 4, num_symbols=3, generator=gen)
    history = train_classifier(
        model, lambda: first_token_recall(32, 4, 3, generator=gen), 80, test,
        lr=1e-2, eval_every=20, progress=False,
    )
    assert [e["step"] for e in history.evals] == [20, 40, 60, 80]
    assert len(history.step_loss) == 80
    assert history.last("accuracy") > 0.9  # chance is 1/3
    assert history.last("accuracy") == accuracy(model, [test])
    with pytest.raises(ValueError, match="expected steps >= 1"):
        train_classifier(model, lambda: test, 0, test)
