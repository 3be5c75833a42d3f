import { Alert, App, Button, Card, Col, Form, Input, Row, Select, Space } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { api } from "../../api/client";
import { applyFieldErrors } from "../../api/errors";
import type { Customer } from "../../api/types";
import { enumOptions, type ENUMS } from "../../components/labels";

const CUSTOMER = "/tmf-api/customerManagement/v4/customer";
const ITEM = "/tmf-api/customerManagement/v4/customer/{customer_id}";

const TEXT_FIELDS = ["name", "shortName", "creditCode", "address", "enterpriseScale", "statusReason", "description"] as const;
const ENUM_FIELDS: (keyof typeof ENUMS)[] = ["customerType", "nature", "mgmtLevel", "industry", "valueType", "grade", "status", "recognitionStatus"];
const REQUIRED = new Set(["name", "industry"]);

type Values = Record<string, string | undefined>;

/** The merge patch from `before` to `values`: changed keys only; a cleared optional field is null. */
export function mergePatch(before: Partial<Customer>, values: Values): Record<string, string | null> {
  const patch: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(values)) {
    const old = (before as Record<string, unknown>)[k] ?? null;
    const next = v === undefined || v === "" ? null : v;
    if (old !== next) patch[k] = next;
  }
  return patch;
}

export default function CustomerForm({ customer }: { customer?: Customer }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const [form] = Form.useForm<Values>();
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const editing = customer !== undefined;

  const initial: Values = editing
    ? Object.fromEntries([...TEXT_FIELDS, ...ENUM_FIELDS].map((k) => [k, ((customer as unknown as Record<string, string | null>)[k] ?? undefined) || undefined]))
    : { customerType: "SINGLE", mgmtLevel: "LOCAL", grade: "C", status: "PROSPECT", recognitionStatus: "CANDIDATE" };

  async function submit(values: Values) {
    setBusy(true);
    setFormError(null);
    try {
      if (editing) {
        const patch = mergePatch(customer, values);
        if (Object.keys(patch).length) await api.patch<Customer>(ITEM, { path: { customer_id: customer.id }, body: patch });
        message.success(t("common.saved"));
        navigate(`/customers/${customer.id}`);
      } else {
        const body = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== ""));
        const { data } = await api.post<Customer>(CUSTOMER, { body });
        message.success(t("common.created"));
        navigate(`/customers/${data.id}`);
      }
    } catch (e) {
      setFormError(applyFieldErrors(form, e, [...TEXT_FIELDS, ...ENUM_FIELDS, "customerCode"]));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card title={editing ? `${t("customer.edit")} · ${customer.name}` : t("customer.create")} data-testid="customer-form">
      {formError && <Alert type="error" showIcon message={formError} style={{ marginBottom: 16 }} data-testid="form-error" />}
      <Form form={form} layout="vertical" initialValues={initial} onFinish={submit}>
        <Row gutter={16}>
          {!editing && (
            <Col span={8}>
              <Form.Item name="customerCode" label={t("customer.customerCode")}>
                <Input />
              </Form.Item>
            </Col>
          )}
          {TEXT_FIELDS.filter((k) => k !== "description").map((k) => (
            <Col span={8} key={k}>
              <Form.Item name={k} label={t(`customer.${k}`)} rules={REQUIRED.has(k) ? [{ required: true, message: t("login.required", { field: t(`customer.${k}`) }) }] : []}>
                <Input data-testid={`field-${k}`} />
              </Form.Item>
            </Col>
          ))}
          {ENUM_FIELDS.map((k) => (
            <Col span={8} key={k}>
              <Form.Item name={k} label={t(`customer.${k}`)} rules={REQUIRED.has(k) ? [{ required: true, message: t("login.required", { field: t(`customer.${k}`) }) }] : []}>
                <Select allowClear={!REQUIRED.has(k)} options={enumOptions(t, k)} data-testid={`field-${k}`} />
              </Form.Item>
            </Col>
          ))}
          <Col span={24}>
            <Form.Item name="description" label={t("customer.description")}>
              <Input.TextArea rows={3} />
            </Form.Item>
          </Col>
        </Row>
        <Space>
          <Button type="primary" htmlType="submit" loading={busy} data-testid="customer-save">
            {t("common.save")}
          </Button>
          <Button onClick={() => navigate(-1)}>{t("common.cancel")}</Button>
        </Space>
      </Form>
    </Card>
  );
}
