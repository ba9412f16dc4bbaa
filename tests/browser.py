"""Waiting in a Playwright page for a JavaScript condition, under the pages' real CSP.

Playwright's `page.wait_for_function` evaluates its predicate with `eval` in the page. The
first try runs inside the DevTools call, which the Content-Security-Policy does not govern;
every later try runs from a timer, where `script-src 'self'` forbids `eval`. So it passes
when the condition already holds and fails with an EvalError when it must wait: a flaky
test (CI, 2026-12-07). `wait_until` polls with `page.evaluate` instead, each call through
the DevTools protocol, so the pages keep their real CSP."""

from typing import Any

from playwright.sync_api import Error as PlaywrightError


def wait_until(page, expression: str, arg: Any = None, *, timeout_ms: int = 15_000) -> Any:
    """Poll `expression` (or a function of `arg`) every 100 ms until it is truthy; return it.
    A navigation under way (the page's context replaced) counts as not yet, as it does for
    `wait_for_function`."""
    for _ in range(max(1, timeout_ms // 100)):
        try:
            value = page.evaluate(expression, arg)
        except PlaywrightError as error:
            if "context was destroyed" not in str(error):
                raise
            value = None
        if value:
            return value
        page.wait_for_timeout(100)
    raise AssertionError(f"never true in {timeout_ms} ms: {expression}")
