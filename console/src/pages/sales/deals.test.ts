import { describe, expect, it } from "vitest";
import type { Claims } from "../../auth/session";
import {
  addDays,
  agreementActions,
  canAuthorAvailability,
  canAuthorCatalog,
  canEditCatalogItem,
  catalogField,
  catalogFormValues,
  catalogItemBody,
  parentChoices,
  categoryTree,
  lifecycleMoves,
  offeringField,
  draftLines,
  formLines,
  quoteFieldPath,
  quoteItems,
  rawFieldErrors,
  daysLeft,
  expiringQuery,
  formatValidFor,
  fromCents,
  listPrice,
  needsApproval,
  ownAvailability,
  quoteActions,
  quoteTotals,
  renewalPeriod,
  toCents,
  type Availability,
  type Category,
  type Price,
} from "./deals";

const claims = (sub: string, perms: string[]): Claims => ({ sub, node: "gd-gz", scope_node: "gd-gz", roles: [], perms, exp: 4102444800 });
const cny = (value: string) => ({ unit: "CNY", value });

describe("quote totals", () => {
  it("computes lines, subtotal and total to the cent in integer cents", () => {
    const t = quoteTotals([
      { offeringId: "a", quantity: 3, unitPrice: cny("0.10"), discountPercent: "0" },
      { offeringId: "b", quantity: 2, unitPrice: cny("2000.50"), discountPercent: "12.5" },
    ]);
    expect(t.lines).toEqual([
      { gross: "0.30", amount: "0.30" }, // 0.1 × 3 is 0.30000000000000004 in floats
      { gross: "4001.00", amount: "3500.88" }, // 4001 × 0.875 = 3500.875 → 3500.88
    ]);
    expect(t.subtotal).toBe("4001.30");
    expect(t.total).toBe("3501.18");
    expect(t.discount).toBe("500.12");
    expect(t.maxDiscountPercent).toBe("12.5");
    expect(t.currency).toBe("CNY");
    expect(t.mixedCurrencies).toBe(false);
  });

  it("counts an incomplete or invalid line as nothing and flags several currencies", () => {
    const t = quoteTotals([
      { offeringId: "a", quantity: 1, unitPrice: cny("100") },
      { offeringId: "b", quantity: 0, unitPrice: cny("5") },
      { offeringId: "c", quantity: 1, unitPrice: cny("1.234") },
      { offeringId: "d", quantity: 1, unitPrice: cny("5"), discountPercent: "101" },
      { offeringId: "e", quantity: 1, unitPrice: null },
      { offeringId: "f", quantity: 2, unitPrice: { unit: "USD", value: 1 } },
    ]);
    expect(t.lines.map((l) => l?.amount ?? null)).toEqual(["100.00", null, null, null, null, "2.00"]);
    expect(t.subtotal).toBe("102.00");
    expect(t.maxDiscountPercent).toBe("0");
    expect(t.mixedCurrencies).toBe(true);
  });

  it("rounds an exact half-cent to the even cent, as the server's Decimal.quantize", () => {
    const half = (price: string, discount: string) => quoteTotals([{ quantity: 1, unitPrice: cny(price), discountPercent: discount }]).total;
    expect(half("0.25", "50")).toBe("0.12"); // 0.125 → 0.12
    expect(half("0.35", "50")).toBe("0.18"); // 0.175 → 0.18
    expect(half("0.33", "50")).toBe("0.16"); // 0.165 → 0.16
  });

  it("parses and prints cents", () => {
    expect(toCents("12.5")).toBe(1250n);
    expect(toCents(7)).toBe(700n);
    expect(toCents("1e3")).toBeNull();
    expect(fromCents(5n)).toBe("0.05");
    expect(fromCents(-150n)).toBe("-1.50");
  });

  it("needs approval only above the threshold", () => {
    expect(needsApproval("10", "10")).toBe(false);
    expect(needsApproval("10.01", "10")).toBe(true);
  });
});

describe("quote actions", () => {
  const q = { state: "inProgress", ownerNode: "gd-gz", createdBy: "zhang", accountManager: "zhang" };
  const writer = claims("zhang", ["sales.quote:write"]);
  const manager = claims("li", ["sales.quote:approve"]);

  it("offers editing and submission only in progress, at the owner node", () => {
    expect(quoteActions(q, writer, "gd-gz")).toEqual(["edit", "submit", "revise", "cancel"]);
    expect(quoteActions(q, writer, "gd")).toEqual([]); // a replica reads
    expect(quoteActions({ ...q, state: "approved" }, writer, "gd-gz")).toEqual(["accept", "revise", "cancel"]);
    expect(quoteActions({ ...q, state: "superseded" }, writer, "gd-gz")).toEqual([]);
  });

  it("offers approval to an approver who is neither the author nor the account manager", () => {
    expect(quoteActions({ ...q, state: "pending" }, manager, "gd-gz")).toEqual(["approve", "reject"]);
    expect(quoteActions({ ...q, state: "pending" }, claims("zhang", ["sales.quote:approve", "sales.quote:write"]), "gd-gz")).toEqual(["revise", "cancel"]);
    expect(quoteActions({ ...q, state: "pending" }, writer, "gd-gz")).toEqual(["revise", "cancel"]);
    expect(quoteActions({ ...q, state: "inProgress" }, manager, "gd-gz")).toEqual([]);
  });
});

describe("contracts", () => {
  it("counts the days left to an exclusive end day", () => {
    expect(daysLeft("2027-01-31", "2027-01-01")).toBe(30);
    expect(daysLeft("2027-01-01T00:00:00Z", "2027-01-01")).toBe(0);
    expect(daysLeft("2026-12-25", "2027-01-01")).toBe(-7);
    expect(daysLeft(null, "2027-01-01")).toBeNull();
    expect(addDays("2028-02-28", 1)).toBe("2028-02-29");
  });

  it("queries signed contracts ending in the next 90 days, soonest first", () => {
    expect(expiringQuery("2027-01-01")).toEqual({
      status: "signed",
      "agreementPeriod.endDateTime.gte": "2027-01-01",
      "agreementPeriod.endDateTime.lte": "2027-04-01",
      sort: "agreementPeriod.endDateTime",
    });
  });

  it("proposes a renewal period as long as the current one, from its end", () => {
    expect(renewalPeriod({ startDateTime: "2026-01-01", endDateTime: "2027-01-01" })).toEqual({ startDateTime: "2027-01-01", endDateTime: "2028-01-01" });
    expect(renewalPeriod(undefined)).toBeNull();
  });

  it("offers renewal once, for a signed contract, at its owner with write", () => {
    const w = claims("zhang", ["sales.agreement:write"]);
    expect(agreementActions({ status: "signed", renewalStatus: "none", ownerNode: "gd-gz" }, w, "gd-gz")).toEqual(["renew", "notRenewed", "terminate"]);
    expect(agreementActions({ status: "signed", renewalStatus: "renewed", ownerNode: "gd-gz" }, w, "gd-gz")).toEqual(["terminate"]);
    expect(agreementActions({ status: "inProgress", renewalStatus: "none", ownerNode: "gd-gz" }, w, "gd-gz")).toEqual(["sign", "cancel"]);
    expect(agreementActions({ status: "signed", renewalStatus: "none", ownerNode: "gd-gz" }, w, "gd")).toEqual([]);
    expect(agreementActions({ status: "signed", renewalStatus: "none", ownerNode: "gd-gz" }, claims("r", ["sales.agreement:read"]), "gd-gz")).toEqual([]);
  });
});

describe("catalogue", () => {
  const cat = (id: string, name: string, parentId?: string): Category => ({ "@type": "Category", href: "", id, name, parentId, isRoot: !parentId });

  it("builds the product-line tree by parentId, an orphan at the root", () => {
    const tree = categoryTree([cat("b", "数据电路"), cat("c", "DDN", "b"), cat("a", "互联网专线"), cat("d", "孤儿", "gone")]);
    expect(tree.find((n) => n.key === "b")?.children.map((n) => n.key)).toEqual(["c"]);
    expect(tree.map((n) => n.key).sort()).toEqual(["a", "b", "d"]);
  });

  it("takes a quote line's list price from the recurring tariff first, never from a discount", () => {
    const p = (priceType: Price["priceType"], value: string | null): Price => ({ "@type": "ProductOfferingPrice", href: "", id: priceType ?? "x", priceType, price: value ? cny(value) : null, percentage: value ? null : "10" });
    expect(listPrice([p("discount", null), p("oneTime", "2000.00"), p("recurring", "800.00")])).toEqual(cny("800.00"));
    expect(listPrice([p("discount", null), p("usage", "0.05")])).toEqual(cny("0.05"));
    expect(listPrice([p("discount", null)])).toBeNull();
  });

  it("shows validFor by day", () => {
    expect(formatValidFor({ startDateTime: "2026-01-01T00:00:00Z", endDateTime: null })).toBe("2026-01-01 – …");
  });

  it("lets only a province with write author availability, and finds its own item", () => {
    const w = claims("a", ["sales.catalog:write"]);
    expect(canAuthorAvailability("province", w)).toBe(true);
    expect(canAuthorAvailability("local", w)).toBe(false);
    expect(canAuthorAvailability("group", w)).toBe(false);
    expect(canAuthorAvailability("province", claims("a", ["sales.catalog:read"]))).toBe(false);
    const a = (id: string, ownerNode: string, lastUpdate: string): Availability => ({ "@type": "OfferingAvailability", href: "", id, ownerNode, lastUpdate });
    expect(ownAvailability([a("1", "gd", "2026-01-01"), a("2", "gd", "2026-02-01"), a("3", "hq", "2026-03-01")], "gd")?.id).toBe("2");
    expect(ownAvailability([a("3", "hq", "2026-03-01")], "gd")).toBeNull();
  });
});

describe("quote form", () => {
  it("maps a server error to the line and field it names", () => {
    expect(quoteFieldPath("quoteItem[1].productOffering.id")).toEqual(["quoteItem", 1, "offeringId"]);
    expect(quoteFieldPath("body.quoteItem.0.quantity")).toEqual(["quoteItem", 0, "quantity"]);
    expect(quoteFieldPath("quoteItem[2].unitPrice.unit")).toEqual(["quoteItem", 2, "unitPrice"]);
    expect(quoteFieldPath("quoteItem[0].discountPercent")).toEqual(["quoteItem", 0, "discountPercent"]);
    expect(quoteFieldPath("customer.id")).toEqual(["customer"]);
    expect(quoteFieldPath("body.quoteItem")).toBeNull();
    expect(quoteFieldPath("state")).toBeNull();
  });

  it("reads the error body's field errors with their raw names", () => {
    expect(rawFieldErrors({ message: "m", details: { field: "quoteItem[0].productOffering.id" } })).toEqual([{ field: "quoteItem[0].productOffering.id", message: "m" }]);
    expect(rawFieldErrors({ details: { errors: [{ field: "body.name", message: "x" }], field: "body.name" } })).toEqual([{ field: "body.name", message: "x" }]);
    expect(rawFieldErrors(null)).toEqual([]);
  });

  it("turns form lines into the request's quoteItem and back", () => {
    const lines = [{ offeringId: "o1", quantity: 2, unitPrice: "800.00", unit: "CNY", discountPercent: 5 }];
    expect(quoteItems(lines)).toEqual([{ productOffering: { id: "o1" }, quantity: 2, unitPrice: { unit: "CNY", value: "800.00" }, discountPercent: "5" }]);
    expect(quoteTotals(draftLines(lines)).total).toBe("1520.00");
    const saved = formLines([{ id: "i", productOffering: { id: "o1" }, quantity: 2, unitPrice: cny("800.00"), discountPercent: "5", amount: cny("1520.00"), note: null }]);
    expect(saved[0]).toMatchObject({ offeringId: "o1", quantity: 2, unitPrice: "800.00", unit: "CNY", discountPercent: "5" });
  });
});

describe("catalogue authoring", () => {
  const w = claims("a", ["sales.catalog:write"]);
  it("lets the group and provinces author, not a local network", () => {
    expect(canAuthorCatalog("group", w)).toBe(true);
    expect(canAuthorCatalog("province", w)).toBe(true);
    expect(canAuthorCatalog("local", w)).toBe(false);
    expect(canAuthorCatalog("group", claims("a", []))).toBe(false);
  });

  it("offers the lifecycle moves to the author only, none once retired", () => {
    expect(lifecycleMoves({ lifecycleStatus: "inDesign", ownerNode: "hq" }, "group", "hq", w)).toEqual(["active", "retired"]);
    expect(lifecycleMoves({ lifecycleStatus: "active", ownerNode: "hq" }, "group", "hq", w)).toEqual(["retired"]);
    expect(lifecycleMoves({ lifecycleStatus: "retired", ownerNode: "hq" }, "group", "hq", w)).toEqual([]);
    expect(lifecycleMoves({ lifecycleStatus: "active", ownerNode: "hq" }, "province", "gd", w)).toEqual([]); // not the author
  });

  it("names the form field of a server error", () => {
    expect(offeringField("category[0].id")).toBe("category");
    expect(offeringField("body.productOfferingPrice.1.id")).toBe("productOfferingPrice");
    expect(offeringField("productSpecification.id")).toBe("productSpecification");
    expect(offeringField("validFor.startDateTime")).toBe("validFor");
    expect(offeringField("body.name")).toBe("name");
  });
});

describe("catalogue item forms", () => {
  const w = claims("a", ["sales.catalog:write"]);
  const common = { name: " 专线 100M 月租 ", description: "", validFrom: "2027-01-01", validTo: null };

  it("makes a price's create body by its type: money for a tariff, a percentage or an amount for a discount", () => {
    const recurring = catalogItemBody("productOfferingPrice", { ...common, priceType: "recurring", priceUnit: "CNY", priceValue: "800.00", recurringChargePeriodType: "month", percentage: "5" });
    expect(recurring).toEqual({
      name: "专线 100M 月租",
      validFor: { startDateTime: "2027-01-01" },
      lifecycleStatus: "inDesign",
      priceType: "recurring",
      price: { unit: "CNY", value: "800.00" },
      recurringChargePeriodType: "month",
    });
    const byPercent = catalogItemBody("productOfferingPrice", { ...common, priceType: "discount", priceValue: "100", percentage: "12.5", recurringChargePeriodType: "month" });
    expect(byPercent).toMatchObject({ priceType: "discount", percentage: "12.5" });
    expect(byPercent).not.toHaveProperty("price");
    expect(byPercent).not.toHaveProperty("recurringChargePeriodType");
    const amountOff = catalogItemBody("productOfferingPrice", { ...common, priceType: "discount", priceUnit: "CNY", priceValue: "100.00", percentage: "" });
    expect(amountOff).toMatchObject({ price: { unit: "CNY", value: "100.00" } });
    expect(amountOff).not.toHaveProperty("percentage");
    expect(catalogItemBody("productOfferingPrice", { ...common, priceType: "usage", priceValue: "0.05", usageUnits: "GB" })).toMatchObject({ unitOfMeasure: { amount: 1, units: "GB" } });
  });

  it("makes a merge patch that clears what the form left empty and what the price type does not take", () => {
    const patch = catalogItemBody("productOfferingPrice", { ...common, validTo: "2028-01-01", priceType: "discount", percentage: "10", priceValue: null }, true);
    expect(patch).toEqual({
      name: "专线 100M 月租",
      description: null,
      validFor: { startDateTime: "2027-01-01", endDateTime: "2028-01-01" },
      priceType: "discount",
      price: null,
      percentage: "10",
      recurringChargePeriodType: null,
      recurringChargePeriodLength: null,
      unitOfMeasure: null,
    });
    expect(patch).not.toHaveProperty("lifecycleStatus"); // the lifecycle moves by its own patch
    expect(catalogItemBody("category", { ...common, parentId: "p1", code: " " }, true)).toMatchObject({ parentId: "p1", code: null });
    expect(catalogItemBody("productSpecification", { ...common, brand: "天翼", productNumber: "" })).toMatchObject({ brand: "天翼" });
    expect(catalogItemBody("productSpecification", { ...common, brand: "天翼", productNumber: "" })).not.toHaveProperty("productNumber");
  });

  it("reads a stored item back into the form's values", () => {
    const v = catalogFormValues({ name: "n", validFor: { startDateTime: "2027-01-01T00:00:00+00:00", endDateTime: null }, priceType: "recurring", price: { unit: "USD", value: "9.90" }, recurringChargePeriodType: "year" });
    expect(v).toMatchObject({ name: "n", validFrom: "2027-01-01", validTo: null, priceType: "recurring", priceUnit: "USD", priceValue: "9.90", recurringChargePeriodType: "year", percentage: null });
    const round = catalogItemBody("productOfferingPrice", v);
    expect(round).toMatchObject({ price: { unit: "USD", value: "9.90" }, recurringChargePeriodType: "year", validFor: { startDateTime: "2027-01-01" } });
  });

  it("names the form field of a server error of a price", () => {
    expect(catalogField("price")).toBe("priceValue");
    expect(catalogField("body.unitOfMeasure")).toBe("usageUnits");
    expect(catalogField("validFor")).toBe("validFor");
    expect(catalogField("parentId")).toBe("parentId");
  });

  it("lets the author node edit an item until it is retired, nowhere else", () => {
    expect(canEditCatalogItem({ lifecycleStatus: "active", ownerNode: "gd" }, "province", "gd", w)).toBe(true);
    expect(canEditCatalogItem({ lifecycleStatus: "retired", ownerNode: "gd" }, "province", "gd", w)).toBe(false);
    expect(canEditCatalogItem({ lifecycleStatus: "active", ownerNode: "hq" }, "province", "gd", w)).toBe(false);
    expect(canEditCatalogItem({ lifecycleStatus: "inDesign", ownerNode: "gd-gz" }, "local", "gd-gz", w)).toBe(false);
  });

  it("offers as a line's parent no line below it (no cycle) and no retired one", () => {
    const c = (id: string, parentId?: string, lifecycleStatus = "active"): Category => ({ "@type": "Category", href: "", id, name: id, parentId, lifecycleStatus, isRoot: !parentId });
    const all = [c("a"), c("b", "a"), c("c", "b"), c("d"), c("e", undefined, "retired")];
    expect(parentChoices(all, "a").map((x) => x.id)).toEqual(["d"]);
    expect(parentChoices(all, "b").map((x) => x.id)).toEqual(["a", "d"]);
    expect(parentChoices(all, undefined).map((x) => x.id)).toEqual(["a", "b", "c", "d"]);
  });
});
