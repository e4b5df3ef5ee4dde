"""Shared test set-up."""

import os

import torch

# pytest-xdist runs one worker per core: one PyTorch thread each, or small RNNs slow tenfold.
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)
