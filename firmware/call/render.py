"""What the LCD shows: the idle screen between calls, and during a call the top view or what the
line, the hold or a silent caller demand instead, above the status line."""

from __future__ import annotations

from datetime import datetime

from firmware.call.desk import Desk
from firmware.call.phase import Phase
from firmware.call.views import AppealView, HomeView, ScriptView
from firmware.deadline import forward_deadline
from firmware.timefmt import mmss

#: The call's own screens, which R16's countdown, R18's limit and R21's silence may take over.
BASE_VIEWS = (ScriptView, HomeView)


def render(desk: Desk) -> list[str]:
    screen = desk.screen
    rows = screen.rows
    call = desk.call
    if call is None:
        if desk.idle_views:
            return screen.page(desk.idle_views[-1].lines(desk))
        return idle_screen(desk)
    bank = desk.bank
    view = call.views[-1]
    phase = call.phase
    base = isinstance(view, BASE_VIEWS)
    # what the line, the hold or a silent caller demand takes the body only on the call's own screens:
    # a list, a phrase, a question or the appeal form stays readable, the status row tells the rest.
    # R16's phrase wins even over the hold screen once it has been shown and the line is still bad.
    if base and (phase is Phase.CANNOT_HEAR
                 or (phase is Phase.ON_HOLD and call.cannot_hear_shown and call.line.cannot_hear)):
        return screen.page(screen.wrap(bank.text("script.cannot_hear")))
    body: list[str] | None = None
    if base and phase is Phase.COUNTDOWN:
        body = screen.wrap(f"{bank.text('ui.countdown')}: {desk.line.countdown_left(call):2d} с")
    elif base and phase is Phase.ON_HOLD and desk.hold.over_limit():
        body = screen.wrap(bank.text("ui.hold_over"))
    elif base and desk.line.silence_worth_noting(call):
        body = screen.wrap(bank.text("ui.silent_callback" if desk.line.callback_due(call) else "ui.silent"))
    footer = view.footer(desk)
    if body is None and footer is not None:
        return screen.compose(view.lines(desk), lambda: screen.row(*footer), keep_status=True)
    if body is None:
        if view.fullscreen or (rows <= 2 and isinstance(view, AppealView)):
            return screen.page(view.lines(desk))
        body = view.lines(desk)
    return screen.compose(body, lambda: status_line(desk))


def status_line(desk: Desk) -> str:
    """Call time and line state; on hold, the hold timer instead (R18: the operator watches it); R16's
    countdown when a screen of the operator's own covers the call's; after hang-up, that it ended.
    A shorter wording where the long one does not fit (16x2)."""
    call = desk.call
    assert call is not None
    bank, row = desk.bank, desk.screen.row
    t = mmss(desk.call_time())
    fault = None if desk.journal.fault.durable else desk.journal_fault_text()
    if call.phase is Phase.WRAP_UP:
        return row(f"{t} {fault or bank.text('ui.call_ended')}", fault or bank.text("ui.call_ended"))
    if call.phase is Phase.ON_HOLD:
        held = mmss(desk.hold.elapsed())
        return row(f"{bank.text('ui.hold_on')} {held}", f"HOLD {held}")
    if call.phase is Phase.COUNTDOWN:
        left = desk.line.countdown_left(call)
        return row(f"{t} {bank.text('ui.contact')} {left} с", f"{t} {bank.text('ui.contact')} {left}с", f"{t} {left}с")
    if fault:  # the line has its LED; a journal that cannot save has only this row
        return row(f"{t} {fault}", fault)
    state = bank.text(f"ui.line_{'no_input' if desk.audio_lost else call.line}")
    return row(f"{t} {bank.text('ui.line')}: {state}", f"{t} {state}")


def idle_screen(desk: Desk) -> list[str]:
    """Between calls: who is signed in, what is wrong (the journal, the clock, R11 deadlines) above the
    clock and the queue.

    The clock row stays at the bottom on every size; what does not fit above it pages by itself."""
    return desk.screen.compose(idle_lines(desk), lambda: clock_row(desk), keep_status=True)


def idle_lines(desk: Desk) -> list[str]:
    bank, clock, wrap = desk.bank, desk.clock, desk.screen.wrap
    lines = []
    fault = desk.journal_fault_text()
    if fault:
        lines += wrap(fault)
    if desk.operator:
        number, name = desk.operator.number, desk.operator.name
        short = desk.screen.line(f"№{number} {name}")
        if desk.screen.rows <= 2 and len(short) <= desk.screen.cols:
            lines.append(short)  # 16x2: number and name on one row when they fit, above the clock
        elif desk.screen.rows <= 2:
            lines += wrap(name) + wrap(bank.text("script.intro", number=number, name="").strip())  # the name first
        else:
            lines += wrap(bank.text("script.intro", number=number, name="").strip())
            lines += wrap(name)  # a row of its own: a name is not split after «№ 7»
    else:
        lines += wrap(bank.text("ui.signed_out"))
    if not clock.trusted:
        lines += wrap(bank.text("ui.clock_untrusted"))
    forward = next_forward(desk)
    if forward is not None:
        due, risky = forward
        key = "ui.deadline_risk" if risky else "ui.deadline_line"
        lines += wrap(bank.text(key, due=due.astimezone(clock.tz).strftime("%H:%M %d.%m")))
    return lines


def next_forward(desk: Desk) -> tuple[datetime, bool] | None:
    """R11: the earliest due time of a forward the server has not got yet, and whether it is at risk."""
    dues = [d for _, ended, due in desk.journal.pending_forwards() if (d := forward_deadline(ended, due))]
    if not dues:
        return None
    due = min(dues)
    return due, desk.settings.appeal.forward.at_risk(desk.clock.now(), due)


def clock_row(desk: Desk) -> str:
    clock, bank = desk.clock, desk.bank
    now = clock.now()
    stamp = now.strftime("%H:%M") + ("" if clock.trusted else "?")
    queue = f"{bank.text('ui.queue')}: {desk.journal.pending_count()}"
    dated = f"{stamp} {now.strftime('%d.%m')} {queue}"
    short = f"{stamp} {queue}"
    return desk.screen.row(dated, short) if clock.trusted else desk.screen.row(short)
