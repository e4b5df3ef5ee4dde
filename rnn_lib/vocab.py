"""A vocabulary: the two-way map between tokens (words or characters) and integer ids."""

from collections import Counter
from collections.abc import Iterable, Sequence

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"


class Vocab:
    """Tokens <-> ids. Special tokens come first, then the rest by falling frequency
    (ties in order of first appearance), so the same corpus always gives the same ids.

    Args:
        tokens: the ordinary tokens, in id order (use `Vocab.build` to count a corpus).
        specials: special tokens put first; any of PAD, UNK, BOS, EOS may be left out
            (a character vocabulary often has none).
    """

    def __init__(self, tokens: Iterable[str], specials: Sequence[str] = (PAD, UNK, BOS, EOS)):
        self.itos: list[str] = []
        self.stoi: dict[str, int] = {}
        for tok in [*specials, *tokens]:
            if tok in self.stoi:
                raise ValueError(f"expected distinct tokens, got {tok!r} twice")
            self.stoi[tok] = len(self.itos)
            self.itos.append(tok)
        self.specials = tuple(specials)

    @classmethod
    def build(cls, sequences: Iterable[Iterable[str]],
              specials: Sequence[str] = (PAD, UNK, BOS, EOS), min_freq: int = 1) -> "Vocab":
        """Count the tokens of `sequences` (a string counts as a sequence of characters) and
        keep those seen at least `min_freq` times."""
        counts = Counter()
        for seq in sequences:
            counts.update(seq)
        kept = [t for t, n in counts.most_common() if n >= min_freq and t not in specials]
        return cls(kept, specials)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self.itos[:8])
        more = ", ..." if len(self) > 8 else ""
        return f"Vocab(size={len(self)}, [{head}{more}])"

    def _special_id(self, tok):
        return self.stoi.get(tok) if tok in self.specials else None

    @property
    def pad_id(self):
        return self._special_id(PAD)

    @property
    def unk_id(self):
        return self._special_id(UNK)

    @property
    def bos_id(self):
        return self._special_id(BOS)

    @property
    def eos_id(self):
        return self._special_id(EOS)

    def encode(self, tokens: Iterable[str], add_bos: bool = False,
               add_eos: bool = False) -> list[int]:
        """Token ids of `tokens`; unknown tokens map to <unk> (an error without one)."""
        ids = []
        for tok in tokens:
            idx = self.stoi.get(tok, self.unk_id)
            if idx is None:
                raise KeyError(f"token {tok!r} is not in the vocabulary and it has no {UNK}")
            ids.append(idx)
        if add_bos:
            ids.insert(0, self._require(BOS))
        if add_eos:
            ids.append(self._require(EOS))
        return ids

    def decode(self, ids: Iterable[int], strip_specials: bool = True) -> list[str]:
        """Tokens of `ids` (ints or a 1-D tensor); stops at <eos> and drops specials when
        `strip_specials`."""
        out = []
        for i in ids:
            tok = self.itos[int(i)]
            if strip_specials and tok == EOS:
                break
            if strip_specials and tok in self.specials:
                continue
            out.append(tok)
        return out

    def _require(self, tok):
        idx = self._special_id(tok)
        if idx is None:
            raise ValueError(f"this vocabulary has no {tok} token (specials: {self.specials})")
        return idx
