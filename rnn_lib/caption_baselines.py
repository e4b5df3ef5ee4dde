"""Baselines for image captioning: what can be done without the trained captioner?

- `most_frequent_caption`: write the one most common training caption for every image.
- `ConstantFeature`: a learned vector that replaces the CNN, so that `CaptionModel(...,
  encoder=ConstantFeature(E))` is the same decoder trained without ever seeing the image: it
  learns the language prior p(w) alone. Its greedy caption is the same for every image.
- `nearest_neighbour_captions`: caption retrieval, the caption of the nearest training image
  (Euclidean distance) in pixel space (`flat_pixels`) or in a trained encoder's feature space
  (`encoder_features`). It can only ever write captions that occur in training.

where N = query images, M = training images, D = feature size, E = embedding size.
"""

from collections import Counter

import torch
from torch import nn

from rnn_lib.training import evaluating


def most_frequent_caption(captions: list[str]) -> str:
    """The most common string of `captions` (the first seen among equally common ones)."""
    if not captions:
        raise ValueError("expected at least one caption, got an empty list")
    return Counter(captions).most_common(1)[0][0]


class ConstantFeature(nn.Module):
    """An "encoder" that ignores the image: one learned vector of shape (E,) for every input.

    Inputs: images of shape (N, ...). Output of shape (N, E), every row the same vector.
    """

    def __init__(self, embedding_dim: int):
        super().__init__()
        self.feature = nn.Parameter(torch.zeros(embedding_dim))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.feature.expand(images.shape[0], -1)  # (N, E)

    def __repr__(self) -> str:
        return f"ConstantFeature({self.feature.numel()}, ignores the image)"


def flat_pixels(images: torch.Tensor) -> torch.Tensor:
    """Images of shape (N, C, S, S) as raw pixel vectors of shape (N, C*S*S)."""
    return images.flatten(1).float()


@torch.no_grad()
def encoder_features(encoder: nn.Module, images: torch.Tensor,
                     batch_size: int = 500) -> torch.Tensor:
    """A trained encoder's output for `images` (N, 3, S, S), in eval mode: (N, E) on the CPU."""
    dev = next(encoder.parameters()).device
    with evaluating(encoder):
        return torch.cat([encoder(chunk.to(dev)).cpu() for chunk in images.split(batch_size)])


def nearest_neighbour_captions(train_features: torch.Tensor, train_captions: list[str],
                               query_features: torch.Tensor,
                               batch_size: int = 256) -> list[str]:
    """Caption each query with the caption of its nearest training item (Euclidean distance).

    Inputs:
    - train_features: of shape (M, D).
    - train_captions: M strings, one per training item.
    - query_features: of shape (N, D).

    Returns N strings. Ties go to the training item that comes first.
    """
    if train_features.dim() != 2 or query_features.dim() != 2:
        raise ValueError(f"expected 2-D features, got {tuple(train_features.shape)} and "
                         f"{tuple(query_features.shape)}")
    if train_features.shape[1] != query_features.shape[1]:
        raise ValueError(f"expected features of the same size, got {train_features.shape[1]} "
                         f"and {query_features.shape[1]}")
    if len(train_captions) != len(train_features):
        raise ValueError(f"expected one caption per training item, got {len(train_captions)} "
                         f"captions for {len(train_features)} items")
    train_features = train_features.float()
    nearest = [torch.cdist(chunk.float(), train_features).argmin(dim=1)  # (n,)
               for chunk in query_features.split(batch_size)]
    return [train_captions[i] for i in torch.cat(nearest).tolist()] if nearest else []
