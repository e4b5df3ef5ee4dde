"""rnn_lib: the teaching library of the RNN course.

One module per idea, named after it, in a flat package that maps to the lectures (the README's
"rnn_lib, module by module" says which lecture uses which).

Letters in shapes, the same in every module:
    N  batch size                      T  sequence length (L in `layers`, as in torch.nn)
    H  hidden size (H_in: input size)  D  directions, 2 if bidirectional else 1
    E  embedding size (embedding_dim)  V  vocabulary size
    S  source length (attention)       the number of layers is spelled out: num_layers
A module that needs another letter (K: beam size, tags or keys) says so in its docstring.

The modules, by what they are:
    cells and layers   cells, layers, wavefront, initialization
    learning by hand   autograd, graph_plot, bptt, gradients
    data               vocab, batching, tasks, grammar, lexicon, translation, stocks
    models             encoders, classifiers, taggers, charlm, ngram, attention, seq2seq,
                       captioning, caption_baselines, translation_baselines
    decoding           decoding, sampling
    looking inside     gates, units, embeddings, caption_analysis
    tools              training, runtime, metrics, plotting, diagrams, labcheck
"""

__version__ = "0.1.0"
