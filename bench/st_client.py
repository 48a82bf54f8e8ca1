"""A headless Streamlit session over the websocket protocol (no browser, no rendering).

One `Session` is one browser tab as the server sees it: a websocket to `/_stcore/stream`
with subprotocol `streamlit`. A rerun sends a `BackMsg.rerun_script` (query string, page
hash, widget states, optionally a fragment id) and reads `ForwardMsg`s until a
`script_finished` that is not "finished early for a rerun" (an `st.rerun()` in the script
makes the server start the next run itself). What the run drew is kept as plain data:
widget ids by user key, texts (markdown, captions, alerts, toasts, headings), data frames
(Arrow bytes) and the auto-rerun fragments the page asked the client to tick.

Used by bench/load_harness.py; loopback only.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

FINISHED_EARLY = ForwardMsg.FINISHED_EARLY_FOR_RERUN
# Element kinds whose text a test or the harness reads (all shown as plain data here).
_TEXT_KINDS = ("markdown", "heading", "alert", "toast", "text", "code")


class ProtocolError(RuntimeError):
    """The server closed, timed out or showed an exception."""


@dataclass
class Run:
    """What one script run (and the reruns it requested) sent to this session."""

    started: float
    finished: float = 0.0
    texts: list[str] = field(default_factory=list)
    alerts: list[tuple[str, str]] = field(default_factory=list)  # (format, body)
    # (arrival time, Arrow IPC bytes) of each data frame drawn.
    frames: list[tuple[float, bytes]] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    messages: int = 0
    bytes: int = 0

    @property
    def seconds(self) -> float:
        """Send → last script_finished, in seconds."""
        return self.finished - self.started


def widget_key(widget_id: str) -> str | None:
    """The user key of a keyed widget id `$$ID-<hash>-<key>` (None when unkeyed)."""
    if not widget_id.startswith("$$ID-"):
        return None
    _, _, rest = widget_id.partition("$$ID-")
    _, _, key = rest.partition("-")
    return None if key in ("", "None") else key


class Session:
    """One simulated browser tab."""

    def __init__(self, url: str, query: str = "lang=en", timeout: float = 120) -> None:
        self.ws_url = url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self.query = query
        self.timeout = timeout
        self.ws = None
        self.page_hash = ""
        self.widgets: dict[str, str] = {}  # user key (or label) -> widget id
        self.submitters: dict[str, str] = {}  # form id -> its submit button's id
        self.buttons: dict[str, str] = {}  # button label -> id
        self.fragments: dict[str, float] = {}  # fragment id -> auto-rerun interval (s)

    async def connect(self) -> None:
        """Open the websocket (no script runs until the first rerun)."""
        self.ws = await asyncio.wait_for(
            # No client keepalive pings: a browser sends none, and under load the server's
            # event loop answers late, so the library would drop the session (1011) by itself.
            websockets.connect(
                self.ws_url,
                subprotocols=["streamlit"],
                max_size=None,
                open_timeout=self.timeout,
                ping_interval=None,
            ),
            self.timeout,
        )

    async def close(self) -> None:
        """Close the websocket; the server ends the session."""
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    async def rerun(self, states: list[WidgetState] | None = None, fragment_id: str = "") -> Run:
        """Request a run (whole page, or one fragment) and read until it has finished."""
        msg = BackMsg()
        rs = msg.rerun_script
        rs.query_string = self.query
        rs.page_script_hash = self.page_hash
        if fragment_id:
            rs.fragment_id = fragment_id
            rs.is_auto_rerun = True
        for s in states or ():
            rs.widget_states.widgets.append(s)
        run = Run(started=time.perf_counter())
        if fragment_id == "":
            # A full run redraws the page: forget the widgets of the previous one.
            self.widgets, self.submitters, self.buttons = {}, {}, {}
        await self.ws.send(msg.SerializeToString())
        await self._read_until_finished(run)
        return run

    async def _read_until_finished(self, run: Run) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ProtocolError(f"no script_finished within {self.timeout:.0f} s")
            try:
                raw = await asyncio.wait_for(self.ws.recv(), left)
            except TimeoutError as exc:
                raise ProtocolError(f"no script_finished within {self.timeout:.0f} s") from exc
            except websockets.ConnectionClosed as exc:
                raise ProtocolError(f"server closed the session: {exc}") from exc
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            run.messages += 1
            run.bytes += len(raw)
            kind = fwd.WhichOneof("type")
            if kind == "delta":
                self._delta(fwd, run)
            elif kind == "navigation":
                self.page_hash = fwd.navigation.page_script_hash
            elif kind == "new_session":
                self.page_hash = fwd.new_session.page_script_hash or self.page_hash
            elif kind == "auto_rerun":
                self.fragments[fwd.auto_rerun.fragment_id] = fwd.auto_rerun.interval
            elif kind == "stop_auto_rerun":
                for fid in fwd.stop_auto_rerun.fragment_ids:
                    self.fragments.pop(fid, None)
            elif kind == "script_finished" and fwd.script_finished != FINISHED_EARLY:
                run.finished = time.perf_counter()
                return

    def _delta(self, fwd: ForwardMsg, run: Run) -> None:
        delta = fwd.delta
        if delta.WhichOneof("type") != "new_element":
            return
        el = delta.new_element
        kind = el.WhichOneof("type")
        body = getattr(el, kind)
        if kind in _TEXT_KINDS:
            text = getattr(body, "body", "") or getattr(body, "text", "")
            run.texts.append(text)
            if kind == "alert":
                run.alerts.append((str(body.format), text))
        elif kind == "exception":
            run.exceptions.append(f"{body.type}: {body.message}")
        elif kind == "dataframe":
            data = body.arrow_data.data or body.lazy_data.initial_chunk.data
            run.frames.append((time.perf_counter(), data))
        wid = getattr(body, "id", "") if kind not in _TEXT_KINDS else ""
        if wid:
            key = widget_key(wid)
            label = getattr(body, "label", "")
            self.widgets[key or label] = wid
            if kind == "button":
                self.buttons[label] = wid
                if body.is_form_submitter:
                    self.submitters[body.form_id] = wid


def text_state(widget_id: str, value: str) -> WidgetState:
    """A text input's or text area's value."""
    return WidgetState(id=widget_id, string_value=value)


def number_state(widget_id: str, value: float) -> WidgetState:
    """A number input's value."""
    return WidgetState(id=widget_id, double_value=value)


def click(widget_id: str) -> WidgetState:
    """A button (or form submit button) pressed in this run."""
    return WidgetState(id=widget_id, trigger_value=True)
