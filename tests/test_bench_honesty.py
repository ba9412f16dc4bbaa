"""The benchmarks' honesty rules (issue 27): a timed round with an answer it did not ask
for is void and left out of the figures, a smoke run with a void round fails, and the
tokens a benchmark mints outlive its run."""

import time

import pytest

from bench import _common
from bench._common import fail_smoke_if_void, lasting_token, mean_of, ratio, unasked


def round_(rps: float, statuses: dict[str, int], socket_errors: int = 0) -> dict:
    return {
        "rps": rps,
        "p50": 10.0,
        "p99": 20.0,
        "statuses": statuses,
        "void": unasked(statuses, {"201"}, socket_errors),
    }


def test_an_answer_not_asked_for_voids_the_round():
    assert unasked({"201": 900}, {"201"}) == ""
    assert unasked({"201": 900, "401": 3}, {"201"}) == "401=3"
    assert unasked({"201": 900}, {"201"}, socket_errors=2) == "2 socket errors/timeouts"
    assert unasked({"429": 5, "503": 1}, {"201", "429", "503"}) == ""


def test_void_rounds_are_left_out_of_the_mean():
    result = mean_of([round_(1000, {"201": 8000}), round_(5000, {"401": 40000})])
    assert result["rps"] == 1000
    assert result["rounds"] == "1000 / void"
    assert result["void"] == "round 2: 401=40000"
    assert result["status"] == "201=8000 401=40000"


def test_a_target_with_only_void_rounds_has_no_figure_and_no_ratio():
    result = mean_of([round_(5000, {"201": 10, "401": 40000})])
    assert result["rps"] is None
    assert ratio(result["rps"], 1000) == "void"
    assert ratio(900, 1000) == "0.90"


def test_a_void_round_fails_a_smoke_run(monkeypatch):
    results = {"claim": mean_of([round_(300, {"201": 200, "409": 7})])}
    monkeypatch.setattr(_common, "SMOKE", False)
    fail_smoke_if_void(results)  # a timed run reports it instead
    monkeypatch.setattr(_common, "SMOKE", True)
    with pytest.raises(SystemExit, match="409=7"):
        fail_smoke_if_void(results)


def test_a_minted_token_outlives_the_run():
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken()  # the product's lifetime: minutes
    short = int(token["exp"]) - time.time()
    assert short < 3600
    lasting = AccessToken(lasting_token(token, run_seconds=2000))
    assert int(lasting["exp"]) - time.time() >= 3 * 2000 - 5
