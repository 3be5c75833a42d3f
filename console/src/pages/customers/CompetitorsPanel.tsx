import { DeleteOutlined, EditOutlined, PlusOutlined } from "@ant-design/icons";
import { Alert, App, Button, Card, DatePicker, Form, Input, Modal, Popconfirm, Space, Table, Tag } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api } from "../../api/client";
import { applyFieldErrors } from "../../api/errors";
import { splitProducts, type CompetitorPresence } from "./f1";
import { useFetch } from "./useFetch";

const PER_CUSTOMER = "/api/v1/customer/customers/{customer_id}/competitors";
const ITEM = "/api/v1/customer/competitors/{presence_id}";
const FIELDS = ["competitor", "productsHeld", "offers", "contractEnd", "source", "observedOn", "note"] as const;

interface Values {
  competitor?: string;
  productsHeld?: string;
  offers?: string;
  contractEnd?: Dayjs | null;
  source?: string;
  observedOn?: Dayjs | null;
  note?: string;
}

const day = (d: Dayjs | null | undefined) => (d ? d.format("YYYY-MM-DD") : null);
const text = (s: string | undefined) => (s && s.trim() ? s.trim() : null);

/** 竞争信息: who else serves this customer, with what, until when; add / edit / remove at the owner. */
export default function CompetitorsPanel({ customerId, canEdit }: { customerId: string; canEdit: boolean }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [form] = Form.useForm<Values>();
  const [editing, setEditing] = useState<CompetitorPresence | "new" | null>(null);
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const list = useFetch(
    async (signal) => (await api.get<CompetitorPresence[]>(PER_CUSTOMER, { path: { customer_id: customerId }, query: { limit: 100 }, signal })).data,
    [customerId],
  );
  const label = (k: string) => t(`f1.competitor.${k}`);

  const open = (p: CompetitorPresence | "new") => {
    setFormError(null);
    form.resetFields();
    if (p !== "new")
      form.setFieldsValue({
        competitor: p.competitor,
        productsHeld: (p.productsHeld ?? []).join("、"),
        offers: p.offers ?? undefined,
        contractEnd: p.contractEnd ? dayjs(p.contractEnd) : null,
        source: p.source ?? undefined,
        observedOn: dayjs(p.observedOn),
        note: p.note ?? undefined,
      });
    setEditing(p);
  };

  async function save(v: Values) {
    const body: Record<string, unknown> = {
      competitor: v.competitor?.trim() ?? "",
      productsHeld: splitProducts(v.productsHeld),
      offers: text(v.offers),
      contractEnd: day(v.contractEnd),
      source: text(v.source),
      note: text(v.note),
    };
    const observed = day(v.observedOn);
    if (observed) body.observedOn = observed; // default today (it cannot be cleared)
    setBusy(true);
    setFormError(null);
    try {
      if (editing === "new") await api.post(PER_CUSTOMER, { path: { customer_id: customerId }, body });
      else if (editing) await api.patch(ITEM, { path: { presence_id: editing.id }, body });
      message.success(t("common.saved"));
      setEditing(null);
      list.reload();
    } catch (e) {
      setFormError(applyFieldErrors(form, e, FIELDS));
    } finally {
      setBusy(false);
    }
  }

  async function remove(p: CompetitorPresence) {
    try {
      await api.del(ITEM, { path: { presence_id: p.id } });
      message.success(t("common.deleted"));
      list.reload();
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    }
  }

  return (
    <Card
      title={t("f1.competitor.title")}
      size="small"
      data-testid="competitors-panel"
      extra={
        canEdit && (
          <Button size="small" icon={<PlusOutlined />} onClick={() => open("new")} data-testid="competitor-add">
            {t("f1.competitor.add")}
          </Button>
        )
      }
    >
      <Table<CompetitorPresence>
        size="small"
        rowKey="id"
        pagination={false}
        dataSource={list.data ?? []}
        data-testid="competitors-table"
        columns={[
          { title: label("competitor"), dataIndex: "competitor" },
          { title: label("productsHeld"), render: (_, p) => (p.productsHeld ?? []).map((x) => <Tag key={x}>{x}</Tag>) },
          { title: label("offers"), dataIndex: "offers", ellipsis: true },
          { title: label("contractEnd"), render: (_, p) => p.contractEnd ?? "—", width: 110 },
          { title: label("source"), dataIndex: "source", width: 110 },
          { title: label("observedOn"), dataIndex: "observedOn", width: 110 },
          ...(canEdit
            ? [
                {
                  title: t("common.actions"),
                  width: 90,
                  render: (_: unknown, p: CompetitorPresence) => (
                    <Space size={4}>
                      <Button size="small" type="text" icon={<EditOutlined />} onClick={() => open(p)} aria-label={t("common.edit")} />
                      <Popconfirm title={t("f1.confirmDelete")} onConfirm={() => void remove(p)}>
                        <Button size="small" type="text" danger icon={<DeleteOutlined />} aria-label={t("common.delete")} />
                      </Popconfirm>
                    </Space>
                  ),
                },
              ]
            : []),
        ]}
      />
      <Modal
        open={editing !== null}
        title={editing === "new" ? t("f1.competitor.add") : t("f1.competitor.edit")}
        onCancel={() => setEditing(null)}
        onOk={() => form.submit()}
        okButtonProps={{ loading: busy, "data-testid": "competitor-save" } as never}
        forceRender
      >
        {formError && <Alert type="error" showIcon message={formError} style={{ marginBottom: 12 }} />}
        <Form form={form} layout="vertical" onFinish={save}>
          <Form.Item name="competitor" label={label("competitor")} rules={[{ required: true, message: t("login.required", { field: label("competitor") }) }]}>
            <Input maxLength={100} data-testid="competitor-name" />
          </Form.Item>
          <Form.Item name="productsHeld" label={label("productsHeld")} extra={t("f1.competitor.productsHint")}>
            <Input data-testid="competitor-products" />
          </Form.Item>
          <Form.Item name="offers" label={label("offers")}>
            <Input.TextArea autoSize={{ minRows: 1, maxRows: 4 }} data-testid="competitor-offers" />
          </Form.Item>
          <Space size="large">
            <Form.Item name="contractEnd" label={label("contractEnd")}>
              <DatePicker data-testid="competitor-contract-end" />
            </Form.Item>
            <Form.Item name="observedOn" label={label("observedOn")}>
              <DatePicker />
            </Form.Item>
          </Space>
          <Form.Item name="source" label={label("source")}>
            <Input maxLength={200} data-testid="competitor-source" />
          </Form.Item>
          <Form.Item name="note" label={label("note")}>
            <Input.TextArea autoSize={{ minRows: 1, maxRows: 4 }} />
          </Form.Item>
        </Form>
      </Modal>
    </Card>
  );
}
