"""`/_mock/docs` works offline: Swagger UI's script and style come from the mock itself (the installed
fastapi-offline package), so the page renders with every request outside loopback refused."""

from __future__ import annotations

from urllib.parse import urlsplit

from kiemthu.runtime import CHROMIUM_ARGS, chromium_path


def test_docs_page_renders_with_no_request_leaving_the_mock(portal_server):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    control = urlsplit(portal_server.control_url).netloc
    requested: list[str] = []
    refused: list[str] = []

    def only_the_mock(route):
        url = route.request.url
        requested.append(url)
        if urlsplit(url).netloc == control:
            route.continue_()
        else:  # a CDN (or any other host) would be reached here: offline, this is where the page went blank
            refused.append(url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(headless=True), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.route("**/*", only_the_mock)
            page.goto(f"{portal_server.control_url}/_mock/docs")
            # rendered by Swagger UI from /_mock/openapi.json: the title and an operation of the control API
            try:
                page.locator(".swagger-ui .info .title").wait_for(timeout=20000)
                page.locator(".opblock-summary-path", has_text="/_mock/journal").first.wait_for(timeout=20000)
            except PlaywrightTimeout:
                assert refused == [], "the page asks other hosts"
                raise
            title = page.locator(".swagger-ui .info .title").inner_text()
        finally:
            browser.close()
    assert "API điều khiển" in title
    assert refused == []
    assert any(u.endswith("/_mock/docs/assets/swagger-ui-bundle.js") for u in requested)
    assert any(u.endswith("/_mock/openapi.json") for u in requested)


def test_docs_assets_are_open_but_the_api_still_needs_the_token(portal_server):
    import httpx

    with httpx.Client(base_url=portal_server.control_url, trust_env=False, timeout=10) as http:
        css = http.get("/_mock/docs/assets/swagger-ui.css")
        assert css.status_code == 200 and "text/css" in css.headers["content-type"]
        assert http.get("/_mock/journal").status_code == 401
        assert http.get("/_mock/docs/assets/../journal").status_code in (401, 404)
