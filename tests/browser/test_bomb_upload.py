"""Real server: decompression bombs and huge-cell files uploaded on the Data page are refused,
the server stays up, and its peak memory stays within a few hundred MB of its baseline."""

from __future__ import annotations

import urllib.request

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests import bomb_files as b
from tests.browser.conftest import page_report, wait_idle
from tests.browser.steps import choose, new_person

pytestmark = pytest.mark.browser

REFUSED = "The file was refused"


def _vm(pid: int, field: str) -> int:
    """A memory figure of a process in bytes, from /proc (psutil is not installed)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"{field} not in /proc/{pid}/status")


def test_bombs_uploaded_on_data_page_are_refused_and_server_survives(
    server, browser, tmp_path, shot
) -> None:
    files = [
        b.xlsx_row_bomb(tmp_path / "rows.xlsx"),
        b.xlsx_huge_cell(tmp_path / "cell.xlsx"),
    ]
    for name, data in (
        ("lying.xlsx", b.xlsx_lying_bomb()),
        ("wide.csv", b.wide_csv()),
        ("cell.csv", b.huge_cell_csv()),
        ("dense.xlsx", b.xlsx_sheet(b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')),
    ):
        (tmp_path / name).write_bytes(data)
        files.append(tmp_path / name)
    ctx, page = new_person(browser, server.url, "analyst")
    try:
        page.get_by_role("link", name="Data", exact=True).first.click()
        wait_idle(page)
        page.get_by_role("tab", name="Upload").click()
        choose(page, "Kind", "History")
        baseline = _vm(server.proc.pid, "VmHWM")
        for path in files:
            # Choosing the file runs the preview, which must refuse without parsing.
            page.locator("input[type='file']").set_input_files(str(path))
            page.locator("[data-testid='stFileUploader']").filter(
                has_text=path.name
            ).first.wait_for(state="attached", timeout=120_000)
            wait_idle(page, timeout=120_000)
            page.get_by_text(REFUSED).first.wait_for(timeout=120_000)
            # This file's refusal, not the one before still on screen: its problems name it
            # (the grid's accessible cells; the button below is clicked only once the last
            # preview has finished).
            page.locator("[data-testid='stDataFrame'] [role='gridcell']").filter(
                has_text=path.name
            ).first.wait_for(state="attached", timeout=120_000)
            assert server.proc.poll() is None, path.name
        # The import button goes through the same checks.
        page.get_by_role("button", name="Validate and import").click()
        try:
            page.get_by_text(REFUSED).nth(1).wait_for(timeout=120_000)
        except PlaywrightTimeoutError as exc:
            shot(page, "bomb_upload_fail", failure=True)
            raise AssertionError(
                f"no refusal of the import: {page_report(page, server.log)}"
            ) from exc
        wait_idle(page, timeout=120_000)
        assert "Traceback" not in page.content()
        shot(page, "bomb_upload_refused")
    finally:
        ctx.close()
    assert server.proc.poll() is None
    with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=10) as r:
        assert r.status == 200
    peak = _vm(server.proc.pid, "VmHWM")
    assert peak < baseline + 300 * 1024 * 1024, (baseline, peak)
