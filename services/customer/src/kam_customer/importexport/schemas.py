"""The import/export file format (批量导入导出): one column per key-account attribute, by API name or
Chinese header, and the import summary returned to the caller."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from kam_customer.customer import rules
from kam_customer.duplicates.importing import ImportWarning
from kam_customer.duplicates.schemas import ImportWarningRead
from kam_platform.api import ReadModel

CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MULTIPART_TYPE = "multipart/form-data"
MAX_ERRORS = 1000


@dataclass(frozen=True)
class Column:
    """One file column: API name (header), Chinese header alias, table column, limits."""

    name: str
    zh: str
    attr: str
    max_length: int | None = None
    required: bool = False
    enum: type[StrEnum] | None = None
    default: str | None = None  # applied on create when the cell is empty; on update empty keeps the value


COLUMNS: tuple[Column, ...] = (
    Column("customerCode", "客户编码", "customer_code", 32, required=True),
    Column("name", "客户名称", "name", 200, required=True),
    Column("customerType", "客户结构", "customer_type", enum=rules.CustomerType, default="SINGLE"),
    Column("nature", "客户性质", "nature", enum=rules.Nature),
    Column("mgmtLevel", "管理级别", "mgmt_level", enum=rules.MgmtLevel, default="LOCAL"),
    Column("industry", "行业", "industry", enum=rules.Industry, required=True),
    Column("valueType", "价值类型", "value_type", enum=rules.ValueType),
    Column("grade", "客户等级", "grade", enum=rules.Grade, default="C"),
    Column("status", "生命周期状态", "life_status", enum=rules.LifeStatus, default="PROSPECT"),
    Column("recognitionStatus", "认定状态", "recog_status", enum=rules.RecogStatus, default="CANDIDATE"),
    Column("creditCode", "统一社会信用代码", "credit_code", 18),
    Column("accountManager", "客户经理", "account_manager", 64),
    Column("accountManagerName", "客户经理姓名", "account_manager_name", 100),
    Column("parentCustomerCode", "上级客户编码", "parent_code", 32),
    Column("enterpriseScale", "企业规模", "enterprise_scale", 32),
    Column("address", "地址", "address", 500),
    Column("description", "描述", "description", 4000),
)

COLUMN_BY_HEADER: dict[str, Column] = {
    **{c.name.lower(): c for c in COLUMNS},
    **{c.zh: c for c in COLUMNS},
}
EXPORT_HEADER = [c.name for c in COLUMNS]


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based line of the file (the header is 1), or of the worksheet `sheet`
    column: str | None
    message: str
    sheet: str | None = None  # an XLSX worksheet after the first (an export continued past 1,048,575 rows)

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"row": self.row, "column": self.column, "message": self.message}
        if self.sheet is not None:
            out["sheet"] = self.sheet
        return out


@dataclass
class ImportResult:
    received: int = 0
    created: int = 0
    updated: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS only
    error_count: int = 0
    job_id: uuid.UUID | None = None  # the import job (its rows: /api/v1/customer/imports/{job}/rows)
    # F1: created rows that may duplicate a customer (a warning, the row is imported), the first MAX_ERRORS
    warnings: list[ImportWarning] = field(default_factory=list)
    warning_count: int = 0

    def reject(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)

    def warning_room(self) -> int:
        """How many more warnings the result names (the rest are counted only)."""
        return max(0, MAX_ERRORS - len(self.warnings))

    def warn(self, warnings: list[ImportWarning], count: int | None = None) -> None:
        """`warnings` named, of `count` (default: as many as named)."""
        self.warning_count += len(warnings) if count is None else count
        self.warnings.extend(warnings[: self.warning_room()])

    def to_api(self) -> dict[str, Any]:
        return {
            "@type": "ImportResult",
            "received": self.received,
            "created": self.created,
            "updated": self.updated,
            "rejected": self.rejected,
            "errors": [e.to_api() for e in self.errors],
            "errorCount": self.error_count,
            "warnings": [w.to_api() for w in self.warnings],
            "warningCount": self.warning_count,
            **({"job": str(self.job_id)} if self.job_id is not None else {}),
        }


class RowErrorRead(ReadModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=False)  # `sheet` may be absent

    row: Annotated[int, Field(description="1-based line of the file (the header is 1)")]
    column: str | None
    message: str
    sheet: Annotated[str | None, Field(description="the XLSX sheet, when the file has several")] = None


class ImportResultRead(ReadModel):
    """The summary of an import: rows received, created, updated and rejected, and why."""

    type_: Annotated[Literal["ImportResult"], Field(alias="@type")] = "ImportResult"
    received: int
    created: int
    updated: int
    rejected: int
    errors: Annotated[list[RowErrorRead], Field(description=f"the first {MAX_ERRORS} row errors")]
    error_count: int
    warnings: Annotated[
        list[ImportWarningRead],
        Field(
            default_factory=list,
            description=f"the first {MAX_ERRORS} created rows with possible duplicates (imported all the same)",
        ),
    ]
    warning_count: int = 0
    job: Annotated[
        str | None,
        Field(description="the import job: what each row did is at /api/v1/customer/imports/{job}/rows"),
    ] = None


class ImportRowRead(ReadModel):
    """What an import job did with one row of its file (its chunk's audit record, replicated up)."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=False)  # `changes` may be absent

    row: Annotated[int, Field(description="1-based line of the file (the header is 1)")]
    customer_code: str
    id: Annotated[str, Field(description="the customer")]
    action: Literal["created", "updated"]
    chunk: int
    changes: Annotated[dict[str, list[Any]] | None, Field(description="for an update: {attribute: [old, new]}")] = None
