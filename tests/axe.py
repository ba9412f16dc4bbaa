"""axe-core (tests/vendor/axe.min.js, MPL-2.0, v4.11.4 from npm) in a Playwright page:
`serious_violations(page)` runs it on what the page shows now and returns the serious and
critical violations, each as "rule-id: help (selector, …)", [] when there are none.

The script is evaluated through the DevTools protocol (`page.evaluate`), which the pages'
Content-Security-Policy does not govern, so the pages are checked with their real CSP."""

from pathlib import Path

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
SEVERE = ("serious", "critical")


def serious_violations(page, *, include: str | None = None) -> list[str]:
    """The serious/critical axe-core violations of the page (WCAG 2.x A and AA rules)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(f"() => {{ {AXE_SOURCE}\n; window.axe = axe; }}")
    result = page.evaluate(
        """async (include) => {
            const context = include ? {include: [include]} : document;
            const r = await window.axe.run(context, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
                resultTypes: ['violations'],
            });
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
            }));
        }""",
        include,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} [{', '.join(v['targets'])}]"
        for v in result
        if v["impact"] in SEVERE
    ]
