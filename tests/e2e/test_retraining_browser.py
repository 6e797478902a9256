"""An admin adds an example and trains a version to completion, in real headless Chromium."""

from __future__ import annotations

import pytest
import yaml

from nlu.rasa_cli import ROOT
from tests.e2e.conftest import SHOTS
from tests.e2e.test_console_browser import sign_in

pytestmark = [pytest.mark.rasa, pytest.mark.browser, pytest.mark.slow]


def test_admin_adds_an_example_and_trains_a_version(live, page):
    base, app, _ = live
    sign_in(page, base, "ada")
    page.click("text=Admin")
    page.click("text=Intents")
    intents = yaml.safe_load((ROOT / "domain.yml").read_text())["intents"]
    assert page.locator("#intents tbody tr").count() == len(intents) == 31
    page.screenshot(path=str(SHOTS / "admin-intents.png"), full_page=True)
    page.click("#intents a:has-text('graffiti')")
    page.fill(
        "#add-example input[name=text]", "somebody tagged the playground slide with spray paint"
    )
    page.click("#add-example button")
    assert "passed rasa data validate" in page.content()
    exported = app.test_cli_runner().invoke(args=["nlu", "export"]).output  # from the store
    assert "somebody tagged the playground slide" in exported
    page.fill(
        "#add-example input[name=text]", "Somebody tagged the playground slide with spray paint"
    )
    page.click("#add-example button")
    assert "already in graffiti" in page.content()

    page.click("text=Models")
    page.click("#train button")
    page.wait_for_selector("#progress")
    seen = set()
    for _ in range(300):
        status = page.locator("#status").inner_text()
        seen.add(page.locator("#percent").inner_text())
        if status == "trained":
            break
        page.wait_for_timeout(1000)
    page.wait_for_selector("#scores")  # the page reloads itself with the evaluation
    assert page.locator("#status").inner_text() == "trained"
    assert len(seen) > 1  # live progress moved
    assert page.locator("img[alt^='confusion matrix']").evaluate("i => i.naturalWidth") > 0
    page.screenshot(path=str(SHOTS / "admin-model.png"), full_page=True)
