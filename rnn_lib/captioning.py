"""Image captioning (one-to-many): a data set of coloured shapes, a CNN encoder, a DecoderRNN.

The data: small RGB images holding two shapes (circle, square, triangle) in four colours (red,
green, blue, yellow), one above (or below) or left of (or right of) the other, each captioned
like "a red circle above a blue square". The same picture is also "a blue square below a red
circle", so every image carries both captions as references. Some colour-shape pairs
(`HELD_OUT`) never appear in the train/val/test splits; a separate "heldout" split holds only
images with at least one of them, to measure whether the model composes colour and shape.

The model follows Show and Tell (Vinyals et al. 2015): a CNN turns the image into a vector of
the word-embedding size, fed to an LSTM cell as its first input (step 0, which predicts
nothing); after that the cell reads the previous word (the true one during training: teacher
forcing) and predicts the next. For a caption w_1..w_n, with w_0 = <bos> and w_{n+1} = <eos>:

    h_0, c_0 = LSTMCell(CNN(I), (0, 0))                               `start`
    h_t, c_t = LSTMCell(W_e w_{t-1}, (h_{t-1}, c_{t-1})),  t = 1..n+1  `step` (t-th call)
    p(w_t | I, w_<t) = softmax(W_o h_t + b_o)

so `caption_batches` gives inputs[:, t-1] = w_{t-1} (<bos> w_1..w_n) and targets[:, t-1] = w_t
(w_1..w_n <eos>), and the loss averages -log p(w_t | I, w_<t) over t = 1..n+1.

where N = batch size, S = image side, T = caption length (+1 for bos/eos), E = embedding
size, H = hidden size, V = vocabulary size.
"""

import functools
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rnn_lib.batching import pad_batch
from rnn_lib.decoding import decode
from rnn_lib.metrics import bleu, exact_match
from rnn_lib.training import in_eval_mode, model_device
from rnn_lib.vocab import Vocab

COLOURS = {"red": (0.9, 0.1, 0.1), "green": (0.1, 0.75, 0.2), "blue": (0.15, 0.3, 1.0),
           "yellow": (0.95, 0.85, 0.1)}
SHAPES = ("circle", "square", "triangle")
RELATIONS = ("above", "below", "left of", "right of")
CONVERSE = {"above": "below", "below": "above", "left of": "right of", "right of": "left of"}
HELD_OUT = (("red", "triangle"), ("green", "circle"), ("blue", "square"))


@dataclass(frozen=True)
class Shape:
    """One drawn shape: colour and kind, centre (y, x) in pixels and radius r (half the side)."""

    colour: str
    kind: str
    y: float
    x: float
    r: float

    @property
    def name(self) -> str:
        return f"{self.colour} {self.kind}"


@dataclass(frozen=True)
class Scene:
    """Two shapes and how the caption relates them: "a <subject> <relation> a <other>"."""

    subject: Shape
    relation: str
    other: Shape

    @property
    def caption(self) -> str:
        return f"a {self.subject.name} {self.relation} a {self.other.name}"

    @property
    def references(self) -> list[str]:
        """Both correct captions: this one and its converse."""
        converse = f"a {self.other.name} {CONVERSE[self.relation]} a {self.subject.name}"
        return [self.caption, converse]


@dataclass
class CaptionSet:
    """A split: images of shape (N, 3, S, S) in [0, 1], their scenes, captions, references."""

    images: torch.Tensor
    scenes: list[Scene]

    @property
    def captions(self) -> list[str]:
        return [s.caption for s in self.scenes]

    @property
    def references(self) -> list[list[str]]:
        return [s.references for s in self.scenes]

    def __len__(self) -> int:
        return len(self.scenes)

    def __repr__(self) -> str:
        return f"CaptionSet({len(self)} images of shape {tuple(self.images.shape[1:])})"


def random_scene(rng: np.random.Generator, size: int, pairs: list[tuple[str, str]],
                 relations: tuple[str, ...] = RELATIONS) -> Scene:
    """Two different colour-shape pairs from `pairs`, placed in a relation from `relations`."""
    i, j = rng.choice(len(pairs), size=2, replace=False)
    relation = relations[rng.integers(len(relations))]
    r1, r2 = rng.uniform(0.13 * size, 0.19 * size, size=2)
    # along the relation's axis the first shape sits in the top/left part, the second below or
    # right of it with a clear gap; across it both stay near a shared line (no diagonal cases)
    a1 = rng.uniform(r1 + 1, min(size / 2 - 1, size - 4 - r1 - 2 * r2))
    a2 = rng.uniform(max(a1 + r1 + r2 + 2, size / 2 + 1), size - 2 - r2)
    base = rng.uniform(0.3 * size, 0.7 * size)
    b1, b2 = (np.clip(base + rng.uniform(-0.1, 0.1) * size, r + 1, size - 2 - r)
              for r in (r1, r2))
    vertical = relation in ("above", "below")
    (c1, k1), (c2, k2) = pairs[i], pairs[j]
    first = Shape(c1, k1, *((a1, b1) if vertical else (b1, a1)), r1)
    second = Shape(c2, k2, *((a2, b2) if vertical else (b2, a2)), r2)
    if relation in ("above", "left of"):
        return Scene(first, relation, second)
    return Scene(second, relation, first)


@functools.cache
def _grid(size: int) -> np.ndarray:
    return np.mgrid[0:size, 0:size].astype(np.float32)  # (2, S, S): row and column indices


def shape_mask(shape: Shape, size: int) -> np.ndarray:
    """Boolean mask of shape (S, S): the pixels (centres at integer coordinates) inside."""
    yy, xx = _grid(size)
    dy, dx = yy - shape.y, xx - shape.x
    if shape.kind == "circle":
        return dy**2 + dx**2 <= shape.r**2
    if shape.kind == "square":  # the circle's bounding box: its corners tell it apart
        return (np.abs(dy) <= shape.r) & (np.abs(dx) <= shape.r)
    if shape.kind == "triangle":  # apex up, base at the bottom, as wide as it is tall
        return (dy >= -shape.r) & (dy <= shape.r) & (np.abs(dx) <= (dy + shape.r) / 2)
    raise ValueError(f"expected a shape among {SHAPES}, got {shape.kind!r}")


def render(scene: Scene, size: int, rng: np.random.Generator) -> np.ndarray:
    """Draw a scene: a noisy dark background and two flat, slightly jittered colours."""
    image = 0.1 + 0.03 * rng.standard_normal((3, size, size))
    for shape in (scene.subject, scene.other):
        colour = np.clip(np.array(COLOURS[shape.colour]) + rng.uniform(-0.08, 0.08, 3), 0, 1)
        image[:, shape_mask(shape, size)] = colour[:, None]
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def make_shapes_captions(n_train: int = 4000, n_val: int = 500, n_test: int = 500,
                         n_heldout: int = 500, size: int = 32, seed: int = 0,
                         relations: tuple[str, ...] = ("above", "left of")
                         ) -> dict[str, CaptionSet]:
    """Generate the splits "train", "val", "test" (no held-out pair) and "heldout" (every
    image shows at least one pair of HELD_OUT). No scene appears in two splits.

    `relations`: the relations captions are written with. The default names the shapes in
    reading order (the upper or the left one first), so each image has one caption to learn;
    the converse ("below", "right of") is still accepted as a reference when scoring.
    RELATIONS writes each caption either way at random: a harder task, where the first words
    are a coin flip and the model must bind each colour to its own shape and position."""
    unknown = set(relations) - set(RELATIONS)
    if unknown:
        raise ValueError(f"expected relations among {RELATIONS}, got {sorted(unknown)}")
    rng = np.random.default_rng(seed)
    all_pairs = [(c, s) for c in COLOURS for s in SHAPES]
    seen = [p for p in all_pairs if p not in HELD_OUT]
    wanted = {"train": n_train, "val": n_val, "test": n_test, "heldout": n_heldout}
    used, out = set(), {}
    for split, n in wanted.items():
        scenes = []
        while len(scenes) < n:
            scene = random_scene(rng, size, all_pairs if split == "heldout" else seen,
                                 relations)
            pairs = {(s.colour, s.kind) for s in (scene.subject, scene.other)}
            if split == "heldout" and not pairs & set(HELD_OUT):
                continue
            if scene in used:  # continuous positions make repeats rare; rule them out anyway
                continue
            used.add(scene)
            scenes.append(scene)
        images = np.stack([render(s, size, rng) for s in scenes]) if scenes else \
            np.zeros((0, 3, size, size), np.float32)
        out[split] = CaptionSet(torch.from_numpy(images), scenes)
    return out


def build_vocab(data: CaptionSet) -> Vocab:
    """Word vocabulary of a split's captions (with pad, unk, bos, eos)."""
    return Vocab.build(c.split() for c in data.captions)


def caption_batches(data: CaptionSet, vocab: Vocab, batch_size: int, shuffle: bool = True,
                    generator: torch.Generator | None = None) -> list[tuple]:
    """Teacher-forcing batches (images, inputs, targets): inputs = <bos> w_1..w_n, targets =
    w_1..w_n <eos>, both padded with <pad> to the batch's longest, of shape (N, T)."""
    order = torch.randperm(len(data), generator=generator) if shuffle else torch.arange(len(data))
    batches = []
    for idx in order.split(batch_size):
        ids = [vocab.encode(data.captions[i].split(), add_bos=True, add_eos=True) for i in idx]
        seqs, _ = pad_batch(ids, pad_value=vocab.pad_id)  # (N, T + 1)
        batches.append((data.images[idx], seqs[:, :-1], seqs[:, 1:]))
    return batches


class ShapeEncoder(nn.Module):
    """A small CNN: three conv-BN-ReLU-maxpool blocks, then a linear map to the embedding.

    The feature map is flattened, not averaged, so the position of each shape survives.
    Inputs: images of shape (N, 3, S, S), S divisible by 8. Output of shape (N, E).
    """

    def __init__(self, embedding_dim: int, size: int = 32, channels: int = 32):
        super().__init__()
        layers, c_in = [], 3
        for c_out in (channels, 2 * channels, 2 * channels):
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(),
                       nn.MaxPool2d(2)]
            c_in = c_out
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(c_in * (size // 8) ** 2, embedding_dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.features(images)  # (N, 2C, S/8, S/8)
        return self.fc(x.flatten(1))  # (N, E)


class CaptionModel(nn.Module):
    """Show and Tell: a CNN encoder and an LSTMCell decoder (DecoderRNN).

    `encoder`: any module mapping images (N, 3, S, S) to features (N, E) can replace the CNN,
    for example `caption_baselines.ConstantFeature` for a decoder that never sees the image.
    """

    def __init__(self, vocab_size: int, embedding_dim: int = 64, hidden_size: int = 256,
                 image_size: int = 32, channels: int = 32, pad_id: int = 0,
                 encoder: nn.Module | None = None):
        super().__init__()
        self.encoder = encoder if encoder is not None else \
            ShapeEncoder(embedding_dim, image_size, channels)
        self.embed = nn.Embedding(vocab_size, embedding_dim, padding_idx=pad_id)
        self.cell = nn.LSTMCell(embedding_dim, hidden_size)
        self.out = nn.Linear(hidden_size, vocab_size)

    def start(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The state (h_0, c_0) after reading the image at step 0, each of shape (N, H)."""
        return self.cell(self.encoder(images))  # zero initial state, image as first input

    def step(self, tokens: torch.Tensor, state: tuple) -> tuple[torch.Tensor, tuple]:
        """Step t >= 1: tokens w_{t-1} (N,) -> log p(w_t | I, w_<t) (N, V) and the new state."""
        h, c = self.cell(self.embed(tokens), state)  # (N, H) each
        return F.log_softmax(self.out(h), dim=-1), (h, c)

    def forward(self, images: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: images (N, 3, S, S), inputs (N, T) -> logits (N, T, V)."""
        h, c = self.start(images)
        outputs = []
        for x in self.embed(inputs).unbind(1):  # x: (N, E), one word per step
            h, c = self.cell(x, (h, c))
            outputs.append(h)
        return self.out(torch.stack(outputs, dim=1))  # (N, T, V)


def caption_loss(model: CaptionModel, batch: tuple, pad_id: int = 0) -> torch.Tensor:
    """Mean cross-entropy per (non-pad) target word of a batch from `caption_batches`."""
    images, inputs, targets = batch
    logits = model(images, inputs)  # (N, T, V)
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=pad_id)


@torch.no_grad()
@in_eval_mode
def generate_captions(model: CaptionModel, images: torch.Tensor, vocab: Vocab,
                      beam_size: int = 1, max_len: int = 12, batch_size: int = 500,
                      length_penalty: float = 1.0) -> list[str]:
    """Caption images with greedy decoding (beam_size=1) or beam search; returns strings."""
    dev = model_device(model)
    captions = []
    for chunk in images.split(batch_size):
        ids = decode(model.step, model.start(chunk.to(dev)), vocab.bos_id, vocab.eos_id,
                     max_len, beam_size=beam_size, length_penalty=length_penalty)
        captions += [" ".join(vocab.decode(x)) for x in ids]
    return captions


def score_captions(captions: list[str], references: list) -> dict[str, float]:
    """BLEU (0-100, every reference) and exact-match rate (0-1) of captions."""
    return {"bleu": bleu(captions, references), "exact": exact_match(captions, references)}


def evaluate_captions(model: CaptionModel, data: CaptionSet, vocab: Vocab,
                      beam_size: int = 1) -> dict[str, float]:
    """`score_captions` of the captions the model generates for a split."""
    hyps = generate_captions(model, data.images, vocab, beam_size=beam_size)
    return score_captions(hyps, data.references)


def show_captions(images: torch.Tensor, generated: list[str], references: list[str],
                  ncols: int = 4):
    """A grid of images, each titled with its generated (G) and reference (R) caption; red
    titles mark captions that match no reference. `references`: one string or list each."""
    import matplotlib.pyplot as plt

    n = len(images)
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 3.0 * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, img, gen, ref in zip(axes.flat, images, generated, references, strict=False):
        refs = [ref] if isinstance(ref, str) else list(ref)
        ax.imshow(img.permute(1, 2, 0).cpu().numpy())
        ok = " ".join(gen.split()) in refs
        ax.set_title(f"G: {gen}\nR: {refs[0]}", fontsize=7, color="black" if ok else "red")
    fig.tight_layout()
    return fig
