"""The console's terminal: bytes in and out of a raw serial line, and the line being edited.

:class:`Terminal` decodes UTF-8 as it arrives (a character split across reads is kept), queues output
until :meth:`Terminal.flush`, swallows escape sequences (arrow keys and the like), and edits one
line: echo, Backspace/DEL, Ctrl-U, CR, LF or CRLF as one Enter, and a length limit.
"""

from __future__ import annotations

import codecs
import logging
from enum import Enum, auto

from firmware.console.protocol import Write
from firmware.console.settings import MAX_LINE

log = logging.getLogger("firmware.console")

CTRL_C = "\x03"
ESC = "\x1b"


class Escape(Enum):
    """Where the terminal is inside an escape sequence."""

    NONE = auto()
    ESC = auto()  # after ESC
    CSI = auto()  # ESC [ ... up to a final byte
    SS3 = auto()  # ESC O and one character


class Edit(Enum):
    """What one character did to the line."""

    NOTHING = auto()
    ENTER = auto()
    CLEARED = auto()  # Ctrl-U: the caller shows the prompt again


class Terminal:
    """Output queue, escape-sequence filter and line editor of one serial line."""

    def __init__(self, write: Write, max_line: int = MAX_LINE) -> None:
        self._write = write
        self.max_line = max_line
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._out: list[str] = []
        self.buf = ""
        self.overflow = False
        self._cr = False
        self.escape = Escape.NONE
        self._esc_len = 0

    # ------------------------------------------------------------ output
    def emit(self, text: str) -> None:
        self._out.append(text)

    def say(self, text: str = "") -> None:
        """Queue ``text`` plus a line end (``\\n`` becomes CRLF for a raw serial terminal)."""
        self.emit(text.replace("\r\n", "\n").replace("\n", "\r\n") + "\r\n")

    def flush(self) -> None:
        if self._out:
            data = "".join(self._out).encode("utf-8", "replace")
            self._out.clear()
            try:
                self._write(data)
            except Exception:
                log.exception("console write failed")

    # ------------------------------------------------------------ input
    def decode(self, data: bytes) -> str:
        return self._decoder.decode(data)

    def start_escape(self) -> None:
        self.escape, self._esc_len = Escape.ESC, 0

    def swallow(self, ch: str) -> None:
        """One character of an escape sequence: CSI (ESC [ ... final), SS3 (ESC O x), or ESC + one."""
        self._esc_len += 1
        if self.escape is Escape.ESC:
            self.escape = {"[": Escape.CSI, "O": Escape.SS3}.get(ch, Escape.NONE)
        elif self.escape is Escape.SS3 or not "\x20" <= ch <= "\x3f" or self._esc_len > 32:
            self.escape = Escape.NONE  # SS3's one character, or CSI's final byte (or a runaway sequence)

    def take_line(self) -> tuple[str, bool]:
        """The line typed so far and whether it overflowed; the editor starts a new line."""
        line, overflow = self.buf, self.overflow
        self.clear()
        return line, overflow

    def clear(self) -> None:
        self.buf, self.overflow = "", False

    def reset(self) -> None:
        """After an error: a fresh line, outside any escape sequence."""
        self.clear()
        self.escape = Escape.NONE

    def edit(self, ch: str, echo: bool) -> Edit:
        """Apply one character to the line (``echo`` False: typed but not shown, as a PIN)."""
        if ch == "\n" and self._cr:
            self._cr = False
            return Edit.NOTHING
        self._cr = ch == "\r"
        if ch in "\r\n":
            return Edit.ENTER
        if ch in "\x7f\x08":
            if self.buf and not self.overflow:
                self.buf = self.buf[:-1]
                if echo:
                    self.emit("\b \b")
        elif ch == "\x15":
            self.clear()
            self.emit("\r\x1b[K")
            return Edit.CLEARED
        elif ch.isprintable() and ch != "\ufffd":
            if self.overflow:
                return Edit.NOTHING
            if len(self.buf) >= self.max_line:
                self.overflow, self.buf = True, ""
                self.say(f"\nline too long (at most {self.max_line} characters): discarded up to the next Enter")
                return Edit.NOTHING
            self.buf += ch
            if echo:
                self.emit(ch)
        # other control characters (tab, Ctrl-D, ...) and undecodable bytes are ignored
        return Edit.NOTHING
