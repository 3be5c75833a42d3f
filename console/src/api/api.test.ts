import { describe, expect, it } from "vitest";
import { buildUrl } from "./client";
import { ApiError, applyFieldErrors, fieldErrors } from "./errors";
import { formatTotal } from "./useTmfList";

describe("buildUrl", () => {
  it("fills path parameters and leaves out empty query values", () => {
    expect(buildUrl("/api/v1/customer/customers/{customer_id}/history", { customer_id: "a/b" }, { limit: 10, q: "", x: undefined })).toBe(
      "/api/v1/customer/customers/a%2Fb/history?limit=10",
    );
    expect(buildUrl("/tmf-api/customerManagement/v4/customer", {}, { q: "广州 银行", grade: "A,B" })).toBe(
      "/tmf-api/customerManagement/v4/customer?q=%E5%B9%BF%E5%B7%9E+%E9%93%B6%E8%A1%8C&grade=A%2CB",
    );
    expect(() => buildUrl("/x/{id}", {})).toThrow(/id/);
  });
});

describe("the error envelope at the field", () => {
  it("maps details.errors[] to form fields", () => {
    const body = {
      code: "VALIDATION_ERROR",
      message: "creditCode: invalid; name: too long",
      details: { field: "creditCode", errors: [{ field: "creditCode", message: "invalid check digit" }, { field: "body.name", message: "too long" }, { field: "relatedParty.0.id", message: "missing" }] },
    };
    expect(fieldErrors(body)).toEqual({ creditCode: "invalid check digit", name: "too long", relatedParty: "missing" });
  });
  it("falls back to details.field with the message", () => {
    const e = new ApiError(422, { message: "customerCode must be in this node's namespace", details: { field: "customerCode" } }, "422");
    expect(e.fieldErrors()).toEqual({ customerCode: "customerCode must be in this node's namespace" });
    expect(e.message).toBe("customerCode must be in this node's namespace");
  });
  it("has no field errors without details", () => {
    expect(fieldErrors({ message: "conflict" })).toEqual({});
    expect(fieldErrors(null)).toEqual({});
  });
});

describe("applyFieldErrors", () => {
  const error = new ApiError(422, { code: "VALIDATION_ERROR", message: "2 fields are invalid", details: { errors: [{ field: "body.name", message: "required" }, { field: "validFor", message: "start after end" }] } }, "422");
  it("puts the form's fields at the field and leaves nothing above the form", () => {
    const set: { name: string; errors: string[] }[][] = [];
    expect(applyFieldErrors({ setFields: (f) => set.push(f as never) }, error, ["name", "startDate"], (f) => (f === "validFor" ? "startDate" : f))).toBeNull();
    expect(set[0]).toEqual([
      { name: "name", errors: ["required"] },
      { name: "startDate", errors: ["start after end"] },
    ]);
  });
  it("returns the message when no field of the form is named, and any other error's text", () => {
    expect(applyFieldErrors({ setFields: () => undefined }, error, ["grade"])).toBe("2 fields are invalid");
    expect(applyFieldErrors({ setFields: () => undefined }, error, ["name"])).toBe("2 fields are invalid"); // validFor has no field here
    expect(applyFieldErrors({ setFields: () => undefined }, new Error("network down"), null)).toBe("network down");
  });
});

describe("formatTotal", () => {
  it("marks a lower bound", () => {
    expect(formatTotal(10000, true)).toBe("10,000+");
    expect(formatTotal(312, false)).toBe("312");
  });
});
