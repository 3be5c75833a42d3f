import { Alert, App, Button, Card, Col, Form, Input, Row, Select, Space } from "antd";
import { useCallback, useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useSearchParams } from "react-router";
import { api } from "../../api/client";
import { applyFieldErrors } from "../../api/errors";
import type { Customer } from "../../api/types";
import { CHANNELS, PRIORITIES, TICKET_TYPES, type Ticket } from "./logic";
import { TICKETS } from "./TicketList";

interface Values {
  name: string;
  description?: string;
  ticketType: string;
  channel: string;
  priority: string;
  customer: string;
  affectedService?: string;
}

const FIELDS = new Set(["name", "description", "ticketType", "channel", "priority", "customer", "affectedService"]);

/** The form field a server error names (relatedParty is the customer picker). */
export function ticketField(field: string): string {
  return field === "relatedParty" ? "customer" : field;
}

export default function TicketCreate() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const [form] = Form.useForm<Values>();
  const [customers, setCustomers] = useState<Customer[]>([]);
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const searchSeq = useRef(0);

  const searchCustomers = useCallback((q: string) => {
    const seq = ++searchSeq.current;
    api
      .get<Customer[]>("/tmf-api/customerManagement/v4/customer", { query: { q: q.trim() || undefined, limit: 20, sort: "name" } })
      .then((r) => {
        if (seq !== searchSeq.current) return;
        // the picked customer stays among the options (its label), whatever the search found
        setCustomers((prev) => {
          const picked = prev.find((c) => c.id === form.getFieldValue("customer"));
          return picked && !r.data.some((c) => c.id === picked.id) ? [picked, ...r.data] : r.data;
        });
      })
      .catch(() => undefined);
  }, [form]);
  useEffect(() => searchCustomers(""), [searchCustomers]);
  // /service/tickets/new?customer=<id> (the customer's 360 view): that customer picked
  const [params] = useSearchParams();
  const preset = params.get("customer");
  useEffect(() => {
    if (!preset) return;
    let live = true;
    api
      .get<Customer>("/tmf-api/customerManagement/v4/customer/{customer_id}", { path: { customer_id: preset } })
      .then((r) => {
        if (!live) return;
        setCustomers((list) => [r.data, ...list.filter((c) => c.id !== r.data.id)]);
        form.setFieldsValue({ customer: r.data.id });
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [preset, form]);

  async function submit(v: Values) {
    setBusy(true);
    setFormError(null);
    const customer = customers.find((c) => c.id === v.customer);
    try {
      const { data } = await api.post<Ticket>(TICKETS, {
        body: {
          name: v.name,
          description: v.description ?? "",
          ticketType: v.ticketType,
          channel: v.channel,
          priority: v.priority,
          relatedParty: [{ id: v.customer, role: "customer", name: customer?.name }],
          affectedService: v.affectedService || undefined,
        },
      });
      message.success(t("common.created"));
      navigate(`/service/tickets/${data.id}`);
    } catch (e) {
      setFormError(applyFieldErrors(form, e, FIELDS, ticketField));
    } finally {
      setBusy(false);
    }
  }

  const req = (field: string) => [{ required: true, message: t("login.required", { field }) }];
  const options = (group: string, values: readonly string[]) => values.map((v) => ({ value: v, label: t(`service.${group}.${v}`) }));
  return (
    <Card title={t("service.newTicket")} data-testid="ticket-form">
      {formError && <Alert type="error" showIcon message={formError} style={{ marginBottom: 16 }} data-testid="form-error" />}
      <Form form={form} layout="vertical" onFinish={submit} initialValues={{ priority: "MEDIUM", channel: "ACCOUNT_MANAGER", ticketType: "FAULT" }}>
        <Row gutter={16}>
          <Col span={16}>
            <Form.Item name="name" label={t("service.name")} rules={req(t("service.name"))}>
              <Input data-testid="field-name" maxLength={200} />
            </Form.Item>
          </Col>
          <Col span={8}>
            <Form.Item name="customer" label={t("service.customer")} rules={req(t("service.customer"))}>
              <Select
                showSearch
                filterOption={false}
                onSearch={searchCustomers}
                placeholder={t("service.pickCustomer")}
                options={customers.map((c) => ({ value: c.id, label: `${c.name} · ${c.customerCode} · ${c.grade}` }))}
                data-testid="field-customer"
              />
            </Form.Item>
          </Col>
          <Col span={6}>
            <Form.Item name="ticketType" label={t("service.ticketType")} rules={req(t("service.ticketType"))}>
              <Select options={options("types", TICKET_TYPES)} data-testid="field-ticketType" />
            </Form.Item>
          </Col>
          <Col span={6}>
            <Form.Item name="channel" label={t("service.channel")} rules={req(t("service.channel"))}>
              <Select options={options("channels", CHANNELS)} data-testid="field-channel" />
            </Form.Item>
          </Col>
          <Col span={6}>
            <Form.Item name="priority" label={t("service.priority")}>
              <Select options={options("priorities", PRIORITIES)} data-testid="field-priority" />
            </Form.Item>
          </Col>
          <Col span={6}>
            <Form.Item name="affectedService" label={t("service.affectedService")}>
              <Input maxLength={64} data-testid="field-affectedService" />
            </Form.Item>
          </Col>
          <Col span={24}>
            <Form.Item name="description" label={t("service.description")}>
              <Input.TextArea rows={4} maxLength={4000} />
            </Form.Item>
          </Col>
        </Row>
        <Space>
          <Button type="primary" htmlType="submit" loading={busy} data-testid="ticket-save">
            {t("common.save")}
          </Button>
          <Button onClick={() => navigate(-1)}>{t("common.cancel")}</Button>
        </Space>
      </Form>
    </Card>
  );
}
