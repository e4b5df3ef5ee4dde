"""rnn_lib: the teaching library of the RNN course."""

__version__ = "0.1.0"
