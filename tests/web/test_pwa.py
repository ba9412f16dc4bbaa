"""The installable shells: the resident app's web app manifest and each page's service
worker, served from inside the page's path so that its scope covers the page."""

import json
import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def exists(client, url: str) -> bool:
    if url.startswith("/static/"):
        return finders.find(url.removeprefix("/static/")) is not None
    return client.get(url).status_code == 200


def test_the_manifest_makes_the_resident_app_installable(client):
    res = client.get("/m/manifest.webmanifest")
    assert res.status_code == 200
    assert res["Content-Type"].startswith("application/manifest+json")
    manifest = json.loads(res.content)
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/m/",
        "/m/",
        "standalone",
    )
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert exists(client, icon["src"]), icon
    page = client.get("/m/").content.decode()
    assert '<link rel="manifest" href="/m/manifest.webmanifest">' in page


@pytest.mark.parametrize(
    ("page", "worker", "module"),
    [
        ("/m/", "/m/sw.js", "/static/web/resident/screens/wallet.js"),
        ("/scan/", "/scan/sw.js", "/static/web/scanner-offline.js"),
    ],
)
def test_each_page_has_a_worker_in_its_own_scope_that_precaches_its_shell(
    client, page, worker, module
):
    res = client.get(worker)
    assert res.status_code == 200
    assert res["Content-Type"].startswith("application/javascript")
    assert "no-cache" in res["Cache-Control"]
    body = res.content.decode()
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", body).group(1))
    assert page in shell and module in shell and "/static/web/common.js" in shell
    for url in shell:
        assert exists(client, url), url
    assert not [url for url in shell if url.startswith("/api/")]  # API calls pass through
    config = json.loads(
        re.search(
            r'<script id="web-config" type="application/json">(.*?)</script>',
            client.get(page).content.decode(),
        ).group(1)
    )
    assert config["serviceWorker"] == worker
