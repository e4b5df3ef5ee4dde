"""Tests for rnn_lib.caption_analysis: log-probs, search vs model errors, exposure bias."""

import pytest
import torch

from rnn_lib.caption_analysis import (
    caption_log_probs,
    classify_errors,
    errors_after_first,
    position_accuracy,
    teacher_forced_tokens,
)
from rnn_lib.captioning import CaptionModel, build_vocab, caption_batches, make_shapes_captions


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    data = make_shapes_captions(30, 0, 0, 0, seed=3)["train"]
    vocab = build_vocab(data)
    model = CaptionModel(len(vocab), embedding_dim=8, hidden_size=16, channels=4,
                         pad_id=vocab.pad_id)
    model.eval()
    return data, vocab, model


def test_log_probs_and_tokens_match_teacher_forcing(setup):
    data, vocab, model = setup
    images, inputs, targets = caption_batches(data, vocab, 30, shuffle=False)[0]
    log_probs = model(images, inputs).log_softmax(-1)  # (N, T, V)
    mask = targets != vocab.pad_id
    picked = log_probs.gather(2, targets.clamp(min=0).unsqueeze(-1))[..., 0]
    expected = (picked * mask).sum(1)
    model.train()
    got = caption_log_probs(model, images, data.captions, vocab, batch_size=7)
    assert model.training  # mode restored
    assert torch.allclose(got, expected, atol=1e-4)
    tokens = teacher_forced_tokens(model, images, data.captions, vocab, batch_size=7)
    model.eval()
    for row, pred, caption in zip(log_probs.argmax(-1), tokens, data.captions, strict=True):
        n = len(caption.split()) + 1
        assert pred == [vocab.itos[t] for t in row[:n].tolist()]
    with pytest.raises(ValueError, match="one caption per image"):
        caption_log_probs(model, images[:2], data.captions[:3], vocab)


def test_classify_errors():
    hyp = torch.tensor([-1.0, -2.0, -3.0, -1.0])
    ref = torch.tensor([-1.0, -1.0, -4.0, -1.0])
    counts = classify_errors(hyp, ref, [True, False, False, False])
    # image 1: a correct caption is more probable (search error); image 2: the wrong caption is
    # more probable (model error); image 3: a tie counts as a model error
    assert counts == {"correct": 1, "search error": 1, "model error": 2}
    with pytest.raises(ValueError, match="equal lengths"):
        classify_errors(hyp, ref[:2], [True])


def test_position_accuracy():
    refs = ["a red circle above a blue square", "a red circle left of a blue square"]
    free = ["a red circle left of a blue square", "a red circle left of a blue square"]
    right, total = position_accuracy(free, refs)
    assert total.tolist() == [2] * 8 + [1]  # 7 and 8 words, each + <eos>
    assert right.tolist() == [2, 2, 2, 1] + [1] * 5  # the first is shifted after "left"
    # a list of words is taken as it is (teacher-forced predictions end with <eos>)
    right, total = position_accuracy([["a", "red", "<eos>"]], ["a blue"])
    assert right.tolist() == [1, 0, 1] and total.tolist() == [1, 1, 1]
    right, _ = position_accuracy(["a"], ["a blue"])  # too short: wrong where words are missing
    assert right.tolist() == [1, 0, 0]


def test_errors_after_first():
    refs = ["a red circle above a blue square", "a red circle above a blue square"]
    free = ["a red circle above a blue square", "a red square above a green square"]
    forced = [refs[0].split() + ["<eos>"],
              "a red square above a green square <eos>".split()]
    counts = errors_after_first(free, forced, refs)
    # caption 2: first error at position 2; positions 3..7 follow, one wrong ("green") in both
    assert counts == {"captions": 1, "words": 5, "free_wrong": 1, "forced_wrong": 1}
    assert errors_after_first(free[:1], forced[:1], refs[:1])["captions"] == 0
