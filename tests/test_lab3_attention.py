"""The test cells of lab3_attention (hidden tests included), run without a kernel: the
reference answers pass, and each classic mistake fails the cells it should, with a message
that names it (in lines that nbgrader validate shows whole), and no other cell: a mistake in
one answer costs only that answer's points."""

import pytest
from labcells import (
    graded_cells,
    lab_path,
    long_lines,
    read_cells,
    run_cell,
    run_cells,
    strip_hidden,
)

ANSWERS = ("additive_scores", "attention_context", "decoder_step", "greedy_translate")
LAB = lab_path("lab3_attention")
CELLS = read_cells(LAB)
GRADED = [name for name in graded_cells(LAB) if name in CELLS]  # the code cells
TESTS = {name: [test for test in GRADED if test.startswith(f"test_{name}")] for name in ANSWERS}


def test_every_graded_cell_tests_one_answer():
    assert sorted(sum(TESTS.values(), [])) == sorted(GRADED)
    assert TESTS["decoder_step"] == ["test_decoder_step_attention", "test_decoder_step_state",
                                     "test_decoder_step", "test_decoder_step_edge"]
    assert TESTS["greedy_translate"] == ["test_greedy_translate_eos", "test_greedy_translate",
                                         "test_greedy_translate_edge"]


@pytest.fixture(scope="module")
def notebook():
    """The namespace after the parameters, setup, helper and answer cells."""
    namespace = {"__name__": "__main__"}
    names = list(CELLS)
    for name in names[:2] + ["test_helpers", "lstm_cell", *ANSWERS]:
        run_cell(CELLS[name], namespace, name)
    return namespace


def _grade(notebook, answer, source=None, tests=None):
    """{test cell: None if it passes, else the error} with `answer` replaced by `source`:
    the test cells of `answer`, or `tests`."""
    namespace = dict(notebook)
    if source is not None:
        run_cell(source, namespace, f"mutant-{answer}")
    return run_cells(CELLS, namespace, TESTS[answer] if tests is None else tests)


def test_student_version_passes_the_reference_answers_and_shows_nothing():
    """The visible checks alone (hidden tests removed) pass the reference answers, and no test
    cell ends with an expression that displays a value (nbgrader reads it as a score)."""
    shown = {}
    visible = {name: strip_hidden(source) for name, source in CELLS.items()}
    names = list(CELLS)
    names = names[:2] + ["test_helpers", "lstm_cell", *ANSWERS, *GRADED]
    results = run_cells(visible, names=names, shown=shown)
    assert results == dict.fromkeys(names), {k: e for k, e in results.items() if e}
    assert not shown


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
''', dict.fromkeys(TESTS["additive_scores"], "the bias b is missing")),
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
        {test: "the LSTM input looks like [context; emb]"
         for test in ("test_decoder_step_state", "test_decoder_step", "test_decoder_step_edge")}),
    "no mask in the decoder": ("decoder_step", STEP.replace("MASK", "torch.ones_like(mask)"),
                               dict.fromkeys(TESTS["decoder_step"], "the padding gets attention")),
    "output layer reads [h; emb; context]": ("decoder_step", STEP.replace(
        "torch.cat([h, context, emb], -1)", "torch.cat([h, emb, context], -1)").replace(
        "MASK", "mask"), {test: "the output layer looks like it reads [h; emb; context]"
                          for test in ("test_decoder_step", "test_decoder_step_edge")}),
    "eos kept": ("greedy_translate", GREEDY.replace(
        "                done[n] = True\n            else:\n                out[n].append(word)",
        "                done[n] = True\n            out[n].append(word)"),
        dict.fromkeys(TESTS["greedy_translate"], "holds <eos> (id 3)")),
    "words after <eos> kept": ("greedy_translate", GREEDY.replace(
        "            if done[n]:\n                continue\n", ""),
        dict.fromkeys(TESTS["greedy_translate"], "kept words after its first <eos>")),
    "one step short": ("greedy_translate", GREEDY.replace("range(max_len)", "range(max_len - 1)"),
                       dict.fromkeys(TESTS["greedy_translate"], "without <eos>, max_len =")),
    "stops when the first sentence ends": ("greedy_translate", GREEDY.replace(
        "        if all(done):", "        if any(done):"),
        {"test_greedy_translate_eos": "stop when another sentence ends?",
         "test_greedy_translate": "stop when another sentence ends?",
         "test_greedy_translate_edge": "stop when another sentence ends?"}),
    "feeds <bos> at every step": ("greedy_translate", GREEDY.replace(
        "        token = log_probs.argmax(-1)\n", "        token = token * 0 + bos_id\n"
        "        word_ids = log_probs.argmax(-1)\n").replace("token.tolist()", "word_ids.tolist()"),
        {"test_greedy_translate_eos": "feed back the argmax of\nthe previous step",
         "test_greedy_translate": "feed back the argmax",
         "test_greedy_translate_edge": "feed back the argmax"}),
    "tensors instead of lists": ("greedy_translate", GREEDY.replace(
        "    return out", "    return [torch.tensor(o) for o in out]"),
        dict.fromkeys(TESTS["greedy_translate"], "Python ints")),
    "rnn_lib's greedy_decode": ("greedy_translate", '''
def greedy_translate(memory, mask, state, params, bos_id, eos_id, max_len):
    return reference_greedy(params, memory, mask, state, bos_id, eos_id, max_len)
''', dict.fromkeys(TESTS["greedy_translate"], "greedy_decode")),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_classic_mistakes_fail(notebook, mistake):
    """The mistake fails exactly the cells listed, each naming it; every other cell of the
    lab (the other answers' included) passes."""
    answer, source, failing = MISTAKES[mistake]
    results = _grade(notebook, answer, source, tests=GRADED)
    for test, error in results.items():
        if test in failing:
            assert error is not None and failing[test] in error, (test, error)
            assert error.startswith("AssertionError: "), (test, error)
            assert not long_lines(error.removeprefix("AssertionError: ")), (test, error)
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
