"""The console's live views and timed tests: the line meter, the LCD and LED tests, the key test,
and the selftest. Each owns the terminal while it runs (a :class:`~firmware.console.protocol.View`,
or the busy mode for the selftest) and runs on timers of the unit's clock.
"""

from __future__ import annotations

from typing import Any

from firmware.console.protocol import Host, Mode, SelftestCheck, Status, View
from firmware.console.settings import LED_TEST_COLOURS, ViewTimings
from firmware.exc import CommandError
from firmware.vocabulary import Colour


class LiveViews:
    """The commands that take over the terminal for a while."""

    def __init__(self, host: Host, timings: ViewTimings) -> None:
        self.host = host
        self.timings = timings

    def lcd(self, args: list[str], _raw: str) -> None:
        host, backend = self.host, self.host.backend
        if not args:
            rows = backend.lcd_rows()
            width = max((len(r) for r in rows), default=0)
            edge = "+" + "-" * width + "+"
            host.say("\n".join([edge, *(f"|{r.ljust(width)}|" for r in rows), edge]))
            return
        if args[0].lower() != "test":
            raise CommandError("usage: lcd | lcd test")
        if backend.in_call():
            raise CommandError("a call is on: lcd test waits until the call ends.")
        backend.lcd_show(backend.lcd_test_pattern())
        host.say(f"LCD test pattern for {self.timings.lcd_test_s:g} s (any key ends it):")
        self.lcd([], "")
        view = View("lcd test", on_key=lambda ch: True, on_stop=self._lcd_back)
        host.start_view(view)
        host.later(view, self.timings.lcd_test_s, lambda: host.end_view())

    def _lcd_back(self) -> None:
        self.host.backend.lcd_restore()
        self.host.emit("LCD back to the unit's screen.")

    def led(self, args: list[str], _raw: str) -> None:
        host, backend = self.host, self.host.backend
        if not args:
            host.say("  ".join(f"{k.upper()}:{v}" for k, v in backend.led_states().items()))
            return
        if args[0].lower() != "test":
            raise CommandError("usage: led | led test")
        if backend.in_call():
            raise CommandError("a call is on: led test waits until the call ends.")
        steps = [(name, colour) for name in backend.led_states() for colour in (*LED_TEST_COLOURS, Colour.OFF)]

        def restore() -> None:
            backend.led_restore()
            host.emit("LEDs back to the unit's states.")

        view = View("led test", on_key=lambda ch: True, on_stop=restore)
        host.say("LED test (any key ends it):")
        host.start_view(view)

        def step(i: int) -> None:
            if i >= len(steps):
                host.end_view()
                return
            name, colour = steps[i]
            backend.led_set(name, colour)
            if colour != Colour.OFF:
                host.say(f"  {name.upper():<5} {colour}")
            host.later(view, self.timings.led_step_s, lambda: step(i + 1))

        step(0)

    def keys(self, _args: list[str], _raw: str) -> None:
        host = self.host
        host.say("Key test: press keys, lift the handset. Keys do not reach the unit meanwhile. Ctrl-C ends it.")
        hinted = [False]

        def on_key(ch: str) -> bool:
            if ch == "\x03":
                return True
            if not hinted[0] and ch.isprintable():
                hinted[0] = True
                host.say("(Ctrl-C ends the key test)")
            return False

        def on_event(text: str) -> None:
            if host.view_is(view):
                host.guard(host.say, f"  {text}")

        view = View("keys", on_key=on_key)
        host.start_view(view)
        view.on_stop = host.backend.watch_inputs(on_event)

    def audio(self, _args: list[str], _raw: str) -> None:
        host = self.host
        stop = host.backend.audio_begin()
        host.say("Line meter, 4 times a second (any key stops it):")
        view = View("audio", on_key=lambda ch: True, on_stop=stop)
        host.start_view(view)

        def tick() -> None:
            host.emit("\r" + meter_line(host.backend.audio_report()) + "\x1b[K")
            host.later(view, self.timings.meter_period_s, tick)

        tick()

    def selftest(self, _args: list[str], _raw: str) -> None:
        host = self.host
        checks = host.backend.selftest()
        results: list[str] = []
        current = host.begin_busy()
        host.say("selftest:")

        def record(check: SelftestCheck, outcome: Any) -> None:
            if isinstance(outcome, BaseException):
                status, reason = Status.FAIL, f"{type(outcome).__name__}: {str(outcome)[:100]}"
            else:
                status, reason = outcome
            results.append(status)
            host.say(f"  {status:<4}  {check.name:<8} {reason}")

        def run(i: int) -> None:
            if not current():
                return
            while i < len(checks):
                check = checks[i]
                if check.blocking:
                    host.flush()

                    def done(outcome: Any, check: SelftestCheck = check, i: int = i) -> None:
                        if not current():
                            return
                        record(check, outcome)
                        run(i + 1)

                    host.run_blocking(check.fn, lambda outcome, done=done: host.guard(done, outcome))
                    return
                try:
                    outcome: Any = check.fn()
                except Exception as e:
                    outcome = e
                record(check, outcome)
                i += 1
            counts = {s: results.count(s) for s in Status if results.count(s)}
            host.say("selftest: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
            host.mode = Mode.LINE
            host.finish()

        run(0)


def meter_line(report: dict[str, Any] | None) -> str:
    """One line of the audio meter: a speech level bar, noise, SNR, the verdict and its score."""
    if not report:
        return "no audio analysed yet"
    speech = report.get("speech_dbfs")
    width = 24
    filled = 0 if speech is None else max(0, min(width, int(round((speech + 60.0) / 60.0 * width))))
    bar = "#" * filled + "." * (width - filled)

    def num(key: str, fmt: str) -> str:
        v = report.get(key)
        return "--" if v is None else format(v, fmt)

    return (f"[{bar}] speech {num('speech_dbfs', '6.1f')} dBFS  noise {num('noise_dbfs', '6.1f')}  "
            f"SNR {num('snr_db', '5.1f')} dB  {str(report.get('verdict', '?')):<14} score {num('score', '4.2f')}")
