// Catalogue authoring (TMF620) at the group and a province: one form for a product line (category), a
// product specification and a product offering price — new (POST) or edited (a merge patch of what the
// form shows) — and the lifecycle buttons of any catalogue item (only the moves the API allows, only at
// its author node). A local network reads only: the API refuses it (409), and these are not shown there.
import { Alert, App, Button, Col, DatePicker, Form, Input, InputNumber, Modal, Row, Select, Space } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api } from "../../api/client";
import { applyFieldErrors } from "../../api/errors";
import { useSession } from "../../auth/useSession";
import { nodeInfo } from "../../env";
import { catalogField, catalogFormValues, catalogItemBody, CHARGE_PERIODS, CURRENCIES, lifecycleMoves, parentChoices, PRICE_TYPES, todayUtc, type CatalogFormValues, type CatalogItemLike, type CatalogKind, type Category } from "./deals";

const TMF = "/tmf-api/productCatalogManagement/v4";
/** Each kind's collection and item paths (the lifecycle buttons also move offerings). */
export const CATALOG_PATHS = {
  category: { list: `${TMF}/category`, item: `${TMF}/category/{item_id}` },
  productSpecification: { list: `${TMF}/productSpecification`, item: `${TMF}/productSpecification/{item_id}` },
  productOfferingPrice: { list: `${TMF}/productOfferingPrice`, item: `${TMF}/productOfferingPrice/{item_id}` },
  productOffering: { list: `${TMF}/productOffering`, item: `${TMF}/productOffering/{item_id}` },
} as const;

type Values = Omit<CatalogFormValues, "validFrom" | "validTo"> & { validFor: [Dayjs, Dayjs | null] };
const COMMON = ["name", "description", "lifecycleStatus", "validFor"];
const FIELDS: Record<CatalogKind, string[]> = {
  category: [...COMMON, "parentId", "code"],
  productSpecification: [...COMMON, "brand", "productNumber"],
  productOfferingPrice: [...COMMON, "priceType", "priceUnit", "priceValue", "percentage", "recurringChargePeriodType", "recurringChargePeriodLength", "usageUnits"],
};
const TITLES: Record<CatalogKind, [string, string]> = {
  category: ["salesDeals.newLine", "salesDeals.editLine"],
  productSpecification: ["salesDeals.newSpecification", "salesDeals.editSpecification"],
  productOfferingPrice: ["salesDeals.newPrice", "salesDeals.editPrice"],
};

/** The form of a new or an edited item of `kind`; `onClose` gets the stored item, or null when cancelled.
 * A 422 naming a field is shown at it, anything else above the form. */
export function CatalogItemForm<T extends { id: string } & CatalogItemLike>({ kind, item, categories = [], onClose }: { kind: CatalogKind; item?: T; categories?: Category[]; onClose: (saved: T | null) => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [form] = Form.useForm<Values>();
  const priceType = Form.useWatch("priceType", form);
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const start = item ? catalogFormValues(item) : { validFrom: todayUtc(), validTo: null, lifecycleStatus: "inDesign", priceType: "recurring", priceUnit: "CNY", recurringChargePeriodType: "month" };
  const { validFrom, validTo, ...rest } = start;
  const initial = { ...rest, validFor: [dayjs(validFrom), validTo ? dayjs(validTo) : null] };
  const paths = CATALOG_PATHS[kind];

  const submit = async ({ validFor, ...v }: Values) => {
    setBusy(true);
    setFormError(null);
    const values: CatalogFormValues = { ...v, validFrom: validFor[0].format("YYYY-MM-DD"), validTo: validFor[1] ? validFor[1].format("YYYY-MM-DD") : null };
    try {
      const r = item
        ? await api.patch<T>(paths.item, { path: { item_id: item.id }, body: catalogItemBody(kind, values, true) })
        : await api.post<T>(paths.list, { body: catalogItemBody(kind, values) });
      message.success(t(item ? "salesDeals.saved" : "salesDeals.created"));
      onClose(r.data);
    } catch (e) {
      setFormError(applyFieldErrors(form, e, FIELDS[kind], catalogField));
    } finally {
      setBusy(false);
    }
  };

  const required = (field: string) => [{ required: true, message: t("login.required", { field }) }];
  const [createTitle, editTitle] = TITLES[kind];
  const inForce = !!item && start.lifecycleStatus !== "inDesign"; // an item in force keeps its start
  return (
    <Modal open title={t(item ? editTitle : createTitle)} onCancel={() => onClose(null)} onOk={() => form.submit()} confirmLoading={busy} width={640} destroyOnHidden>
      {formError && <Alert type="error" showIcon message={formError} style={{ marginBottom: 16 }} data-testid="catalog-form-error" />}
      <Form form={form} layout="vertical" onFinish={(v) => void submit(v)} initialValues={initial} data-testid={`${kind}-form`}>
        <Form.Item name="name" label={t("salesDeals.name")} rules={required(t("salesDeals.name"))}>
          <Input maxLength={200} data-testid="catalog-name" />
        </Form.Item>
        {kind === "category" && (
          <Row gutter={16}>
            <Col span={16}>
              <Form.Item name="parentId" label={t("salesDeals.parentLine")}>
                <Select allowClear showSearch optionFilterProp="label" placeholder={t("salesDeals.rootLine")} options={parentChoices(categories, item?.id).map((c) => ({ value: c.id, label: c.name ?? c.id }))} data-testid="catalog-parent" />
              </Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item name="code" label={t("salesDeals.lineCode")}>
                <Input maxLength={32} data-testid="catalog-code" />
              </Form.Item>
            </Col>
          </Row>
        )}
        {kind === "productSpecification" && (
          <Row gutter={16}>
            <Col span={12}>
              <Form.Item name="brand" label={t("salesDeals.brand")}>
                <Input maxLength={100} data-testid="catalog-brand" />
              </Form.Item>
            </Col>
            <Col span={12}>
              <Form.Item name="productNumber" label={t("salesDeals.productNumber")}>
                <Input maxLength={64} data-testid="catalog-productNumber" />
              </Form.Item>
            </Col>
          </Row>
        )}
        {kind === "productOfferingPrice" && (
          <>
            <Row gutter={16}>
              <Col span={8}>
                <Form.Item name="priceType" label={t("salesDeals.priceType")} rules={required(t("salesDeals.priceType"))}>
                  <Select options={PRICE_TYPES.map((p) => ({ value: p, label: t(`salesDeals.priceTypes.${p}`) }))} data-testid="catalog-priceType" />
                </Form.Item>
              </Col>
              <Col span={6}>
                <Form.Item name="priceUnit" label={t("salesDeals.currency")}>
                  <Select options={CURRENCIES.map((u) => ({ value: u, label: u }))} data-testid="catalog-priceUnit" />
                </Form.Item>
              </Col>
              <Col span={10}>
                <Form.Item name="priceValue" label={t("salesDeals.price")} rules={priceType === "discount" ? [] : required(t("salesDeals.price"))} extra={priceType === "discount" ? t("salesDeals.discountHint") : undefined}>
                  <Input placeholder="800.00" data-testid="catalog-priceValue" />
                </Form.Item>
              </Col>
            </Row>
            <Row gutter={16}>
              {priceType === "recurring" && (
                <>
                  <Col span={8}>
                    <Form.Item name="recurringChargePeriodType" label={t("salesDeals.period")} rules={required(t("salesDeals.period"))}>
                      <Select options={CHARGE_PERIODS.map((p) => ({ value: p, label: t(`salesDeals.periods.${p}`) }))} data-testid="catalog-period" />
                    </Form.Item>
                  </Col>
                  <Col span={8}>
                    <Form.Item name="recurringChargePeriodLength" label={t("salesDeals.periodLength")}>
                      <InputNumber min={1} max={120} precision={0} style={{ width: "100%" }} />
                    </Form.Item>
                  </Col>
                </>
              )}
              {priceType === "discount" && (
                <Col span={8}>
                  <Form.Item name="percentage" label={t("salesDeals.percentage")}>
                    <Input suffix="%" data-testid="catalog-percentage" />
                  </Form.Item>
                </Col>
              )}
              {priceType === "usage" && (
                <Col span={8}>
                  <Form.Item name="usageUnits" label={t("salesDeals.usageUnits")}>
                    <Input maxLength={32} placeholder="GB" />
                  </Form.Item>
                </Col>
              )}
            </Row>
          </>
        )}
        <Row gutter={16}>
          {!item && (
            <Col span={8}>
              <Form.Item name="lifecycleStatus" label={t("salesDeals.lifecycleStatus")}>
                <Select options={["inDesign", "active"].map((x) => ({ value: x, label: t(`salesDeals.lifecycle.${x}`) }))} data-testid="catalog-lifecycle" />
              </Form.Item>
            </Col>
          )}
          <Col span={16}>
            <Form.Item name="validFor" label={t("salesDeals.validFor")} rules={[{ required: true }]} extra={inForce ? t("salesDeals.startKept") : undefined}>
              <DatePicker.RangePicker allowEmpty={[false, true]} disabled={[inForce, false]} style={{ width: "100%" }} data-testid="catalog-validFor" />
            </Form.Item>
          </Col>
        </Row>
        <Form.Item name="description" label={t("salesDeals.description")}>
          <Input.TextArea rows={2} maxLength={4000} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

/** The lifecycle moves of a catalogue item this node authors (lifecycleMoves), each a merge patch of
 * lifecycleStatus; `onMoved` gets the stored item. A 409 (moved meanwhile) is shown as a message. */
export function LifecycleButtons<T extends { id: string; lifecycleStatus?: string; ownerNode?: string }>({ kind, item, onMoved, size }: { kind: keyof typeof CATALOG_PATHS; item: T; onMoved: (item: T) => void; size?: "small" }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const session = useSession();
  const here = nodeInfo();
  const [moving, setMoving] = useState(false);
  const moves = lifecycleMoves(item, here?.tier, here?.code, session?.claims);
  const move = async (lifecycleStatus: string) => {
    setMoving(true);
    try {
      const r = await api.patch<T>(CATALOG_PATHS[kind].item, { path: { item_id: item.id }, body: { lifecycleStatus } });
      message.success(t("salesDeals.lifecycleMoved", { status: t(`salesDeals.lifecycle.${lifecycleStatus}`) }));
      onMoved(r.data);
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    } finally {
      setMoving(false);
    }
  };
  if (moves.length === 0) return null;
  return (
    <Space size="small">
      {moves.map((m) => (
        <Button key={m} size={size} danger={m === "retired"} loading={moving} onClick={() => void move(m)} data-testid={`lifecycle-${m}`}>
          {t("salesDeals.moveLifecycle", { status: t(`salesDeals.lifecycle.${m}`) })}
        </Button>
      ))}
    </Space>
  );
}
