"""The test cells of lab3_attention (hidden tests included), run without a kernel: the
reference answers pass, and each classic mistake fails the cells it should."""

import pytest
from labcells import lab_path, read_cells, run_cell, run_cells

ANSWERS = ("additive_scores", "attention_context", "decoder_step", "greedy_translate")
TESTS = {name: [f"test_{name}", f"test_{name}_edge"] for name in ANSWERS}
CELLS = read_cells(lab_path("lab3_attention"))


@pytest.fixture(scope="module")
def notebook():
    """The namespace after the parameters, setup, helper and answer cells."""
    namespace = {"__name__": "__main__"}
    names = list(CELLS)
    for name in names[:2] + ["test_helpers", "lstm_cell", *ANSWERS]:
        run_cell(CELLS[name], namespace, name)
    return namespace


def _grade(notebook, answer, source=None):
    """{test cell: None if it passes, else the error} with `answer` replaced by `source`."""
    namespace = dict(notebook)
    if source is not None:
        run_cell(source, namespace, f"mutant-{answer}")
    return run_cells(CELLS, namespace, TESTS[answer])


@pytest.mark.parametrize("answer", ANSWERS)
def test_reference_answers_pass(notebook, answer):
    assert _grade(notebook, answer) == {t: None for t in TESTS[answer]}


SCORES = "torch.tanh((query @ W.T).unsqueeze(1) + keys @ U.T + b) @ v"
STEP = '''
def decoder_step(token, state, memory, mask, params):
    h_prev, c_prev = state
    emb = params["embedding.weight"][token]
    scores = additive_scores(h_prev, memory, params["attention.W.weight"],
                             params["attention.U.weight"], params["attention.U.bias"],
                             params["attention.v.weight"][0], MASK)
    context, weights = attention_context(scores, memory, MASK)
    h, c = lstm_cell(torch.cat([emb, context], -1), h_prev, c_prev, params["cell.weight_ih"],
                     params["cell.weight_hh"], params["cell.bias_ih"], params["cell.bias_hh"])
    logits = torch.cat([h, context, emb], -1) @ params["out.weight"].T + params["out.bias"]
    return torch.log_softmax(logits, -1), (h, c), weights
'''
GREEDY = '''
def greedy_translate(memory, mask, state, params, bos_id, eos_id, max_len):
    token = torch.full((memory.shape[0],), bos_id, dtype=torch.long)
    out, done = [[] for _ in range(memory.shape[0])], [False] * memory.shape[0]
    for _ in range(max_len):
        log_probs, state, _ = decoder_step(token, state, memory, mask, params)
        token = log_probs.argmax(-1)
        for n, word in enumerate(token.tolist()):
            if done[n]:
                continue
            if word == eos_id:
                done[n] = True
            else:
                out[n].append(word)
        if all(done):
            break
    return out
'''
MISTAKES = {
    # (answer, source, {test cell: expected text in its error}; a cell not listed must pass)
    "scores without mask": ("additive_scores", f'''
def additive_scores(query, keys, W, U, b, v, mask):
    return {SCORES}
''', {"test_additive_scores": "must score -inf", "test_additive_scores_edge": "-inf"}),
    "scores masked by a product": ("additive_scores", f'''
def additive_scores(query, keys, W, U, b, v, mask):
    return ({SCORES}) * mask + (~mask) * float("-inf")
''', {"test_additive_scores": "NaN", "test_additive_scores_edge": "NaN"}),
    "scores without bias": ("additive_scores", f'''
def additive_scores(query, keys, W, U, b, v, mask):
    return ({SCORES.replace(" + b", "")}).masked_fill(~mask, float("-inf"))
''', {"test_additive_scores": "relative error", "test_additive_scores_edge": "relative error"}),
    "scores in float32": ("additive_scores", f'''
def additive_scores(query, keys, W, U, b, v, mask):
    query, keys, W, U, b, v = (t.float() for t in (query, keys, W, U, b, v))
    return ({SCORES}).masked_fill(~mask, float("-inf"))
''', {"test_additive_scores_edge": "dtype"}),
    "scores through a test helper": ("additive_scores", '''
def additive_scores(query, keys, W, U, b, v, mask):
    return reference_scores(query, keys, W, U, b, v, mask)
''', {"test_additive_scores": "AdditiveAttention", "test_additive_scores_edge": "rnn_lib"}),
    "softmax without mask": ("attention_context", '''
def attention_context(scores, keys, mask):
    weights = torch.softmax(scores, -1)
    return (weights.unsqueeze(-1) * keys).sum(1), weights
''', {"test_attention_context": "weights", "test_attention_context_edge": "weights"}),
    "weights zeroed after the softmax": ("attention_context", '''
def attention_context(scores, keys, mask):
    weights = torch.softmax(scores, -1) * mask
    return (weights.unsqueeze(-1) * keys).sum(1), weights
''', {"test_attention_context": "weights", "test_attention_context_edge": "weights"}),
    "exp without the maximum": ("attention_context", '''
def attention_context(scores, keys, mask):
    e = torch.exp(scores) * mask
    weights = e / e.sum(-1, keepdim=True)
    return (weights.unsqueeze(-1) * keys).sum(1), weights
''', {"test_attention_context_edge": "1e3"}),
    "rnn_lib's masked_softmax": ("attention_context", '''
def attention_context(scores, keys, mask):
    from rnn_lib.attention import masked_softmax
    weights = masked_softmax(scores, mask)
    return (weights.unsqueeze(-1) * keys).sum(1), weights
''', {"test_attention_context": "rnn_lib", "test_attention_context_edge": "rnn_lib"}),
    "logits instead of log-probs": ("decoder_step", STEP.replace(
        "torch.log_softmax(logits, -1)", "logits").replace("MASK", "mask"),
        {"test_decoder_step": "sum to 1", "test_decoder_step_edge": "sum to 1"}),
    "context before embedding": ("decoder_step", STEP.replace(
        "torch.cat([emb, context], -1)", "torch.cat([context, emb], -1)").replace("MASK", "mask"),
        {"test_decoder_step": "cell state", "test_decoder_step_edge": "cell state"}),
    "no mask in the decoder": ("decoder_step", STEP.replace("MASK", "torch.ones_like(mask)"),
                               {"test_decoder_step": "attention weights",
                                "test_decoder_step_edge": "attention weights"}),
    "eos kept": ("greedy_translate", GREEDY.replace(
        "                done[n] = True\n            else:\n                out[n].append(word)",
        "                done[n] = True\n            out[n].append(word)"),
        {"test_greedy_translate": "sentence", "test_greedy_translate_edge": "sentence"}),
    "no per-sentence stop": ("greedy_translate", GREEDY.replace(
        "            if done[n]:\n                continue\n", ""),
        {"test_greedy_translate": "sentence", "test_greedy_translate_edge": "sentence"}),
    "one step short": ("greedy_translate", GREEDY.replace("range(max_len)", "range(max_len - 1)"),
                       {"test_greedy_translate": "sentence",
                        "test_greedy_translate_edge": "sentence"}),
    "tensors instead of lists": ("greedy_translate", GREEDY.replace(
        "    return out", "    return [torch.tensor(o) for o in out]"),
        {"test_greedy_translate": "Python ints", "test_greedy_translate_edge": "Python ints"}),
    "rnn_lib's greedy_decode": ("greedy_translate", '''
def greedy_translate(memory, mask, state, params, bos_id, eos_id, max_len):
    return reference_greedy(params, memory, mask, state, bos_id, eos_id, max_len)
''', {"test_greedy_translate": "greedy_decode", "test_greedy_translate_edge": "greedy_decode"}),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_classic_mistakes_fail(notebook, mistake):
    answer, source, failing = MISTAKES[mistake]
    results = _grade(notebook, answer, source)
    for test, error in results.items():
        if test in failing:
            assert error is not None and failing[test] in error, (test, error)
        else:
            assert error is None, (test, error)


CORRECT_VARIANTS = {
    "renormalised softmax": ("attention_context", '''
def attention_context(scores, keys, mask):
    weights = torch.softmax(scores.masked_fill(~mask, -1e30), -1) * mask
    weights = weights / weights.sum(-1, keepdim=True)
    return (weights.unsqueeze(-1) * keys).sum(1), weights
'''),
    "decorated with no_grad": ("decoder_step", "@torch.no_grad()" + STEP.replace("MASK", "mask")),
    "one sentence at a time": ("greedy_translate", '''
def greedy_translate(memory, mask, state, params, bos_id, eos_id, max_len):
    out = []
    for n in range(memory.shape[0]):
        st, token, words = (state[0][n:n + 1], state[1][n:n + 1]), torch.tensor([bos_id]), []
        for _ in range(max_len):
            log_probs, st, _ = decoder_step(token, st, memory[n:n + 1], mask[n:n + 1], params)
            token = log_probs.argmax(-1)
            if int(token) == eos_id:
                break
            words.append(int(token))
        out.append(words)
    return out
'''),
}


@pytest.mark.parametrize("variant", CORRECT_VARIANTS)
def test_other_correct_answers_pass(notebook, variant):
    answer, source = CORRECT_VARIANTS[variant]
    assert _grade(notebook, answer, source) == {t: None for t in TESTS[answer]}
