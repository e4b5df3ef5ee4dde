"""Encoder, decoders and the decoder loop: shapes, padding, teacher forcing, decoding, overfit."""

import pytest
import torch
import torch.nn.functional as F

from rnn_lib.decoding import greedy_decode
from rnn_lib.seq2seq import Encoder, make_model, mean_memory, seq2seq_loss, translate
from rnn_lib.training import train

SV, TV, PAD, BOS, EOS = 11, 9, 0, 2, 3


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small models run faster on one thread, and far faster when the cores are shared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([5, 2, 4])
    src = torch.randint(4, SV, (3, 5), generator=g)
    src[1, 2:] = PAD
    src[2, 4:] = PAD
    tgt_in = torch.randint(4, TV, (3, 6), generator=g)
    tgt_in[:, 0] = BOS
    return src, lengths, tgt_in


@pytest.mark.parametrize("bidirectional", [True, False])
def test_encoder_shapes_and_padding(bidirectional):
    torch.manual_seed(0)
    enc = Encoder(SV, 8, 10, bidirectional=bidirectional, pad_id=PAD)
    src, lengths, _ = batch()
    out = enc(src, lengths)
    D = 2 if bidirectional else 1
    assert out.memory.shape == (3, 5, D * 10) and enc.output_size == D * 10
    assert out.h.shape == out.c.shape == (3, 10)
    assert torch.equal(out.mask, torch.arange(5) < lengths[:, None])
    assert torch.all(out.memory[~out.mask] == 0)
    # a sentence encodes the same alone as inside a padded batch
    alone = enc(src[1:2, :2], lengths[1:2])
    assert torch.allclose(alone.memory[0], out.memory[1, :2], atol=1e-6)
    assert torch.allclose(alone.h[0], out.h[1], atol=1e-6)


@pytest.mark.parametrize("attention", [True, False])
def test_forward_shapes(attention):
    torch.manual_seed(0)
    model = make_model(SV, TV, attention, embedding_dim=8, hidden_size=10, pad_id=PAD)
    src, lengths, tgt_in = batch()
    out = model(src, lengths, tgt_in)
    assert out.logits.shape == (3, 6, TV)
    if attention:
        assert out.attention.shape == (3, 6, 5)
        assert torch.allclose(out.attention.sum(-1), torch.ones(3, 6))
        assert torch.all(out.attention[1, :, 2:] == 0)  # padding of the second sentence
    else:
        assert out.attention is None


@pytest.mark.parametrize(("attention", "context"), [(True, False), (False, False), (False, True)])
def test_forward_equals_stepping_by_hand(attention, context):
    torch.manual_seed(0)
    model = make_model(SV, TV, attention, embedding_dim=8, hidden_size=10, pad_id=PAD,
                       context=context).eval()
    src, lengths, tgt_in = batch()
    logits = model(src, lengths, tgt_in).logits
    state = model.start(src, lengths)
    for t in range(tgt_in.shape[1]):
        log_probs, state = model.step(tgt_in[:, t], state)
        assert torch.allclose(log_probs, F.log_softmax(logits[:, t], -1), atol=1e-6)


def test_teacher_forcing_zero_feeds_the_greedy_guess():
    torch.manual_seed(0)
    model = make_model(SV, TV, True, embedding_dim=8, hidden_size=10, pad_id=PAD).eval()
    src, lengths, tgt_in = batch()
    free = model(src, lengths, tgt_in, teacher_forcing=0.0).logits  # own guesses only
    guesses = free.argmax(-1)  # (N, T)
    forced = model(src, lengths, torch.cat([tgt_in[:, :1], guesses[:, :-1]], 1)).logits
    assert torch.allclose(free, forced, atol=1e-6)
    # and the model's own guesses are exactly what greedy decoding produces (before eos)
    tokens, _ = greedy_decode(model.step, model.start(src, lengths), BOS, 10_000, max_len=6)
    assert torch.equal(tokens, guesses)
    # a ratio in between mixes both: differs from full teacher forcing somewhere
    mixed = model(src, lengths, tgt_in, teacher_forcing=0.5).logits
    truth = model(src, lengths, tgt_in).logits
    assert not torch.allclose(mixed, truth)
    with pytest.raises(ValueError, match=r"expected teacher_forcing in \[0, 1\]"):
        model(src, lengths, tgt_in, teacher_forcing=1.5)


def test_tiny_overfit_reaches_near_zero_loss_and_translates():
    torch.manual_seed(0)
    # 8 "sentences": the target is the source reversed, shifted into the target vocabulary
    g = torch.Generator().manual_seed(1)
    lengths = torch.tensor([5, 4, 3, 5, 2, 4, 3, 5])
    src = torch.full((8, 5), PAD)
    tgt_in = torch.full((8, 6), PAD)
    tgt_out = torch.full((8, 6), PAD)
    targets = []
    for n, L in enumerate(lengths.tolist()):
        s = torch.randint(4, SV, (L,), generator=g)
        t = (s.flip(0) % (TV - 4)) + 4
        src[n, :L], tgt_in[n, 0], tgt_in[n, 1:L + 1] = s, BOS, t
        tgt_out[n, :L], tgt_out[n, L] = t, EOS
        targets.append(t.tolist())
    model = make_model(SV, TV, True, embedding_dim=16, hidden_size=32, pad_id=PAD)
    hist = train(model, seq2seq_loss(PAD), [(src, lengths, tgt_in, tgt_out)], epochs=150,
                 lr=1e-2, progress=False)
    assert hist.step_loss[0] > 1.5 and hist.step_loss[-1] < 0.02
    assert translate(model, src, lengths, BOS, EOS) == targets
    assert translate(model, src, lengths, BOS, EOS, beam_size=3) == targets


def test_mean_memory_averages_the_real_positions_only():
    memory = torch.arange(2 * 3 * 2, dtype=torch.float32).reshape(2, 3, 2)
    mask = torch.tensor([[True, True, True], [True, False, False]])
    expected = torch.stack([memory[0].mean(0), memory[1, 0]])
    assert torch.equal(mean_memory(memory, mask), expected)


def test_context_decoder_sees_the_mean_encoder_state_at_every_step():
    torch.manual_seed(0)
    model = make_model(SV, TV, False, embedding_dim=8, hidden_size=10, pad_id=PAD, context=True)
    src, lengths, tgt_in = batch()
    state = model.start(src, lengths)
    enc = model.encoder(src, lengths)
    assert torch.allclose(state["context"], mean_memory(enc.memory, enc.mask))
    assert state["context"].shape == (3, 20)  # D*H: bidirectional, 10 per direction
    # the context stays the same while h and c move on
    _, after = model.step(tgt_in[:, 0], state)
    assert torch.equal(after["context"], state["context"])
    assert not torch.equal(after["h"], state["h"])
    # changing the source only through the context changes the output (it is used)
    out1, _ = model.step(tgt_in[:, 0], state)
    out2, _ = model.step(tgt_in[:, 0], {**state, "context": state["context"] + 1.0})
    assert not torch.allclose(out1, out2)
    # sizes: the cell reads [emb; c], the output layer [s; c; emb]
    assert model.decoder.cell.weight_ih.shape == (40, 8 + 20)
    assert model.decoder.out.weight.shape == (TV, 10 + 20 + 8)
    with pytest.raises(ValueError, match="expected context=False with attention"):
        make_model(SV, TV, True, context=True)
