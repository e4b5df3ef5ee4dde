"""Nearest neighbours in an embedding, against a brute-force cosine computation."""

import pytest
import torch

from rnn_lib.embeddings import cosine_similarities, nearest_neighbours


def test_cosine_similarities_match_torch():
    torch.manual_seed(0)
    w = torch.randn(7, 4)
    w[0] = 0  # a padding row
    sims = cosine_similarities(w)
    for i in range(1, 7):
        for j in range(1, 7):
            expected = torch.nn.functional.cosine_similarity(w[i], w[j], dim=0)
            assert sims[i, j] == pytest.approx(float(expected), abs=1e-6)
    assert torch.all(sims[0] == 0)
    with pytest.raises(ValueError, match="expected an embedding of shape"):
        cosine_similarities(torch.zeros(3))


def test_nearest_neighbours_by_brute_force():
    w = torch.tensor([[0.0, 0.0], [1.0, 0.0], [2.0, 0.1], [0.0, 1.0], [-1.0, 0.0], [1.0, 1.0]])
    ids, sims = nearest_neighbours(w, [1, 3], k=2, exclude=[0])
    assert ids.tolist() == [[2, 5], [5, 2]]
    assert sims[0, 0] == pytest.approx(2 / (4.01 ** 0.5))
    assert sims[1, 0] == pytest.approx(2 ** -0.5)
    with pytest.raises(ValueError, match="expected k <= 4"):
        nearest_neighbours(w, [1], k=5, exclude=[0])
