"""The reminder ladder in force: the newest flow version's (what admins edit), else the newest stored
``ladder`` document, else the default in ``scheduler/ladder.yml``, so an admin can change it without
a deploy. The document itself (stages, wordings, checks) is ``bot.domain.ladder``. The default file
stays at ``scheduler/ladder.yml``: that is its path in every stored flow version.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import ConfigDocument, FlowVersion
from bot.domain.ladder import Ladder, LadderError, Stage, Template, Wording
from bot.settings import PROJECT_ROOT

__all__ = ["Ladder", "LadderError", "Stage", "Template", "Wording", "active_ladder", "default_ladder", "store_ladder"]

KIND = "ladder"
FLOW_PATH = "scheduler/ladder.yml"
DEFAULT_LADDER: Path = PROJECT_ROOT / FLOW_PATH


@lru_cache(maxsize=8)
def _ladder_from_text(text: str) -> Ladder:
    return Ladder.from_yaml(text)


@lru_cache(maxsize=1)
def default_ladder() -> Ladder:
    return Ladder.from_yaml(DEFAULT_LADDER.read_text(encoding="utf-8"))


def active_ladder(session: Session) -> Ladder:
    """The ladder in force: the newest flow version's (what admins edit), else the newest stored
    ladder document, else the YAML default."""
    flow = session.scalar(select(FlowVersion.documents).order_by(FlowVersion.number.desc()).limit(1))
    if flow and FLOW_PATH in flow:
        return _ladder_from_text(flow[FLOW_PATH])
    body = session.scalar(
        select(ConfigDocument.body).where(ConfigDocument.kind == KIND).order_by(ConfigDocument.version.desc()).limit(1)
    )
    return default_ladder() if body is None else Ladder.from_dict(body)


def store_ladder(session: Session, ladder: Ladder, *, by: str) -> int:
    """Store a new version (validated already by construction); returns its version number."""
    current = session.scalar(select(func.max(ConfigDocument.version)).where(ConfigDocument.kind == KIND)) or 0
    session.add(ConfigDocument(kind=KIND, version=current + 1, body=ladder.source, created_by=by))
    session.flush()
    return current + 1
