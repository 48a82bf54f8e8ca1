"""A page whose Streamlit messages can be held back and then handed over one at a time.

What a person on a loaded server sees: the answer to their last change arrives while they
are already typing the next field, and the browser draws between the messages of one run.
`install(context)` before the page opens; `hold(page)` queues every incoming message;
`release(page, gap_ms)` delivers the queue (and whatever follows) one message per gap, so
the page is drawn between each. With neither called the socket behaves as Chromium's own.
"""

from __future__ import annotations

SCRIPT = """
(() => {
  const Native = window.WebSocket;
  const ctl = (window.__heldSocket = { hold: false, gap: 0, sockets: [] });
  class HeldSocket extends Native {
    constructor(...args) {
      super(...args);
      this.__onmessage = null;
      this.__listeners = [];
      this.__queue = [];
      this.__busy = false;
      super.addEventListener("message", (ev) => {
        this.__queue.push(ev.data);
        this.__pump();
      });
      ctl.sockets.push(this);
    }
    __pump() {
      if (this.__busy || ctl.hold || this.__queue.length === 0) return;
      const data = this.__queue.shift();
      const deliver = () => {
        const ev = new MessageEvent("message", { data });
        if (this.__onmessage) this.__onmessage.call(this, ev);
        for (const listener of this.__listeners) listener.call(this, ev);
        this.__busy = false;
        this.__pump();
      };
      this.__busy = true;
      if (ctl.gap > 0) setTimeout(deliver, ctl.gap);
      else deliver();
    }
    set onmessage(handler) { this.__onmessage = handler; }
    get onmessage() { return this.__onmessage; }
    addEventListener(type, listener, options) {
      if (type === "message") this.__listeners.push(listener);
      else super.addEventListener(type, listener, options);
    }
    removeEventListener(type, listener, options) {
      if (type === "message") this.__listeners = this.__listeners.filter((l) => l !== listener);
      else super.removeEventListener(type, listener, options);
    }
  }
  ctl.release = (gap) => {
    ctl.gap = gap;
    ctl.hold = false;
    ctl.sockets.forEach((s) => s.__pump());
  };
  ctl.pending = () => ctl.sockets.reduce((n, s) => n + s.__queue.length + (s.__busy ? 1 : 0), 0);
  window.WebSocket = HeldSocket;
})();
"""


def install(context) -> None:
    """Every page of context gets the holdable socket (before Streamlit opens its own)."""
    context.add_init_script(SCRIPT)


def hold(page) -> None:
    """Queue every message the server sends from now on."""
    page.evaluate("() => { window.__heldSocket.hold = true; }")


def release(page, gap_ms: int = 40) -> None:
    """Deliver the queued messages, and later ones, one per gap_ms (the page draws between)."""
    page.evaluate("gap => window.__heldSocket.release(gap)", gap_ms)


def wait_delivered(page, timeout: float = 30_000) -> None:
    """Wait until nothing is queued any more."""
    page.wait_for_function("() => window.__heldSocket.pending() === 0", timeout=timeout)
