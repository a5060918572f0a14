"""Whether an archive's schema revision fits this code: older ones are migrated after the
restore, newer (unknown) ones are refused before anything is touched."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from coterie import migrate
from coterie.backup.archive import BackupError


def _chain() -> list[str]:
    scripts = ScriptDirectory(str(migrate.MIGRATIONS_DIR))
    return [script.revision for script in reversed(list(scripts.walk_revisions()))]


def check(revision: str | None, where: str) -> bool:
    """Whether the archive at `where`, at schema `revision`, needs `coterie db upgrade` after
    its restore (False: it is at the code's revision). BackupError when it is no Coterie
    database or its revision is newer than this code."""
    if revision is None:
        raise BackupError(
            f"{where} holds no Coterie schema revision (no alembic_version row): it is not a "
            "Coterie database."
        )
    chain = _chain()
    if revision not in chain:
        raise BackupError(
            f"{where} is at schema revision {revision}, which this version of Coterie does not "
            f"know (it knows revisions up to {chain[-1]}): it was made by a newer version. "
            "Restore it with that version (or upgrade Coterie first); nothing was changed."
        )
    return revision != chain[-1]
