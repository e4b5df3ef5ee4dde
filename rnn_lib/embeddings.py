"""Reading a learned embedding: which words does a model place close together?

An embedding is a matrix of shape (V, E), one row per word. Two words whose rows point the
same way (cosine similarity near 1) are treated alike by the layers that read them; after
training, words of the same kind (nouns, verbs, ...) often end up as neighbours.

where V = vocabulary size, E = embedding size, Q = number of query words, k = neighbours.
"""

import torch


def cosine_similarities(weight: torch.Tensor) -> torch.Tensor:
    """All pairwise cosine similarities of the rows of `weight` (V, E); returns (V, V).
    A zero row (the padding's) has similarity 0 with every row."""
    if weight.dim() != 2:
        raise ValueError(f"expected an embedding of shape (V, E), got {tuple(weight.shape)}")
    unit = torch.nn.functional.normalize(weight.detach().float(), dim=1)  # (V, E)
    return unit @ unit.T  # (V, V)


def nearest_neighbours(weight: torch.Tensor, query_ids, k: int = 5, exclude=()):
    """The k rows most similar (cosine) to each query row, the query itself left out.

    Inputs:
    - weight: the embedding, of shape (V, E)
    - query_ids: Q row indices
    - k: neighbours per query
    - exclude: row indices never returned (for example the special tokens)
    Returns (ids, sims): LongTensor and tensor of shape (Q, k), most similar first.
    """
    sims = cosine_similarities(weight)  # (V, V)
    V = sims.shape[0]
    banned = list(exclude)
    if k > V - 1 - len(set(banned)):
        raise ValueError(f"expected k <= {V - 1 - len(set(banned))} (the rows left), got {k}")
    query = torch.as_tensor(list(query_ids), dtype=torch.long)  # (Q,)
    rows = sims[query].clone()  # (Q, V)
    rows[:, banned] = float("-inf")
    rows[torch.arange(len(query)), query] = float("-inf")  # not its own neighbour
    top = rows.topk(k, dim=1)
    return top.indices, top.values  # (Q, k) each
