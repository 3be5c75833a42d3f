"""The records a replica COPYs are built straight from the payload (issue 13, `replication/batch.py`):
they must carry what the owner wrote — ids, timestamps, the credit profile and the TMF attributes as
the JSON the owner stored — and a payload whose TMF attributes are not an object fails the apply (the
batch is retried event by event, and that event dead-lettered)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from kam_contracts import customer_pb2
from kam_customer.replication.batch import (
    ASSIGNMENT_COLUMNS,
    CUSTOMER_COLUMNS,
    ORGANIZATION_COLUMNS,
    assignment_record,
    customer_record,
    json_object,
    organization_record,
)
from kam_platform.outbox import from_ts, ts

from .test_apply_integrity import customer_state

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_a_customer_record_carries_the_owners_state_column_by_column() -> None:
    cid, parent, org = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    created = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
    c = customer_state(cid, "gd-gz", 3, "广州银行股份有限公司", "KAGDGZREC000001")
    c.parent_customer_id, c.organization_id = str(parent), str(org)
    c.created_at.CopyFrom(ts(created))
    c.tmf_attributes_json = json.dumps({"href": "/x", "备注": "中文"}, ensure_ascii=False)
    c.credit_profile.CopyFrom(
        customer_pb2.CreditProfile(
            credit_level="AA", credit_score=88, credit_limit=customer_pb2.Money(unit="CNY", value="100")
        )
    )
    # every column a distinct value, so a column out of place shows
    c.short_name, c.nature, c.value_type, c.status_reason = "广州银行", "STATE_OWNED", "STRATEGIC", "续约"
    c.credit_code, c.account_manager, c.account_manager_name = "91440101MA59XXXX0X", "am07", "李经理"
    c.enterprise_scale, c.address, c.description = "LARGE", "广州市天河区", "重点客户"
    row = dict(zip(CUSTOMER_COLUMNS, customer_record(c, NOW), strict=True))
    assert isinstance(row["id"], uuid.UUID) and str(row["id"]) == str(cid)
    assert {k: v for k, v in row.items() if k not in ("tmf_attributes", "credit_profile")} == {
        "id": cid,
        "owner_node": "gd-gz",
        "version": 3,
        "customer_code": "KAGDGZREC000001",
        "name": "广州银行股份有限公司",
        "short_name": "广州银行",
        "customer_type": "SINGLE",
        "nature": "STATE_OWNED",
        "mgmt_level": "LOCAL",
        "industry": "FINANCE",
        "value_type": "STRATEGIC",
        "grade": "B",
        "life_status": "ACTIVE",
        "recog_status": "CONFIRMED",
        "status_reason": "续约",
        "credit_code": "91440101MA59XXXX0X",
        "parent_customer_id": parent,
        "organization_id": org,
        "account_manager": "am07",
        "account_manager_name": "李经理",
        "enterprise_scale": "LARGE",
        "address": "广州市天河区",
        "description": "重点客户",
        "created_at": created,
        "updated_at": NOW,  # unset: the apply's time
        "deleted_at": None,
    }
    assert json.loads(row["tmf_attributes"]) == {"href": "/x", "备注": "中文"}
    assert json.loads(row["credit_profile"]) == {
        "creditLevel": "AA",
        "creditScore": 88,
        "creditLimit": {"unit": "CNY", "value": "100"},
    }
    plain = dict(zip(CUSTOMER_COLUMNS, customer_record(customer_state(cid, "gd-gz", 1, "n"), NOW), strict=True))
    assert plain["credit_profile"] is None and plain["tmf_attributes"] == "{}"
    assert plain["parent_customer_id"] is None and plain["organization_id"] is None
    assert plain["short_name"] is None and plain["address"] is None  # empty text: no value


@pytest.mark.parametrize(
    ("seconds", "nanos"), [(1_764_000_000, 999_999_999), (-86_400 * 365, 1_000), (-1, 999_999_999), (0, 1)]
)
def test_a_timestamp_converts_as_protobuf_converts_it(seconds: int, nanos: int) -> None:
    t = Timestamp(seconds=seconds, nanos=nanos)
    assert from_ts(t) == t.ToDatetime(tzinfo=UTC)
    assert from_ts(Timestamp()) is None


def test_a_timestamp_out_of_range_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="nanos"):
        from_ts(Timestamp(seconds=1, nanos=-5))
    with pytest.raises(ValueError, match="seconds"):
        from_ts(Timestamp(seconds=10**12, nanos=0))


def test_organization_and_assignment_records_follow_their_columns() -> None:
    oid, aid, cid = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    o = customer_pb2.OrganizationState(id=str(oid), owner_node="gd-gz", version=2, name="某医院", deleted=True)
    org = dict(zip(ORGANIZATION_COLUMNS, organization_record(o, NOW), strict=True))
    assert org["id"] == oid and org["trading_name"] == "某医院"  # an older writer left it empty
    assert org["status"] == "validated" and org["tmf_attributes"] == "{}" and org["deleted_at"] == NOW
    start = datetime(2026, 5, 1, tzinfo=UTC)
    a = customer_pb2.AccountManagerAssigned(
        id=str(aid), owner_node="gd-gz", customer_id=str(cid), account_manager="am01", assigned_by="import"
    )
    a.valid_from.CopyFrom(ts(start))
    got = dict(zip(ASSIGNMENT_COLUMNS, assignment_record(a, NOW), strict=True))
    assert (got["id"], got["customer_id"], got["valid_from"]) == (aid, cid, start)
    assert got["previous_account_manager"] is None and got["reason"] is None


def test_tmf_attributes_are_passed_on_as_the_owner_wrote_them_and_must_be_an_object() -> None:
    written = json.dumps({"@type": "Organization", "名称": "x"}, ensure_ascii=False)
    assert json_object(written) is written  # passed on untouched: PostgreSQL parses it into jsonb
    assert json_object("") == "{}"
    assert json.loads(json_object(' {"a": 1}')) == {"a": 1}  # not as its writers produce it: parsed
    for bad in ("[1]", '"text"', "1", "null"):
        with pytest.raises(ValueError, match="must be a JSON object"):
            json_object(bad)
    with pytest.raises(json.JSONDecodeError):
        json_object("[1")  # not JSON at all
    c = customer_state(uuid.uuid4(), "gd-gz", 1, "n")
    c.tmf_attributes_json = "[1, 2]"
    with pytest.raises(ValueError, match="must be a JSON object, not list"):
        customer_record(c, NOW)
