"""The screens of the panel and what their keys do, one class per screen.

A view renders plain text lines (the LCD layer encodes them for the glass) and reacts to keys; the
desk keeps a stack of them per call, the top one showing. Views never touch hardware, the clock or
the loop: everything goes through the small :class:`firmware.call.views.host.ViewHost` protocol.
"""

from firmware.call.views.appeal import AppealView
from firmware.call.views.base import PagedView, View
from firmware.call.views.dialogs import ConfirmView, HoldConfirmView, MessageView, QuestionView
from firmware.call.views.phrases import OUTCOME_ENTRIES, PhraseListView, PhraseView
from firmware.call.views.script import SCRIPT_STEPS, STEP_SHOWN, HomeView, ScriptView
from firmware.call.views.sign_in import SignInView, SignOutView

__all__ = ["OUTCOME_ENTRIES", "SCRIPT_STEPS", "STEP_SHOWN", "AppealView", "ConfirmView", "HoldConfirmView",
           "HomeView", "MessageView", "PagedView", "PhraseListView", "PhraseView", "QuestionView", "ScriptView",
           "SignInView", "SignOutView", "View"]
