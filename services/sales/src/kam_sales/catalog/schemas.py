"""API models of the TMF620 catalogue (产品目录): one create and one read model per entity, sharing the
common attributes; a merge patch is applied to the stored item and validated as a create body."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from kam_platform.api import ApiModel, Resource
from kam_sales.money import Money

Name = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str | None, Field(max_length=4000)]


class Kind(StrEnum):
    CATALOG = "catalog"
    CATEGORY = "category"  # 产品线
    SPECIFICATION = "productSpecification"
    OFFERING = "productOffering"
    PRICE = "productOfferingPrice"  # 资费 / 折扣
    AVAILABILITY = "offeringAvailability"  # a province's availability of a national offering


class LifecycleStatus(StrEnum):
    IN_DESIGN = "inDesign"
    ACTIVE = "active"
    RETIRED = "retired"


# lifecycleStatus → the statuses it may move to (TMF620: inDesign → active → retired)
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "inDesign": ("active", "retired"),
    "active": ("retired",),
    "retired": (),
}


class TimePeriod(ApiModel):
    """``validFor``: effective by day (the dataset's dates); a date-time is taken at its UTC date, and
    ``endDateTime`` is exclusive (absent = open)."""

    start_date_time: Annotated[datetime | date, Field(alias="startDateTime")]
    end_date_time: Annotated[datetime | date | None, Field(alias="endDateTime")] = None

    @property
    def start(self) -> date:
        return _day(self.start_date_time)

    @property
    def end(self) -> date | None:
        return None if self.end_date_time is None else _day(self.end_date_time)

    @model_validator(mode="after")
    def _order(self) -> TimePeriod:
        if self.end is not None and self.end <= self.start:
            raise ValueError("endDateTime must be after startDateTime")
        return self


def _day(v: datetime | date) -> date:
    if isinstance(v, datetime):
        return (v.astimezone(UTC) if v.tzinfo else v).date()
    return v


def period_json(start: date, end: date | None) -> dict[str, str | None]:
    def iso(d: date | None) -> str | None:
        return None if d is None else datetime(d.year, d.month, d.day, tzinfo=UTC).isoformat()

    return {"startDateTime": iso(start), "endDateTime": iso(end)}


class Ref(ApiModel):
    """A reference to another catalogue item (TMF EntityRef): ``id`` is what counts."""

    id: Annotated[str, Field(min_length=1, max_length=64)]
    href: Annotated[str | None, Field(max_length=500)] = None
    name: Annotated[str | None, Field(max_length=200)] = None
    referred_type: Annotated[str | None, Field(alias="@referredType", max_length=64)] = None


Refs = Annotated[list[Ref], Field(max_length=200, default_factory=list)]


class Quantity(ApiModel):
    amount: Annotated[Decimal, Field(gt=0, le=Decimal("1e9"), allow_inf_nan=False)] = Decimal(1)
    units: Annotated[str, Field(min_length=1, max_length=32)]


class CharacteristicValue(ApiModel):
    value: Annotated[str, Field(max_length=200)]
    unit_of_measure: Annotated[str | None, Field(alias="unitOfMeasure", max_length=32)] = None
    is_default: Annotated[bool, Field(alias="isDefault")] = False


class Characteristic(ApiModel):
    name: Name
    description: Text = None
    value_type: Annotated[str, Field(alias="valueType", pattern="^(string|number|integer|boolean)$")] = "string"
    product_spec_characteristic_value: Annotated[
        list[CharacteristicValue], Field(alias="productSpecCharacteristicValue", max_length=100, default_factory=list)
    ]


# --- the kinds' own attributes (stored in the item's body) ---------------------------------------


class CatalogFields(ApiModel):
    catalog_type: Annotated[str | None, Field(alias="catalogType", max_length=64)] = None
    category: Refs


class CategoryFields(ApiModel):
    parent_id: Annotated[str | None, Field(alias="parentId", max_length=64)] = None
    code: Annotated[str | None, Field(max_length=32, description="product line code (产品线编码)")] = None


class SpecificationFields(ApiModel):
    brand: Annotated[str | None, Field(max_length=100)] = None
    product_number: Annotated[str | None, Field(alias="productNumber", max_length=64)] = None
    is_bundle: Annotated[bool, Field(alias="isBundle")] = False
    bundled_product_specification: Annotated[
        list[Ref], Field(alias="bundledProductSpecification", max_length=50, default_factory=list)
    ]
    product_spec_characteristic: Annotated[
        list[Characteristic], Field(alias="productSpecCharacteristic", max_length=100, default_factory=list)
    ]


class OfferingFields(ApiModel):
    is_bundle: Annotated[bool, Field(alias="isBundle")] = False
    is_sellable: Annotated[bool, Field(alias="isSellable")] = True
    category: Refs
    product_specification: Annotated[Ref | None, Field(alias="productSpecification")] = None
    product_offering_price: Annotated[
        list[Ref], Field(alias="productOfferingPrice", max_length=100, default_factory=list)
    ]
    bundled_product_offering: Annotated[
        list[Ref], Field(alias="bundledProductOffering", max_length=50, default_factory=list)
    ]
    available_by_default: Annotated[
        bool,
        Field(
            alias="availableByDefault",
            description="KAM: sellable in every province of the author's subtree unless a province "
            "withdraws it (true), or only where a province makes it available (false)",
        ),
    ] = True

    @model_validator(mode="after")
    def _bundle(self) -> OfferingFields:
        if self.bundled_product_offering and not self.is_bundle:
            raise ValueError("bundledProductOffering is given only for a bundle (isBundle=true)")
        return self


class PriceType(StrEnum):
    RECURRING = "recurring"  # 月租
    ONE_TIME = "oneTime"  # 一次性费用
    USAGE = "usage"  # 用量
    DISCOUNT = "discount"  # 折扣


class PriceFields(ApiModel):
    price_type: Annotated[PriceType, Field(alias="priceType")]
    recurring_charge_period_type: Annotated[
        str | None, Field(alias="recurringChargePeriodType", pattern="^(month|year)$")
    ] = None
    recurring_charge_period_length: Annotated[int | None, Field(alias="recurringChargePeriodLength", ge=1, le=120)] = (
        None
    )
    price: Money | None = None
    percentage: Annotated[Decimal | None, Field(gt=0, le=100, decimal_places=2, allow_inf_nan=False)] = None
    unit_of_measure: Annotated[Quantity | None, Field(alias="unitOfMeasure")] = None

    @model_validator(mode="after")
    def _shape(self) -> PriceFields:
        if self.price_type is PriceType.DISCOUNT:
            if (self.price is None) == (self.percentage is None):
                raise ValueError("a discount gives either price (an amount off) or percentage, not both")
        elif self.price is None:
            raise ValueError(f"price is required for a {self.price_type.value} price")
        elif self.percentage is not None:
            raise ValueError("percentage is only for a discount")
        if self.price_type is PriceType.RECURRING and self.recurring_charge_period_type is None:
            raise ValueError("recurringChargePeriodType is required for a recurring price")
        return self


class AvailabilityFields(ApiModel):
    product_offering: Annotated[Ref, Field(alias="productOffering")]
    is_available: Annotated[bool, Field(alias="isAvailable")]


class Common(ApiModel):
    name: Name
    description: Text = None
    lifecycle_status: Annotated[LifecycleStatus, Field(alias="lifecycleStatus")] = LifecycleStatus.IN_DESIGN
    valid_for: Annotated[TimePeriod, Field(alias="validFor")]

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("name must not be blank")
        return v.strip()


class CatalogCreate(Common, CatalogFields):
    pass


class CategoryCreate(Common, CategoryFields):
    pass


class SpecificationCreate(Common, SpecificationFields):
    pass


class OfferingCreate(Common, OfferingFields):
    pass


class PriceCreate(Common, PriceFields):
    pass


class AvailabilityCreate(Common, AvailabilityFields):
    lifecycle_status: Annotated[LifecycleStatus, Field(alias="lifecycleStatus")] = LifecycleStatus.ACTIVE


class ReadCommon(Resource):
    id: str
    href: str
    type_: Annotated[str, Field(alias="@type")]
    name: str
    description: str | None = None
    lifecycle_status: Annotated[str, Field(alias="lifecycleStatus")]
    valid_for: Annotated[dict[str, str | None], Field(alias="validFor")]
    version: Annotated[str, Field(description="the record's version (bumped on every change)")]
    last_update: Annotated[datetime, Field(alias="lastUpdate")]
    owner_node: Annotated[str, Field(alias="ownerNode", description="KAM: the authoring node")]


class CatalogRead(ReadCommon, CatalogFields):
    pass


class CategoryRead(ReadCommon, CategoryFields):
    is_root: Annotated[bool, Field(alias="isRoot")] = True


class SpecificationRead(ReadCommon, SpecificationFields):
    pass


class OfferingRead(ReadCommon, OfferingFields):
    pass


class PriceRead(ReadCommon, PriceFields):
    pass


class AvailabilityRead(ReadCommon, AvailabilityFields):
    pass


CREATE: dict[Kind, type[Common]] = {
    Kind.CATALOG: CatalogCreate,
    Kind.CATEGORY: CategoryCreate,
    Kind.SPECIFICATION: SpecificationCreate,
    Kind.OFFERING: OfferingCreate,
    Kind.PRICE: PriceCreate,
    Kind.AVAILABILITY: AvailabilityCreate,
}
READ: dict[Kind, type[ReadCommon]] = {
    Kind.CATALOG: CatalogRead,
    Kind.CATEGORY: CategoryRead,
    Kind.SPECIFICATION: SpecificationRead,
    Kind.OFFERING: OfferingRead,
    Kind.PRICE: PriceRead,
    Kind.AVAILABILITY: AvailabilityRead,
}
TYPE_NAME = {
    Kind.CATALOG: "Catalog",
    Kind.CATEGORY: "Category",
    Kind.SPECIFICATION: "ProductSpecification",
    Kind.OFFERING: "ProductOffering",
    Kind.PRICE: "ProductOfferingPrice",
    Kind.AVAILABILITY: "OfferingAvailability",
}
COMMON_KEYS = {"name", "description", "lifecycleStatus", "validFor"}


def body_of(data: Common) -> dict[str, Any]:
    """The kind's own attributes of a validated create body, in API spelling (the stored ``body``)."""
    dumped: dict[str, Any] = data.model_dump(mode="json", by_alias=True, exclude=set(Common.model_fields))
    return dumped
