"""Member import from CSV files as Excel in China writes them: UTF-8 or GBK, with or without BOM.

Columns (zh or en headers, any order): 姓名/name, 手机号/mobile, 邮箱/email, 角色/role, and
optionally 状态/status. The import is all or nothing: every row is checked first; when any row
is bad nothing is saved and the report lists each bad row (by its line in the file) and why.
Rows whose mobile already belongs to a member update that member; the others are added.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dingbridge.errors import ValidationFailed
from dingbridge.i18n import Message
from dingbridge.spaces import audit
from dingbridge.spaces.members import CleanMember, MemberInput, change_status, clean_member
from dingbridge.spaces.store import get_space
from dingbridge.storage.models import Member

MAX_ROWS = 20000
HEADERS: dict[str, str] = {
    "姓名": "name",
    "名字": "name",
    "name": "name",
    "手机号": "mobile",
    "手机": "mobile",
    "手机号码": "mobile",
    "mobile": "mobile",
    "phone": "mobile",
    "邮箱": "email",
    "电子邮箱": "email",
    "email": "email",
    "角色": "role",
    "role": "role",
    "状态": "status",
    "status": "status",
}
STATUS_WORDS = {"启用": "active", "正常": "active", "停用": "disabled", "禁用": "disabled"}
REQUIRED = ("name", "mobile")


@dataclass(frozen=True)
class RowProblem:
    """What is wrong with one field of one row. ``message`` is a catalog message (English,
    translated when shown) with ``%(name)s`` placeholders filled from ``params``."""

    line: int  # line number in the file, header = 1
    column: str
    message: str
    params: dict[str, str | int] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return f"{self.column}: {self.message % self.params if self.params else self.message}"


@dataclass
class ImportReport:
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class CsvImportFailed(ValidationFailed):
    """The file was not imported; ``report.problems`` says which rows are bad and why."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        super().__init__(
            {f"line {p.line} {p.column}": p.text for p in report.problems},
            Message(
                "Nothing was imported: %(count)s problem(s) in the file.",
                count=len(report.problems),
            ),
        )


def decode(data: bytes) -> str:
    """The text of a CSV file: UTF-8 (BOM or not), else GBK/GB18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ValidationFailed(
            {"file": Message("The file is neither UTF-8 nor GBK text. Save it from Excel as CSV.")}
        ) from None


def parse(data: bytes) -> tuple[list[tuple[int, CleanMember]], ImportReport]:
    """The file's valid rows (with their line numbers) and a report of every bad one."""
    report = ImportReport()
    text = decode(data)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], ",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if header is None:
        raise ValidationFailed({"file": Message("The file is empty.")})
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        key = HEADERS.get(title.strip().lower()) or HEADERS.get(title.strip())
        if key is not None and key not in columns:
            columns[key] = index
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise ValidationFailed(
            {
                "file": Message(
                    "The first line must name the columns; missing: %(columns)s.",
                    columns=", ".join(
                        {"name": "姓名/name", "mobile": "手机号/mobile"}[c] for c in missing
                    ),
                )
            }
        )
    rows: list[tuple[int, CleanMember]] = []
    seen: dict[str, int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        report.rows += 1
        if report.rows > MAX_ROWS:
            raise ValidationFailed(
                {"file": Message("More than %(rows)s rows; split the file.", rows=MAX_ROWS)}
            )

        def cell(name: str, cells: list[str] = cells) -> str:
            index = columns.get(name)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        status = cell("status")
        try:
            member = clean_member(
                MemberInput(
                    name=cell("name"),
                    mobile=cell("mobile"),
                    email=cell("email"),
                    role=cell("role"),
                    status=STATUS_WORDS.get(status, status.lower()),
                )
            )
        except ValidationFailed as exc:
            for name, message in exc.problems.items():
                report.problems.append(RowProblem(line, name, message))
            continue
        if member.mobile in seen:
            report.problems.append(
                RowProblem(
                    line,
                    "mobile",
                    "The same mobile number as line %(line)s.",
                    {"line": seen[member.mobile]},
                )
            )
            continue
        seen[member.mobile] = line
        rows.append((line, member))
    if report.rows == 0:
        raise ValidationFailed({"file": Message("The file has no member rows under its header.")})
    return rows, report


async def import_members(
    session: AsyncSession, space_id: int, data: bytes, *, actor: str, filename: str = ""
) -> ImportReport:
    """Import the file into the space, or raise :class:`CsvImportFailed` having saved nothing."""
    await get_space(session, space_id)
    rows, report = parse(data)
    if report.problems:
        raise CsvImportFailed(report)
    existing = {
        m.mobile: m
        for m in await session.scalars(select(Member).where(Member.space_id == space_id))
    }
    for _line, clean in rows:
        member = existing.get(clean.mobile)
        if member is None:
            session.add(
                Member(
                    space_id=space_id,
                    name=clean.name,
                    mobile=clean.mobile,
                    email=clean.email,
                    role=clean.role,
                    status=clean.status,
                )
            )
            report.added += 1
            continue
        new = (clean.name, clean.email, clean.role, clean.status)
        if (member.name, member.email, member.role, member.status) == new:
            report.unchanged += 1
            continue
        member.name, member.email, member.role = new[:3]
        change_status(session, member, clean.status, actor=actor)
        report.updated += 1
    await session.flush()
    await audit.record(
        session,
        actor,
        "member.import",
        f"space:{space_id}",
        {
            "file": filename,
            "rows": report.rows,
            "added": report.added,
            "updated": report.updated,
            "unchanged": report.unchanged,
        },
    )
    return report
