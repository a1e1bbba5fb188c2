"""The call layer: what the unit does with a phone call, one module per room.

- :mod:`.unit`: the event dispatch and a call's lifecycle (hook, start, resume, end); the only entry
  point the application wires;
- :mod:`.desk`: the desk's state (operator, call, screens) and what the operator's keys ask of it;
- :mod:`.phase`: the call's phase as one state machine (what the screen is about right now);
- :mod:`.operators`: who may sign in (roster, PIN check);
- :mod:`.hold`: the hold timer and its LED stages (R17, R18);
- :mod:`.line_rules`: what a line verdict does to the call (R16, R19, R21);
- :mod:`.appeals`: the call's side of the appeal form (R9, R11, R22, R24, R25);
- :mod:`.render`: what the LCD shows now (idle screen, the phase's screen, the top view, the status
  line), drawn with :mod:`.screen` (romanised wrapping, the body above the status line, paging);
- :mod:`.state`: the call and the operator as data, and the small protocols the rooms share;
- :mod:`.draft`: the call in progress as a crash-safe draft, and :mod:`.recovery` bringing it back;
- :mod:`.settings`: the call layer's settings, typed, from the validated config;
- :mod:`.views`: the screens and their keys, behind a small host protocol.
"""
