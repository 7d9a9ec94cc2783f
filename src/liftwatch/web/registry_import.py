"""The ledger import on screen (台账导入, docs/REGISTRY_IO.md): an admin or regulator uploads a CSV or Excel
file, reads a preview of what it would do (elevators to register, fields to change, rows refused with the
row, column and reason in the page's language), then applies it in one transaction.

The preview is the import itself, rolled back (``registry.service.import_ledger``), so applying does exactly
what the preview said unless the registry changed in between (then the import checks again and says so).
Between the two the upload is kept under the var directory (``imports/<token>/``), readable only by the
user who sent it, for at most :data:`KEEP_S`; applying, or a newer preview's cleanup, removes it.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.errors import DomainError, Forbidden, NotFound
from liftwatch.deps import ClockDep, SessionDep, SettingsDep
from liftwatch.registry import ledger, service
from liftwatch.web.templating import N_, PageActorDep, PageRoute, label, render, request_language, translate

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PATH = "/registry/import"
IMPORTERS = frozenset({Role.ADMIN, Role.REGULATOR})
#: How long an upload waits for its preview to be applied.
KEEP_S = 3600
#: At most this many rows of each list on the preview (the counts are always whole).
SHOWN = 500
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")

#: The import's reasons (English, from the registry's import) in the page's words: a pattern and its message.
REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), key)
    for p, key in (
        (r"^missing required field$", N_("imp.r_missing")),
        (r"^required column is missing$", N_("imp.r_column_missing")),
        (r"^unknown column, ignored$", N_("imp.r_column_unknown")),
        (r"^column '(?P<a>.*)' already gives (?P<b>.*)$", N_("imp.r_column_twice")),
        (r"^the file is empty", N_("imp.r_empty")),
        (r"^'(?P<a>.*)' is already registered$", N_("imp.r_registered")),
        (r"^'(?P<a>.*)' is already used by another elevator$", N_("imp.r_rescue_used")),
        (r"^duplicate of row (?P<a>\d+) in this file$", N_("imp.r_duplicate")),
        (r"^unit '(?P<a>.*)' is rejected in the units sheet$", N_("imp.r_unit_rejected")),
        (r"^unknown unit code '(?P<a>.*)'$", N_("imp.r_unit_unknown")),
        (r"^unit '(?P<a>.*)' is a (?P<b>\w+), expected a (?P<c>\w+)$", N_("imp.r_unit_type")),
        (r"^differs from the registered rescue code '(?P<a>.*)'", N_("imp.r_rescue_differs")),
        (r"^differs from the registered status '(?P<a>.*)'", N_("imp.r_status_differs")),
        (r"^the elevator is scrapped", N_("imp.r_scrapped")),
        (r"^not a valid date", N_("imp.r_date")),
        (r"^not a yes/no value", N_("imp.r_bool")),
    )
)


def reason_text(reason: str, lang: str) -> str:
    """An import reason in the page's language: a known one translated (unit types by their labels), any
    other (a field's own check) after a translated lead."""
    for pattern, key in REASONS:
        found = pattern.search(reason)
        if found is None:
            continue
        values = found.groupdict()
        if key == "imp.r_unit_type":
            values = {
                **values,
                "b": label("unit_type", values["b"], lang),
                "c": label("unit_type", values["c"], lang),
            }
        if key == "imp.r_status_differs":
            values = {**values, "a": label("status", values["a"], lang)}
        return translate(key, lang, **values)
    return translate("imp.r_other", lang, reason=reason)


# ---------------------------------------------------------------- the kept upload


def _require(actor: Actor) -> None:
    if actor.role not in IMPORTERS:
        raise Forbidden(f"role '{actor.role.value}' may not import the registry")


def _root(var_dir: Path) -> Path:
    return var_dir / "imports"


def _sweep(root: Path, now: float) -> None:
    """Remove the uploads nobody applied within :data:`KEEP_S`."""
    if not root.is_dir():
        return
    for kept in root.iterdir():
        try:
            meta = json.loads((kept / "meta.json").read_text())
            stale = now - float(meta["at"]) > KEEP_S
        except (OSError, ValueError, KeyError):
            stale = True
        if stale:
            shutil.rmtree(kept, ignore_errors=True)


def _keep(var_dir: Path, actor: Actor, upload: UploadFile) -> tuple[str, Path]:
    """Store the upload for its apply; returns its token and path. Refuses a name that is not .csv or
    .xlsx and a file over the import's size limit (as the API)."""
    name = ledger.upload_name(upload.filename)
    root = _root(var_dir)
    _sweep(root, time.time())
    token = secrets.token_urlsafe(24)
    folder = root / token
    folder.mkdir(parents=True)
    path = folder / name
    try:
        ledger.save_upload(upload.file, path)
    except ledger.FileTooLarge:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    (folder / "meta.json").write_text(json.dumps({"user": actor.username, "at": time.time()}))
    return token, path


def _kept(var_dir: Path, actor: Actor, token: str) -> Path:
    """The upload of ``token`` if this user sent it and it has not expired, else not found."""
    folder = _root(var_dir) / token
    try:
        if not _TOKEN.match(token):
            raise ValueError(token)
        meta = json.loads((folder / "meta.json").read_text())
        if meta["user"] != actor.username or time.time() - float(meta["at"]) > KEEP_S:
            raise ValueError(token)
        (path,) = (p for p in folder.iterdir() if p.name != "meta.json")
    except (OSError, ValueError, KeyError):
        raise NotFound("no upload to apply: preview the file again") from None
    return path


# ---------------------------------------------------------------- the page


def _report_view(report: ledger.ImportReport, lang: str) -> dict[str, Any]:
    """What the page shows of an import's report: counts, the changes by field label, the refused rows
    with their reasons in the page's language."""

    def field(name: str) -> str:
        return label("elevator", name, lang)

    def shown(value: Any) -> str:
        return "—" if value in (None, "") else str(value)

    bad_rows = {(e.sheet, e.row) for e in report.errors}
    return {
        "rows": report.rows,
        "imported": report.imported,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "units": report.units_imported,
        "refused": len(bad_rows),
        "changes": [
            {
                "row": c.row,
                "code": c.registration_code,
                "fields": [(field(k), shown(a), shown(b)) for k, (a, b) in c.changes.items()],
            }
            for c in report.changes[:SHOWN]
        ],
        "errors": [
            {
                "sheet": e.sheet,
                "row": e.row,
                "column": e.column,
                "value": e.value,
                "reason": reason_text(e.reason, lang),
            }
            for e in report.errors[:SHOWN]
        ],
        "warnings": [
            {"row": w.row, "column": w.column, "reason": reason_text(w.reason, lang)}
            for w in report.warnings[:SHOWN]
        ],
        "more_changes": max(0, len(report.changes) - SHOWN),
        "more_errors": max(0, len(report.errors) - SHOWN),
    }


def _page(request: Request, actor: Actor, step: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return render(
        request,
        "registry/import.html",
        {"step": step, "path": PATH, "shown": SHOWN, **context},
        actor=actor,
        status_code=status_code,
    )


@router.get(PATH, response_class=HTMLResponse)
def import_page(request: Request, actor: PageActorDep) -> HTMLResponse:
    _require(actor)
    return _page(request, actor, "upload")


def _run(
    session: Any, actor: Actor, path: Path, clock: Any, *, upsert: bool, skip_invalid: bool, keep: bool
) -> ledger.ImportReport:
    """The import of ``path``, committed when ``keep`` and something was written, else rolled back."""
    try:
        report = service.import_ledger(session, actor, path, clock, upsert=upsert, skip_invalid=skip_invalid)
    except BaseException:
        session.rollback()
        raise
    written = report.imported or report.units_imported or report.updated
    if keep and written:
        session.commit()
    else:
        session.rollback()
    return report


@router.post(PATH + "/preview", response_class=HTMLResponse)
def preview(
    request: Request,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    file: Annotated[UploadFile | None, File()] = None,
    upsert: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """预览: the upload imported and rolled back; the page lists what applying it would do."""
    _require(actor)
    lang = request_language(request)
    if file is None or not file.filename:
        return _page(request, actor, "upload", 422, error=translate("imp.err_file", lang))
    try:
        token, path = _keep(settings.var_dir, actor, file)
    except DomainError as exc:
        return _page(
            request,
            actor,
            "upload",
            exc.status_code,
            error=translate("imp.err_file_bad", lang, reason=exc.message),
        )
    report = _run(session, actor, path, clock, upsert=bool(upsert), skip_invalid=False, keep=False)
    return _page(
        request,
        actor,
        "preview",
        token=token,
        file_name=path.name,
        upsert=bool(upsert),
        report=_report_view(report, lang),
    )


@router.post(PATH + "/apply", response_class=HTMLResponse)
def apply(
    request: Request,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    token: Annotated[str, Form()] = "",
    upsert: Annotated[str, Form()] = "",
    skip_invalid: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """应用: the previewed upload imported for real in one transaction; the kept file is removed."""
    _require(actor)
    lang = request_language(request)
    path = _kept(settings.var_dir, actor, token)
    try:
        report = _run(
            session, actor, path, clock, upsert=bool(upsert), skip_invalid=bool(skip_invalid), keep=True
        )
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
    done = bool(report.imported or report.units_imported or report.updated)
    return _page(
        request,
        actor,
        "done" if done or not report.errors else "refused",
        status_code=200 if done or not report.errors else 422,
        file_name=path.name,
        report=_report_view(report, lang),
    )
