"""Document categories, the records a document may be linked to, and the content's limits."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    CONTRACT_SCAN = "CONTRACT_SCAN"  # 合同扫描件
    PROPOSAL = "PROPOSAL"  # 方案建议书
    TENDER = "TENDER"  # 投标文件
    VISIT_MINUTES = "VISIT_MINUTES"  # 拜访纪要
    SOLUTION = "SOLUTION"  # 技术方案 (an expert request's outcome)
    OTHER = "OTHER"


class RelatedType(StrEnum):
    OPPORTUNITY = "opportunity"
    CONTRACT = "contract"
    TROUBLE_TICKET = "troubleTicket"


# the content travels in pieces of this size (a NATS message far below the 1 MB default payload limit)
CHUNK_BYTES = 128 * 1024
# F4: the largest file accepted (413 beyond, nothing stored)
MAX_DOCUMENT_BYTES = 100 * 1024 * 1024

UPLOAD_TYPES = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/tiff",
    "text/plain",
    "text/csv",
    "application/octet-stream",
    "application/zip",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
)
