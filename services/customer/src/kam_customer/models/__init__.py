"""ORM tables of the customer service (schema ``customer``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kam_platform.audit import AuditMixin
from kam_platform.db import ReplicatedMixin, service_metadata
from kam_platform.ids import uuid7
from kam_platform.outbox import OutboxMixin
from kam_platform.replication import DeadLetterMixin, InboxMixin

SCHEMA = "customer"


class Base(DeclarativeBase):
    metadata = service_metadata(SCHEMA)


class Organization(ReplicatedMixin, Base):
    """TMF632 Organization: the legal entity (法人) behind a key account."""

    __tablename__ = "organization"
    __table_args__ = (
        # the organization created for an engagedParty id this node did not know is found by it again
        Index(
            "ix_organization_tmf_attributes",
            "tmf_attributes",
            postgresql_using="gin",
            postgresql_ops={"tmf_attributes": "jsonb_path_ops"},
        ),
    )

    name: Mapped[str] = mapped_column(String(200))
    trading_name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(18), index=True)  # 统一社会信用代码
    organization_type: Mapped[str | None] = mapped_column(String(64))
    industry: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), default="validated")
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    tmf_attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))


class Customer(ReplicatedMixin, Base):
    """TMF629 Customer, extended as KeyAccountCustomer (大客户)."""

    __tablename__ = "customer"
    __table_args__ = (
        Index(
            "uq_customer_customer_code_live", "customer_code", unique=True, postgresql_where=text("deleted_at IS NULL")
        ),
        Index("ix_customer_name_trgm", "name", postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"}),
        # q= of two characters (most Chinese words, which trigrams cannot index): the name's 2-character
        # pieces; see migration 0003 for the function
        Index(
            "ix_customer_name_bigrams",
            text(f"{SCHEMA}.name_bigrams(name)"),
            postgresql_using="gin",
            postgresql_where=text("deleted_at IS NULL"),
        ),
        # live rows per node, small enough for index-only counts (X-Total-Count) of a scope
        Index("ix_customer_owner_node_live", "owner_node", postgresql_where=text("deleted_at IS NULL")),
        Index("ix_customer_owner_node_created_at", "owner_node", "created_at"),
        Index("ix_customer_owner_node_industry", "owner_node", "industry"),
        Index("ix_customer_owner_node_grade", "owner_node", "grade"),
        Index("ix_customer_owner_node_life_status", "owner_node", "life_status"),
        Index("ix_customer_account_manager", "account_manager"),
        Index("ix_customer_parent_customer_id", "parent_customer_id"),
    )

    customer_code: Mapped[str] = mapped_column(String(32))  # 客户编码
    name: Mapped[str] = mapped_column(String(200))  # 客户名称
    short_name: Mapped[str | None] = mapped_column(String(100))
    customer_type: Mapped[str] = mapped_column(String(32))  # 客户结构: GROUP_CUSTOMER / SINGLE
    nature: Mapped[str | None] = mapped_column(String(32))  # 客户性质
    mgmt_level: Mapped[str] = mapped_column(String(16))  # 管理级别
    industry: Mapped[str] = mapped_column(String(32))  # 行业
    value_type: Mapped[str | None] = mapped_column(String(16))  # 价值类型
    grade: Mapped[str] = mapped_column(String(4))  # 客户等级
    life_status: Mapped[str] = mapped_column(String(16))  # 生命周期状态
    recog_status: Mapped[str] = mapped_column(String(16))  # 认定状态
    status_reason: Mapped[str | None] = mapped_column(String(500))
    credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    parent_customer_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    account_manager: Mapped[str | None] = mapped_column(String(64))  # 客户经理 (user name)
    account_manager_name: Mapped[str | None] = mapped_column(String(100))
    enterprise_scale: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    credit_profile: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # standard TMF629 attributes without a column of their own, by API name (docs/api-conventions.md)
    tmf_attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))


class Contact(ReplicatedMixin, Base):
    """TMF632 Individual: a contact person (联系人) of a key account, with decision-chain role."""

    __tablename__ = "contact"

    # none until the contact is linked to its key account (TMF632 needs only givenName and familyName)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("customer.id"), index=True)
    given_name: Mapped[str | None] = mapped_column(String(50))
    family_name: Mapped[str | None] = mapped_column(String(50))
    full_name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(100))
    department: Mapped[str | None] = mapped_column(String(100))
    decision_role: Mapped[str | None] = mapped_column(String(32))  # 决策角色
    preferred_medium: Mapped[str | None] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(32))  # PII
    email: Mapped[str | None] = mapped_column(String(200))
    id_number: Mapped[str | None] = mapped_column(String(18))  # PII 身份证号
    birth_date: Mapped[date | None] = mapped_column(Date)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    tmf_attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))


class AccountManagerAssignment(Base):
    """History of account-manager assignments (客户经理变更历史)."""

    __tablename__ = "account_manager_assignment"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    owner_node: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    account_manager: Mapped[str | None] = mapped_column(String(64))
    account_manager_name: Mapped[str | None] = mapped_column(String(100))
    previous_account_manager: Mapped[str | None] = mapped_column(String(64))
    assigned_by: Mapped[str] = mapped_column(String(128))
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("clock_timestamp()"))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(String(500))


class Audit(AuditMixin, Base):
    __tablename__ = "audit"


class Outbox(OutboxMixin, Base):
    __tablename__ = "outbox"
    __table_args__ = OutboxMixin.outbox_indexes("outbox")


class Inbox(InboxMixin, Base):
    """Ids of replicated events already applied."""

    __tablename__ = "inbox"


class DeadLetter(DeadLetterMixin, Base):
    """Replicated events that could not be applied after bounded retries."""

    __tablename__ = "dead_letter"


class Designation(ReplicatedMixin, Base):
    """全国大客户名录: the group's directive that a customer is a national key account."""

    __tablename__ = "designation"
    __table_args__ = (
        # one ACTIVE designation per customer, however many requests race to designate it (migration 0005)
        Index(
            "uq_designation_customer_id_active", "customer_id", unique=True, postgresql_where=text("status = 'ACTIVE'")
        ),
    )

    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    customer_code: Mapped[str] = mapped_column(String(32))
    customer_name: Mapped[str] = mapped_column(String(200))
    customer_owner_node: Mapped[str] = mapped_column(String(32))
    grade: Mapped[str] = mapped_column(String(4))
    group_account_manager: Mapped[str | None] = mapped_column(String(64))  # 集团客户经理
    group_account_manager_name: Mapped[str | None] = mapped_column(String(100))
    service_level: Mapped[str | None] = mapped_column(String(32))  # 服务等级
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    note: Mapped[str | None] = mapped_column(String(500))
    designated_by: Mapped[str] = mapped_column(String(128))


class DesignationResponse(ReplicatedMixin, Base):
    """One node's answer to a designation (acknowledged / disputed / account manager assigned)."""

    __tablename__ = "designation_response"
    __table_args__ = (
        # one answer per node to a designation, replaced in place by a newer one (migration 0005)
        Index("uq_designation_response_designation_id_owner_node", "designation_id", "owner_node", unique=True),
    )

    designation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))
    account_manager: Mapped[str | None] = mapped_column(String(64))
    account_manager_name: Mapped[str | None] = mapped_column(String(100))
    responded_by: Mapped[str] = mapped_column(String(128))
