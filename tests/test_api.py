"""Issue 17 (part A): the HTTP API, its tokens, and the CLI through --server.

The many small cases run against the API's routes served by a real uvicorn in a thread of
this process (one per module), each test on its own copy of the seeded demo: the routes
open the process's one connection to CALIBRATE_DB, which the test switches per test. The
real `streamlit run server.py` path is tests/browser/test_api_server.py.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
import uvicorn
from starlette.applications import Starlette

from calibration import access, events
from calibration.accounts.auth import SYSTEM, User
from calibration.api import routes as api_routes
from calibration.api import service as api_service
from calibration.api import tokens
from calibration.api.openapi import document
from calibration.cli import main as cli_main
from calibration.negotiation import service as neg
from calibration.store import backup, connect, shared_connection
from calibration.store import core as store_core
from calibration.store.core import table_row_counts
from tests.factories import copy_demo

# The call log grows with every call, refused ones too; "nothing changed" means the rest.
CALL_LOG = "api_calls"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """The API routes served by uvicorn on a free port, for the whole module."""
    port = _free_port()
    config = uvicorn.Config(
        Starlette(routes=api_routes.routes()),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the API test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        assert self.headers.get("content-type", "").startswith("application/json"), self.headers
        return json.loads(self.body)


@dataclass
class Api:
    """The server, this test's database and a token per scope."""

    url: str
    db: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def cur(self):
        return shared_connection(self.db).cursor()

    def call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        request = urllib.request.Request(
            self.url + path, data=body, method=method, headers=dict(headers or {})
        )
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=120) as r:
                return Reply(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


@pytest.fixture
def api(
    base_url: str, tmp_path: Path, demo_template: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Api]:
    """A private demo copy as CALIBRATE_DB, with one token per scope and a fresh bucket."""
    db = copy_demo(demo_template, tmp_path / "api.duckdb")
    monkeypatch.setenv("CALIBRATE_DB", str(db))
    api_routes.BUCKET.reset()
    out = Api(base_url, db)
    cur = out.cur()
    for scope in access.TOKEN_SCOPES:
        out.tokens[scope] = tokens.add_token(cur, SYSTEM, f"t-{scope}", [scope])
    yield out
    con = store_core._shared.pop((str(db), False), None)  # this test's connection only
    if con is not None:
        con.close()


def _counts(api: Api) -> dict[str, int]:
    counts = table_row_counts(api.cur())
    counts.pop(CALL_LOG)
    return counts


GOOD_HISTORY = (
    b"region,period,metric,value\neast,2026Q2,new_customers,61\nwest,2026Q2,new_customers,44\n"
)


# ---------------------------------------------------------------------------- basics


def test_health_needs_no_token_and_names_the_newest_import_per_source(api: Api) -> None:
    reply = api.call("GET", "/api/v1/health")
    assert reply.status == 200
    body = reply.json()
    assert body["database"] == "ok" and body["version"]
    kinds = {s["kind"] for s in body["sources"]}
    assert {"history", "signals"} <= kinds
    assert all(s["loaded_at"] and s["loaded_by"] for s in body["sources"])


def test_openapi_describes_every_route_and_nothing_else(api: Api) -> None:
    doc = document()
    described = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert described == set(api_routes.route_table())
    served = api.call("GET", "/api/v1/openapi.json")
    assert served.status == 200 and served.json() == json.loads(json.dumps(doc))
    assert served.json()["openapi"].startswith("3.")


def test_unknown_api_paths_answer_json_not_the_app_page(api: Api) -> None:
    reply = api.call("GET", "/api/v1/no-such-thing")
    assert reply.status == 404 and reply.json()["error"] == "not_found"
    wrong_method = api.call("GET", "/api/v1/import/history", api.tokens["import"])
    assert wrong_method.status == 405 and wrong_method.json()["error"] == "method_not_allowed"
    unknown_kind = api.call("POST", "/api/v1/import/nonsense", api.tokens["import"], b"x")
    assert unknown_kind.status == 404


def test_no_token_is_401_wrong_scope_403_revoked_401(api: Api) -> None:
    before = _counts(api)
    assert api.call("POST", "/api/v1/import/history", None, GOOD_HISTORY).status == 401
    bogus = api.call("POST", "/api/v1/import/history", "cal_not-a-token", GOOD_HISTORY)
    assert bogus.status == 401 and bogus.headers["www-authenticate"] == "Bearer"
    for scope in ("export", "backup", "audit"):
        refused = api.call("POST", "/api/v1/import/history", api.tokens[scope], GOOD_HISTORY)
        assert refused.status == 403, scope
    assert api.call("GET", "/api/v1/cycles", api.tokens["import"]).status == 403
    assert api.call("POST", "/api/v1/backup", api.tokens["export"]).status == 403
    assert api.call("POST", "/api/v1/audit/verify", api.tokens["backup"]).status == 403
    assert _counts(api) == before
    tokens.revoke_token(api.cur(), SYSTEM, "t-export")
    assert api.call("GET", "/api/v1/cycles", api.tokens["export"]).status == 401


def test_every_call_is_logged_with_the_token_name(api: Api, caplog) -> None:
    with caplog.at_level("INFO", logger="calibrate"):
        api.call("GET", "/api/v1/cycles", api.tokens["export"])
        api.call("GET", "/api/v1/cycles")
    rows = api.cur().execute("SELECT token_name, path, status FROM api_calls").fetchall()
    assert ("t-export", "/api/v1/cycles", 200) in rows
    assert (None, "/api/v1/cycles", 401) in rows
    assert any("api t-export GET /api/v1/cycles -> 200" in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------------------- import


def test_import_of_a_good_file_reports_like_the_cli_and_names_the_token(api: Api) -> None:
    reply = api.call(
        "POST", "/api/v1/import/history?filename=erp.csv", api.tokens["import"], GOOD_HISTORY
    )
    assert reply.status == 200, reply.body
    body = reply.json()
    assert {k: body[k] for k in ("kind", "rows", "new", "updated", "unchanged")} == {
        "kind": "history",
        "rows": 2,
        "new": 2,
        "updated": 0,
        "unchanged": 0,
    }
    assert body["source_id"]
    loaded_by = (
        api.cur()
        .execute(
            "SELECT loaded_by, file_name FROM sources WHERE source_id = ?", [body["source_id"]]
        )
        .fetchall()
    )
    assert loaded_by == [("api:t-import", "erp.csv")]
    health = api.call("GET", "/api/v1/health").json()
    newest = {s["kind"]: s for s in health["sources"]}["history"]
    assert newest["loaded_by"] == "api:t-import" and newest["file_name"] == "erp.csv"
    again = api.call("POST", "/api/v1/import/history", api.tokens["import"], GOOD_HISTORY).json()
    assert (again["new"], again["unchanged"], again["source_id"]) == (0, 2, None)


def test_import_of_a_bad_file_is_422_with_the_first_50_problems_and_changes_nothing(
    api: Api,
) -> None:
    good = "".join(f"east,2027Q{q},new_customers,{q}\n" for q in range(1, 5))
    bad = "".join(f"east,2028Q1,new_customers,not-a-number-{i}\n" for i in range(60))
    data = f"region,period,metric,value\n{good}{bad}".encode()
    before = _counts(api)
    reply = api.call("POST", "/api/v1/import/history", api.tokens["import"], data)
    assert reply.status == 422
    body = reply.json()
    assert body["total"] >= 60 and len(body["problems"]) == 50
    first = body["problems"][0]
    assert set(first) == {"file", "row", "column", "reason", "key", "params"}
    assert first["column"] == "value" and first["reason"] == "not a number"
    assert first["key"] == "data.err.not_a_number" and first["params"] == {}
    assert _counts(api) == before


def test_import_of_xlsx_with_a_sheet_and_cumulative_actuals(api: Api) -> None:
    frame = pd.DataFrame(
        {
            "region": ["east", "east"],
            "date": ["2026-01-01", "2026-01-02"],
            "metric": ["new_customers", "new_customers"],
            "value": [3, 5],
        }
    )
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="xlsxwriter") as writer:
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="notes", index=False)
        frame.to_excel(writer, sheet_name="crm", index=False)
    reply = api.call(
        "POST",
        "/api/v1/import/actuals?sheet=crm&cumulative=1",
        api.tokens["import"],
        buf.getvalue(),
    )
    assert reply.status == 200, reply.body
    assert reply.json()["rows"] == 2
    missing = api.call(
        "POST", "/api/v1/import/actuals?sheet=nope", api.tokens["import"], buf.getvalue()
    )
    assert missing.status == 422


def test_a_body_over_the_upload_limit_is_413(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALIBRATE_MAX_UPLOAD_MB", "1")
    before = _counts(api)
    big = GOOD_HISTORY + b"#" * (1024 * 1024)
    reply = api.call("POST", "/api/v1/import/history", api.tokens["import"], big)
    assert reply.status == 413 and reply.json()["error"] == "too_large"
    assert _counts(api) == before


def test_calls_beyond_the_token_bucket_are_429_per_token(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALIBRATE_API_BURST", "2")
    monkeypatch.setenv("CALIBRATE_API_RATE", "1")
    statuses = [api.call("GET", "/api/v1/cycles", api.tokens["export"]).status for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = api.call("GET", "/api/v1/cycles", api.tokens["export"])
    assert int(limited.headers["retry-after"]) >= 1
    # Another token has its own bucket.
    assert api.call("POST", "/api/v1/audit/verify", api.tokens["audit"]).status == 200


# ---------------------------------------------------------------------------- exports


def _locked_cycle(api: Api) -> dict:
    cycles = api.call("GET", "/api/v1/cycles", api.tokens["export"]).json()["cycles"]
    return next(c for c in cycles if c["status"] in ("locked", "tracking", "closed"))


def tokens_user(scope: str) -> tokens.TokenUser:
    return tokens.TokenUser("api:x", "x", access.INTEGRATION, scopes=frozenset({scope}))


def test_cycles_and_agreed_targets_in_each_format(api: Api) -> None:
    token = api.tokens["export"]
    locked = _locked_cycle(api)
    cid = locked["id"]
    targets = api.call("GET", f"/api/v1/cycles/{cid}/targets", token).json()["targets"]
    assert {t["region"] for t in targets} == set(neg.cycle_state(api.cur(), cid)["region"])
    assert {t["region_status"] for t in targets} == {"agreed"}
    assert all(t["agreed_value"] == t["current_value"] is not None for t in targets)
    csv = api.call("GET", f"/api/v1/cycles/{cid}/targets?format=csv", token)
    assert csv.status == 200 and csv.headers["content-type"].startswith("text/csv")
    frame = pd.read_csv(io.BytesIO(csv.body), encoding="utf-8-sig")
    assert list(frame.columns) == list(api_service.TARGET_COLUMNS) and len(frame) == len(targets)
    xlsx = api.call("GET", f"/api/v1/cycles/{cid}/targets?format=xlsx", token)
    assert pd.read_excel(io.BytesIO(xlsx.body), engine="calamine").shape[0] == len(targets)
    assert api.call("GET", f"/api/v1/cycles/{cid}/targets?format=pdf", token).status == 400
    assert api.call("GET", "/api/v1/cycles/99999/targets", token).status == 404


def test_targets_export_formula_looking_text_as_text(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = _locked_cycle(api)
    real = neg.get_cycle
    # A cycle name typed as a formula (names are free text) reaches every row of the export.
    monkeypatch.setattr(
        neg, "get_cycle", lambda cur, cid: {**real(cur, cid), "name": "=HYPERLINK(1)"}
    )
    base = f"/api/v1/cycles/{locked['id']}/targets"
    token = api.tokens["export"]
    as_json = api.call("GET", base, token).json()["targets"]
    assert {t["cycle"] for t in as_json} == {"'=HYPERLINK(1)"}
    csv = pd.read_csv(io.BytesIO(api.call("GET", f"{base}?format=csv", token).body))
    assert set(csv["cycle"]) == {"'=HYPERLINK(1)"}
    xlsx = api.call("GET", f"{base}?format=xlsx", token).body
    assert set(pd.read_excel(io.BytesIO(xlsx), engine="calamine")["cycle"]) == {"'=HYPERLINK(1)"}


def test_decision_log_in_csv_and_xlsx(api: Api) -> None:
    token = api.tokens["export"]
    cycles = api.call("GET", "/api/v1/cycles", token).json()["cycles"]
    cid = next(c for c in cycles if c["status"] in ("locked", "tracking", "closed"))["id"]
    csv = api.call("GET", f"/api/v1/cycles/{cid}/decisions?format=csv", token)
    assert csv.status == 200
    assert csv.body == neg.export_log(api.cur(), SYSTEM, cid, "csv")
    xlsx = api.call("GET", f"/api/v1/cycles/{cid}/decisions?format=xlsx", token)
    assert xlsx.status == 200 and xlsx.body[:4] == b"PK\x03\x04"
    assert api.call("GET", f"/api/v1/cycles/{cid}/decisions?format=json", token).status == 400


# ---------------------------------------------------------------------------- backup, audit


def test_online_backup_restores_and_verifies(api: Api, tmp_path: Path) -> None:
    reply = api.call("POST", "/api/v1/backup", api.tokens["backup"])
    assert reply.status == 200 and reply.headers["content-type"] == "application/zip"
    folder = tmp_path / "from-api"
    api_service.extract_backup(reply.body, folder)
    assert (folder / backup.MANIFEST).is_file()
    restored = tmp_path / "restored.duckdb"
    counts = backup.restore(folder, restored, events.key_path(api.db))
    assert counts["cycles"] == _counts(api)["cycles"]
    con = connect(restored)
    try:
        assert events.verify(con.cursor()).ok
    finally:
        con.close()


def test_backup_to_the_configured_folder(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert api.call("POST", "/api/v1/backup?target=server", api.tokens["backup"]).status == 409
    monkeypatch.setenv("CALIBRATE_BACKUP_DIR", str(tmp_path / "backups"))
    reply = api.call("POST", "/api/v1/backup?target=server", api.tokens["backup"])
    assert reply.status == 200
    folder = Path(reply.json()["folder"])
    assert folder.parent == tmp_path / "backups" and (folder / backup.MANIFEST).is_file()


def test_a_write_landing_during_a_backup_does_not_break_its_restore(
    tmp_path: Path, demo_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An online backup is one snapshot: rows written while it runs are in neither the files
    nor the manifest's counts (before, the counts were read after the export and a restore
    of such a backup was refused)."""
    db = copy_demo(demo_template, tmp_path / "live.duckdb")
    con = connect(db)
    real_counts = backup.table_counts

    def counts_after_a_write(cur):
        # Another request of the server writes between the export and the counts.
        other = con.cursor()
        other.execute(
            "INSERT INTO sources VALUES (nextval('sources_seq'), 'x.csv', 'history', 'x', 1,"
            " now()::TIMESTAMP, 'someone')"
        )
        return real_counts(cur)

    monkeypatch.setattr(backup, "table_counts", counts_after_a_write)
    backup.backup(con, tmp_path / "b")
    monkeypatch.undo()
    con.close()
    restored = backup.restore(tmp_path / "b", tmp_path / "r.duckdb", events.key_path(db))
    assert restored["sources"] >= 1


def test_audit_verify_with_a_backup_anchor(api: Api, tmp_path: Path) -> None:
    ok = api.call("POST", "/api/v1/audit/verify", api.tokens["audit"])
    assert ok.status == 200 and ok.json()["ok"] and ok.json()["events"] > 0
    bad = json.dumps({"anchors": [{"source": "made up", "events": 1, "head": "x", "mac": "y"}]})
    forged = api.call("POST", "/api/v1/audit/verify", api.tokens["audit"], bad.encode())
    assert forged.status == 200 and not forged.json()["ok"]
    assert "made up" in forged.json()["problems"][0]
    junk = api.call("POST", "/api/v1/audit/verify", api.tokens["audit"], b"{not json")
    assert junk.status == 400


# ---------------------------------------------------------------------------- tokens


def test_tokens_store_only_a_hash_and_refuse_bad_requests(api: Api) -> None:
    cur = api.cur()
    token = tokens.add_token(cur, SYSTEM, "erp-nightly", ["import", "export", "import"])
    stored = cur.execute(
        "SELECT token_hash, scopes FROM api_tokens WHERE name = ?", ["erp-nightly"]
    )
    (row,) = stored.fetchall()
    assert row == (tokens.token_hash(token), "import,export")
    assert token not in json.dumps(tokens.list_tokens(cur, SYSTEM).astype(str).to_dict("records"))
    with pytest.raises(tokens.TokenError):
        tokens.add_token(cur, SYSTEM, "erp-nightly", ["import"])  # an active one has the name
    with pytest.raises(tokens.TokenError):
        tokens.add_token(cur, SYSTEM, "bad name!", ["import"])
    with pytest.raises(tokens.TokenError):
        tokens.add_token(cur, SYSTEM, "x", ["everything"])
    analyst = User("analyst", "A", "analyst")
    with pytest.raises(access.AccessDenied):
        tokens.add_token(cur, analyst, "mine", ["import"])
    tokens.revoke_token(cur, SYSTEM, "erp-nightly")
    assert tokens.authenticate(cur, token) is None
    again = tokens.add_token(cur, SYSTEM, "erp-nightly", ["export"])  # the name is free again
    assert tokens.authenticate(cur, again).scopes == frozenset({"export"})
    listed = tokens.list_tokens(cur, SYSTEM)
    assert list(listed[listed["name"] == "erp-nightly"]["revoked_at"].isna()) == [True, False]


def test_a_token_is_allowed_by_its_scopes_only() -> None:
    importer_ = tokens_user("import")
    exporter = tokens_user("export")
    assert access.can(importer_, "data.import") and not access.can(exporter, "data.import")
    assert access.can(exporter, "log.read") and access.can(exporter, "proposal.read", "east")
    assert not access.can(importer_, "log.read")
    for action in ("user.manage", "token.manage", "cycle.lock", "proposal.write", "page.open"):
        assert not access.can(tokens_user("backup"), action, "east"), action
    assert access.can(tokens_user("backup"), "database.backup")
    assert access.can(tokens_user("audit"), "audit.verify")
    assert not access.can(User("a", "A", "analyst"), "database.backup")


def test_token_cli_add_list_revoke(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "cli.duckdb")
    assert (
        cli_main(["token", "add", "crm", "--scope", "import", "--scope", "export", "--db", db]) == 0
    )
    token = capsys.readouterr().out.strip()
    assert token.startswith(tokens.PREFIX)
    assert cli_main(["token", "list", "--json", "--db", db]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["name"] == "crm" and listed[0]["scopes"] == "import,export"
    assert token not in json.dumps(listed)
    assert cli_main(["token", "revoke", "crm", "--db", db]) == 0
    assert cli_main(["token", "revoke", "crm", "--db", db]) == 2
    assert "No active token" in capsys.readouterr().err


# ---------------------------------------------------------------------------- CLI --server


def test_cli_commands_go_through_the_server(api: Api, tmp_path: Path, capsys) -> None:
    remote = ["--server", api.url]
    history = tmp_path / "h.csv"
    history.write_bytes(GOOD_HISTORY)
    assert (
        cli_main(["import", "history", str(history), *remote, "--token", api.tokens["import"]]) == 0
    )
    assert "h.csv: 2 history rows — 2 new" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"region,period,metric,value\neast,2026Q3,new_customers,lots\n")
    assert cli_main(["import", "history", str(bad), *remote, "--token", api.tokens["import"]]) == 2
    assert "nothing was imported" in capsys.readouterr().err

    assert cli_main(["cycles", "--json", *remote, "--token", api.tokens["export"]]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in listed] == [c["id"] for c in neg.list_cycles(api.cur())]
    cid = listed[0]["id"]
    out = tmp_path / "log.csv"
    args = ["audit", "export", "--cycle", str(cid), "--out", str(out), *remote]
    assert cli_main([*args, "--token", api.tokens["export"]]) == 0
    assert out.read_bytes() == neg.export_log(api.cur(), SYSTEM, cid, "csv")

    folder = tmp_path / "bk"
    assert cli_main(["backup", "--out", str(folder), *remote, "--token", api.tokens["backup"]]) == 0
    assert "backup written to" in capsys.readouterr().out
    verify = ["audit", "verify", "--backup", str(folder), *remote]
    assert cli_main([*verify, "--token", api.tokens["audit"]]) == 0
    assert capsys.readouterr().out.startswith("OK, ")

    # Wrong scope: "not allowed" (4); no token: 4; server down: plain message, 3.
    assert cli_main(["cycles", *remote, "--token", api.tokens["import"]]) == 4
    assert cli_main(["cycles", *remote]) == 4
    assert "valid API token" in capsys.readouterr().err
    down = f"http://127.0.0.1:{_free_port()}"
    assert cli_main(["cycles", "--server", down, "--token", "x"]) == 3
    assert "cannot reach the server" in capsys.readouterr().err


def test_cli_reads_server_and_token_from_the_environment(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("CALIBRATE_SERVER", api.url)
    monkeypatch.setenv("CALIBRATE_TOKEN", api.tokens["audit"])
    assert cli_main(["audit", "verify"]) == 0
    assert capsys.readouterr().out.startswith("OK, ")
    with monkeypatch.context() as env:
        env.setenv("CALIBRATE_TOKEN", api.tokens["import"])
        assert cli_main(["audit", "verify"]) == 4  # the server answered: wrong scope
    # An explicit --db is the file itself, even with CALIBRATE_SERVER set.
    assert cli_main(["audit", "verify", "--db", str(tmp_path / "missing.duckdb")]) == 2


def test_a_backup_zip_cannot_write_outside_its_folder(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../evil.txt", "x")
    with pytest.raises(ValueError):
        api_service.extract_backup(buf.getvalue(), tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()


# ---------------------------------------------------------------------------- Admin page


def test_admin_page_adds_a_token_shown_once_lists_and_revokes_it(app_env: Path) -> None:
    from tests.apptest_helpers import login

    at = login("admin")
    at.switch_page("pages/admin.py")
    at.run()
    assert not at.exception, at.exception
    assert "No API tokens yet." in [i.value for i in at.info]
    at.text_input(key="api_token_name").input("erp-nightly")
    at.multiselect(key="api_token_scopes").set_value(["import", "audit"])
    next(b for b in at.button if b.label == "Add token").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (shown,) = [c.value for c in at.code]
    cur = shared_connection(app_env).cursor()
    user = tokens.authenticate(cur, shown)
    assert user is not None and user.scopes == frozenset({"import", "audit"})
    (listed,) = [d.value for d in at.dataframe if "Scopes" in d.value.columns]
    assert list(listed["Name"]) == ["erp-nightly"] and shown not in listed.to_string()
    at.run()
    assert not at.code  # shown once: the next render no longer has it
    at.selectbox(key="api_token_revoke").set_value("erp-nightly")
    next(b for b in at.button if b.label == "Revoke token").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert tokens.authenticate(cur, shown) is None
    assert "Token erp\\-nightly revoked." in [s.value for s in at.success]


def test_data_page_says_when_each_source_was_refreshed_and_by_which_token(app_env: Path) -> None:
    from tests.apptest_helpers import login

    at = login("analyst")  # opens the app's connection first
    cur = shared_connection(app_env).cursor()
    api_service.import_file(
        cur, tokens_user("import"), "history", "erp.csv", GOOD_HISTORY, None, False
    )
    at.switch_page("pages/data.py")
    at.run()
    assert not at.exception, at.exception
    captions = [c.value for c in at.caption]
    assert any(c.startswith("Refreshed ") and c.endswith("by API token x") for c in captions), (
        captions
    )
    assert any(c.startswith("Refreshed ") and "by " in c and "API" not in c for c in captions)


def test_an_unexpected_failure_is_a_json_500_without_a_traceback(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(cur, user):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(api_service, "cycles", broken)
    reply = api.call("GET", "/api/v1/cycles", api.tokens["export"])
    assert reply.status == 500 and reply.json()["error"] == "internal"
    assert b"secret internals" not in reply.body and b"Traceback" not in reply.body
    zh = api.call("GET", "/api/v1/cycles", api.tokens["export"], headers={"Accept-Language": "zh"})
    assert "未做任何更改" in zh.json()["message"]


def test_a_token_slipped_into_the_database_file_breaks_the_audit(api: Api) -> None:
    """Tokens are access decisions: made through the app they are sealed in the decision
    record, so a row written into the file by other means is reported by `audit verify`."""
    cur = api.cur()
    assert events.verify(cur).ok  # the fixture's four tokens were added through the app
    cur.execute(
        "INSERT INTO api_tokens VALUES (nextval('api_tokens_seq'), 'forged', ?, 'backup',"
        " now()::TIMESTAMP, 'admin')",
        [tokens.token_hash("cal_forged")],
    )
    report = events.verify(cur)
    assert not report.ok and any("api_tokens" in p for p in report.problems)
