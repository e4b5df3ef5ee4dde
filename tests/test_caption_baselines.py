"""Tests for rnn_lib.caption_baselines: most frequent caption, blind decoder, retrieval."""

import pytest
import torch

from rnn_lib.caption_baselines import (
    ConstantFeature,
    encoder_features,
    flat_pixels,
    most_frequent_caption,
    nearest_neighbour_captions,
)
from rnn_lib.captioning import CaptionModel, ShapeEncoder
from rnn_lib.training import count_parameters


def test_most_frequent_caption():
    assert most_frequent_caption(["b", "a", "b", "c", "a", "b"]) == "b"
    assert most_frequent_caption(["x", "y", "y", "x"]) == "x"  # tie: the first seen
    with pytest.raises(ValueError, match="expected at least one caption"):
        most_frequent_caption([])


def test_blind_decoder_ignores_the_image():
    torch.manual_seed(0)
    blind = CaptionModel(11, embedding_dim=6, hidden_size=8, encoder=ConstantFeature(6))
    seeing = CaptionModel(11, embedding_dim=6, hidden_size=8, channels=4)
    images = torch.rand(4, 3, 32, 32)
    inputs = torch.randint(0, 11, (1, 5)).expand(4, 5)  # the same words for every image
    logits = blind(images, inputs)
    assert torch.allclose(logits, logits[:1].expand_as(logits))  # same for every image
    other_words = inputs[:, [1, 0, 2, 3, 4]]
    assert not torch.allclose(logits, blind(torch.zeros(4, 3, 32, 32), other_words))  # reads words
    logits.sum().backward()
    assert blind.encoder.feature.grad is not None and blind.encoder.feature.grad.abs().sum() > 0
    # the same decoder, with E parameters in place of the CNN's
    cnn = count_parameters(ShapeEncoder(6, 32, 4))
    assert count_parameters(blind) == count_parameters(seeing) - cnn + 6
    assert "ignores the image" in repr(blind.encoder)


def test_nearest_neighbour_matches_brute_force():
    g = torch.Generator().manual_seed(0)
    train, query = torch.randn(40, 5, generator=g), torch.randn(13, 5, generator=g)
    captions = [f"caption {i}" for i in range(40)]
    got = nearest_neighbour_captions(train, captions, query, batch_size=4)
    for q, caption in zip(query, got, strict=True):
        dists = [((q - t) ** 2).sum().item() for t in train]
        assert caption == captions[min(range(40), key=dists.__getitem__)]
    # a training item is its own nearest neighbour
    assert nearest_neighbour_captions(train, captions, train[[3, 7]]) == ["caption 3",
                                                                            "caption 7"]
    with pytest.raises(ValueError, match="same size"):
        nearest_neighbour_captions(train, captions, torch.randn(2, 4))
    with pytest.raises(ValueError, match="one caption per training item"):
        nearest_neighbour_captions(train, captions[:3], query)


def test_features():
    images = torch.rand(7, 3, 32, 32)
    assert flat_pixels(images).shape == (7, 3 * 32 * 32)
    torch.manual_seed(0)
    encoder = ShapeEncoder(9, 32, 4)
    encoder.train()
    feats = encoder_features(encoder, images, batch_size=3)
    assert encoder.training  # mode restored
    encoder.eval()
    assert torch.allclose(feats, encoder(images).detach(), atol=1e-6)
