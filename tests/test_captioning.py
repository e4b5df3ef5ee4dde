"""Tests for rnn_lib.captioning: the shapes data set, the batches, the Show-and-Tell model."""

import numpy as np
import pytest
import torch

from rnn_lib.captioning import (
    COLOURS,
    CONVERSE,
    HELD_OUT,
    RELATIONS,
    SHAPES,
    CaptionModel,
    Shape,
    build_vocab,
    caption_batches,
    caption_loss,
    evaluate_captions,
    generate_captions,
    make_shapes_captions,
    shape_mask,
)


@pytest.fixture(scope="module")
def data():
    return make_shapes_captions(n_train=200, n_val=50, n_test=50, n_heldout=50, seed=1)


def parse(caption):
    """'a red circle left of a blue square' -> (('red','circle'), 'left of', ('blue','square'))"""
    words = caption.split()
    assert words[0] == "a" and words[-3] == "a", caption
    return (words[1], words[2]), " ".join(words[3:-3]), (words[-2], words[-1])


@pytest.mark.parametrize("relations", [("above", "left of"), RELATIONS])
def test_captions_match_the_pixels(relations):
    split = make_shapes_captions(60, 0, 0, 0, seed=5, relations=relations)["train"]
    assert {parse(c)[1] for c in split.captions} == set(relations)
    for image, caption, scene in zip(split.images[:60], split.captions[:60], split.scenes[:60],
                                     strict=True):
        (c1, k1), relation, (c2, k2) = parse(caption)
        assert relation in RELATIONS and {c1, c2} <= set(COLOURS) and {k1, k2} <= set(SHAPES)
        img = image.numpy()
        centres = []
        for shape, colour, kind in ((scene.subject, c1, k1), (scene.other, c2, k2)):
            assert (shape.colour, shape.kind) == (colour, kind)
            mask = shape_mask(shape, img.shape[-1])
            pixels = img[:, mask]  # (3, n): every pixel of the shape has the caption's colour
            assert np.abs(pixels - np.array(COLOURS[colour])[:, None]).max() <= 0.08 + 1e-6
            ys, xs = np.nonzero(mask)
            fill = mask.sum() / ((np.ptp(ys) + 1) * (np.ptp(xs) + 1))  # of the bounding box
            expected = {"circle": (0.65, 0.9), "square": (0.99, 1.0), "triangle": (0.4, 0.65)}
            lo, hi = expected[kind]
            assert lo <= fill <= hi, (kind, fill)
            centres.append((ys.mean(), xs.mean()))
        (y1, x1), (y2, x2) = centres
        dy, dx = y2 - y1, x2 - x1  # from the subject to the other shape, in pixels
        along = {"above": dy, "below": -dy, "left of": dx, "right of": -dx}[relation]
        across = dx if relation in ("above", "below") else dy
        assert along > 5 and along > 1.5 * abs(across), (caption, dy, dx)
        background = ~(shape_mask(scene.subject, 32) | shape_mask(scene.other, 32))
        assert img[:, background].mean() < 0.15 and img[:, background].max() < 0.35


def test_shape_mask_areas():
    areas = {k: shape_mask(Shape("red", k, 16.0, 16.0, 6.0), 32).sum() for k in SHAPES}
    assert areas["circle"] == pytest.approx(np.pi * 36, rel=0.1)
    assert areas["triangle"] == pytest.approx(0.5 * 13 * 13, rel=0.05)  # half its 13x13 box
    assert areas["square"] == (2 * 6 + 1) ** 2  # the circle's bounding box
    with pytest.raises(ValueError, match="expected a shape"):
        shape_mask(Shape("red", "hexagon", 16.0, 16.0, 6.0), 32)


def test_references_are_the_caption_and_its_converse(data):
    for scene in data["test"].scenes:
        first, second = scene.references
        a, rel, b = parse(first)
        assert first == scene.caption
        assert parse(second) == (b, CONVERSE[rel], a)


def test_splits_are_disjoint_and_hold_out_pairs(data):
    scenes = {name: set(split.scenes) for name, split in data.items()}
    names = list(scenes)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not scenes[a] & scenes[b], (a, b)
    held = set(HELD_OUT)
    for name in ("train", "val", "test"):
        for s in data[name].scenes:
            assert not {(s.subject.colour, s.subject.kind), (s.other.colour, s.other.kind)} & held
    for s in data["heldout"].scenes:
        assert {(s.subject.colour, s.subject.kind), (s.other.colour, s.other.kind)} & held
    # and every colour and every shape is still seen in training, in other pairs
    words = {w for c in data["train"].captions for w in c.split()}
    assert set(COLOURS) | set(SHAPES) <= words


def test_unknown_relation_is_an_error():
    with pytest.raises(ValueError, match="expected relations among"):
        make_shapes_captions(5, 0, 0, 0, relations=("inside",))


def test_generation_is_seeded():
    a = make_shapes_captions(20, 5, 5, 5, seed=3)
    b = make_shapes_captions(20, 5, 5, 5, seed=3)
    c = make_shapes_captions(20, 5, 5, 5, seed=4)
    assert torch.equal(a["test"].images, b["test"].images)
    assert a["train"].captions == b["train"].captions
    assert a["train"].captions != c["train"].captions


def test_batches_shift_targets_by_one(data):
    vocab = build_vocab(data["train"])
    images, inputs, targets = caption_batches(data["train"], vocab, 16, shuffle=False)[0]
    assert images.shape == (16, 3, 32, 32) and inputs.shape == targets.shape
    assert (inputs[:, 0] == vocab.bos_id).all()
    assert torch.equal(inputs[:, 1:], targets[:, :-1])  # predict the next word
    for row, caption in zip(targets, data["train"].captions[:16], strict=True):
        assert vocab.decode(row) == caption.split()
        assert (row == vocab.eos_id).sum() == 1


def test_model_shapes():
    model = CaptionModel(vocab_size=17, embedding_dim=8, hidden_size=12, channels=4)
    images, inputs = torch.rand(5, 3, 32, 32), torch.randint(0, 17, (5, 9))
    assert model(images, inputs).shape == (5, 9, 17)
    h, c = model.start(images)
    assert h.shape == c.shape == (5, 12)
    log_probs, (h2, _) = model.step(inputs[:, 0], (h, c))
    assert log_probs.shape == (5, 17) and h2.shape == (5, 12)
    assert torch.allclose(log_probs.exp().sum(-1), torch.ones(5), atol=1e-5)
    # teacher forcing and step-by-step decoding compute the same thing
    model.eval()
    logits = model(images, inputs)
    state = model.start(images)
    for t in range(inputs.shape[1]):
        lp, state = model.step(inputs[:, t], state)
        assert torch.allclose(lp, torch.log_softmax(logits[:, t], -1), atol=1e-5)


@pytest.fixture
def one_thread():
    """Tiny models train faster on one thread, and several threads thrash on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_overfits_a_tiny_batch_and_decodes_it(data, one_thread):
    torch.manual_seed(0)
    tiny = make_shapes_captions(8, 0, 0, 0, seed=2)["train"]
    vocab = build_vocab(data["train"])
    model = CaptionModel(len(vocab), embedding_dim=32, hidden_size=64, channels=8,
                         pad_id=vocab.pad_id)
    batch = caption_batches(tiny, vocab, 8, shuffle=False)[0]
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(150):
        loss = caption_loss(model, batch, vocab.pad_id)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0], (losses[0], losses[-1])
    greedy = generate_captions(model, tiny.images, vocab)
    beam = generate_captions(model, tiny.images, vocab, beam_size=3)
    assert greedy == tiny.captions
    assert beam == tiny.captions
    scores = evaluate_captions(model, tiny, vocab)
    assert scores["exact"] == 1.0 and scores["bleu"] == pytest.approx(100.0)
