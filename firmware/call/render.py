"""What the LCD shows: the idle screen between calls, and during a call the top view or what the
line, the hold or a silent caller demand instead, above the status line."""

from __future__ import annotations

from firmware.call.desk import Desk
from firmware.call.phase import Phase
from firmware.call.views import AppealView
from firmware.timefmt import mmss


def render(desk: Desk) -> list[str]:
    screen = desk.screen
    rows = screen.rows
    call = desk.call
    if call is None:
        if desk.idle_views:
            return screen.fit(desk.idle_views[-1].lines(desk), rows)
        return screen.fit(idle_lines(desk), rows, keep_last=True)
    bank = desk.bank
    phase = call.phase
    # R16's phrase wins even over the hold screen once it has been shown and the line is still bad
    if phase is Phase.CANNOT_HEAR or (phase is Phase.ON_HOLD and call.cannot_hear_shown and call.line.cannot_hear):
        return screen.fit(screen.wrap(bank.text("script.cannot_hear")), rows)
    view = call.views[-1]
    body: list[str]
    if phase is Phase.COUNTDOWN:
        body = screen.wrap(f"{bank.text('ui.countdown')}: {desk.line.countdown_left(call):2d} с")
    elif phase is Phase.ON_HOLD:
        body = screen.wrap(bank.text("ui.hold_over")) if desk.hold.over_limit() else []
    elif not view.fullscreen and desk.line.silence_worth_noting(call):
        body = screen.wrap(bank.text("ui.silent_callback" if desk.line.callback_due(call) else "ui.silent"))
    elif view.fullscreen or (rows <= 2 and isinstance(view, AppealView)):
        return screen.fit(view.lines(desk), rows)
    else:
        body = view.lines(desk)
    return screen.compose(body, lambda: status_line(desk))


def status_line(desk: Desk) -> str:
    """Call time and line state; on hold, the hold timer instead (R18: the operator watches it)."""
    call = desk.call
    assert call is not None
    bank = desk.bank
    fault = None if desk.journal.fault.durable else desk.journal_fault_text()
    if call.phase is Phase.ON_HOLD:
        text = f"{bank.text('ui.hold_on')} {mmss(desk.hold.elapsed())}"
    elif fault:  # the line has its LED; a journal that cannot save has only this row
        text = f"{mmss(desk.call_time())} {fault}"
    else:
        state = "no_input" if desk.audio_lost else call.line
        text = f"{mmss(desk.call_time())} {bank.text('ui.line')}: {bank.text(f'ui.line_{state}')}"
    return desk.screen.line(text)[: desk.screen.cols]


def idle_lines(desk: Desk) -> list[str]:
    bank, clock, wrap = desk.bank, desk.clock, desk.screen.wrap
    now = clock.now()
    lines = []
    fault = desk.journal_fault_text()
    if fault:
        lines += wrap(fault)
    if not clock.trusted:
        lines += wrap(bank.text("ui.clock_untrusted"))
    if desk.operator:
        lines += wrap(bank.text("script.intro", number=desk.operator.number, name="").strip())
        lines += wrap(desk.operator.name)
    else:
        lines += wrap(bank.text("ui.signed_out"))
    stamp = now.strftime("%H:%M %d.%m") if clock.trusted else now.strftime("%H:%M") + "?"
    lines += wrap(f"{stamp} {bank.text('ui.queue')}: {desk.journal.pending_count()}")
    return lines
