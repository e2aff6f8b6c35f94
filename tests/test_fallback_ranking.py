"""The offline matcher ranks its nearest examples by a partial sort: the same rows in the same
order (best first, ties in row order) as sorting every score, which it did before."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from nlu.fallback import top_rows


def sorted_rows(scores: np.ndarray, count: int) -> list[int]:
    return [int(row) for row in np.argsort(-scores, kind="stable")[:count]]


@given(
    st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.5, 0.9, 1.0, -0.2]), max_size=60),
    st.integers(min_value=0, max_value=70),
)
def test_the_top_rows_are_those_of_a_full_sort_ties_included(
    values: list[float], count: int
) -> None:
    scores = np.array(values, dtype=np.float32)
    assert [int(row) for row in top_rows(scores, count)] == sorted_rows(scores, count)


def test_the_top_rows_of_many_scores_are_those_of_a_full_sort() -> None:
    rng = np.random.default_rng(7)
    for _ in range(50):
        scores = np.round(rng.random(6000), 3).astype(np.float64)  # many ties
        assert [int(row) for row in top_rows(scores, 20)] == sorted_rows(scores, 20)
