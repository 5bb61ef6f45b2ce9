"""The keyring snapshot in words: the keyring panel's rows and a copy's result.

Rich text for QLabels: every value that comes from outside (backend names, the core's messages)
is escaped. Nothing here ever receives a secret; fingerprints are masked by the core.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from agentmux_companion.core.keyring.copy import AccountCopy, CopyReport, Outcome
from agentmux_companion.core.keyring.view import AccountRow, CopyState
from agentmux_companion.core.providers import ProviderRegistry
from agentmux_companion.ui.keyring_health import snapshot_words
from agentmux_companion.ui.messages import escape


def _tr(text: str) -> str:
    return QCoreApplication.translate("KeyringPanel", text)


def state_words(state: CopyState) -> str:
    """How a keyring copy's state reads in the panel."""
    return {
        CopyState.NOT_COPIED: _tr("not copied"),
        CopyState.CURRENT: _tr("current"),
        CopyState.STALE: _tr("stale"),
        CopyState.INCOMPLETE: _tr("incomplete"),
        CopyState.CONFLICT: _tr("conflict"),
        CopyState.SOURCE_GONE: _tr("login file gone"),
        CopyState.TOO_LARGE: _tr("too large"),
    }[state]


def state_details(row: AccountRow) -> str:
    """Why a row is in its state and what to do about it."""
    if row.note:
        text = row.note
    elif row.state is CopyState.NOT_COPIED:
        text = (_tr("The copy is no longer in the keyring; copy again.") if row.in_keyring_missing
                else _tr("Not in the keyring."))
    else:
        text = {
            CopyState.CURRENT: _tr("Matches the CLI's login file."),
            CopyState.STALE: _tr("The CLI refreshed its token since; copy again."),
            CopyState.INCOMPLETE: _tr("Interrupted before it was verified; copy again, or remove it."),
            CopyState.CONFLICT: _tr("A value the companion did not write is in the way; it is left alone."),
            CopyState.SOURCE_GONE: _tr("The CLI's login file is missing now (signed out?)."),
            CopyState.TOO_LARGE: _tr("Too large for this keyring."),
        }[row.state]
    if not row.bound:
        text += " " + _tr("No AgentMux store binds this account any more.")
    return text


def outcome_words(outcome: Outcome) -> str:
    """How the outcome of copying one account reads in the panel."""
    return {
        Outcome.COPIED: _tr("copied and verified"),
        Outcome.UNCHANGED: _tr("already in the keyring, identical"),
        Outcome.CONFLICT: _tr("not copied: another value is in the way"),
        Outcome.SKIPPED: _tr("not copied"),
        Outcome.TOO_LARGE: _tr("not copied: too large"),
        Outcome.FAILED: _tr("not copied: the read-back did not match"),
    }[outcome]


def copy_result_html(report: CopyReport, registry: ProviderRegistry) -> str:
    """A copy's result for a QLabel: one line per account, then what a snapshot means."""
    if not report.copies:
        return _tr("Nothing was copied: no AgentMux store binds a CLI login yet.")
    backend = report.backend.name if report.backend is not None else ""
    lines = [_tr("<b>Keyring copy ({0}):</b>").format(escape(backend))]
    for copy in report.copies:
        lines.append(escape(_copy_line(copy, registry)))
    lines.append(escape(snapshot_words()))
    return "<br>".join(lines)


def _copy_line(copy: AccountCopy, registry: ProviderRegistry) -> str:
    provider = registry.get(copy.account.provider)
    name = provider.display_name if provider is not None else copy.account.provider
    line = f"{name}: {outcome_words(copy.outcome)}"
    if copy.fingerprint:
        line += f" ({copy.fingerprint})"
    if not copy.ok:
        line += f" — {copy.message}"
    return line

