"""Inngang: the application (settings, channels, router, store, queue, CLI)."""

import os

# NumPy's OpenBLAS starts a thread per core for a matrix product and lets them spin for a
# while after each one. The application's products are small (a message's vector against
# the training sentences'), one per message, on worker threads of their own: the spinning
# cost 25-35 ms of CPU per web chat message on 2 cores (scripts/bench_e2e.py), taken from
# the Rasa server beside it. Set before NumPy is imported (an explicit setting is kept).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
