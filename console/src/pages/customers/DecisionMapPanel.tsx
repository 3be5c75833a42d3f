import { DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import { Alert, App, Button, Card, Empty, Form, Input, Popconfirm, Select, Space, Spin, Table, Tag } from "antd";
import { lazy, Suspense, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { api } from "../../api/client";
import { applyFieldErrors } from "../../api/errors";
import { enumLabel } from "../../components/labels";
import { DECISION_ROLES, decisionGraph, RELATION_COLORS, RELATION_TYPES, type ContactRelation, type DecisionMap } from "./f1";
import { useFetch } from "./useFetch";

// echarts is loaded only when the map is drawn (its own chunk)
const Chart = lazy(() => import("../../components/Chart"));

const MAP = "/api/v1/customer/customers/{customer_id}/decision-map";
const RELATIONS = "/api/v1/customer/customers/{customer_id}/decision-map/relations";
const RELATION = "/api/v1/customer/contact-relations/{relation_id}";

interface Values {
  fromContactId?: string;
  relationType?: string;
  toContactId?: string;
  note?: string;
}

/** 决策链: the customer's contacts (by decision role) and who reports to / influences / supports / opposes whom. */
export default function DecisionMapPanel({ customerId, canEdit }: { customerId: string; canEdit: boolean }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [form] = Form.useForm<Values>();
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const map = useFetch(async (signal) => (await api.get<DecisionMap>(MAP, { path: { customer_id: customerId }, signal })).data, [customerId]);
  const m = map.data;
  const names = useMemo(() => new Map((m?.contacts ?? []).map((c) => [c.id, c.fullName])), [m]);
  const relationLabel = (x: string) => enumLabel(t, "relationType", x);

  const option = useMemo(() => {
    if (!m) return null;
    const { nodes, links } = decisionGraph(m, relationLabel);
    const categories = [...DECISION_ROLES.map((r) => ({ name: enumLabel(t, "decisionRole", r) })), { name: t("f1.decision.noRole") }];
    return {
      tooltip: { formatter: (p: { dataType?: string; data?: { name?: string; value?: string; relationType?: string } }) => (p.dataType === "edge" ? relationLabel(p.data?.relationType ?? "") : `${p.data?.name ?? ""}<br/>${p.data?.value ?? ""}`) },
      legend: [{ data: categories.map((c) => c.name), bottom: 0 }],
      series: [
        {
          type: "graph",
          layout: "circular",
          circular: { rotateLabel: false },
          roam: true,
          draggable: true,
          categories,
          data: nodes,
          links,
          edgeSymbol: ["none", "arrow"],
          edgeSymbolSize: 10,
          label: { show: true, position: "bottom", formatter: "{b}" },
          edgeLabel: { show: true, fontSize: 11 },
          lineStyle: { width: 2, opacity: 0.9 },
          emphasis: { focus: "adjacency" },
        },
      ],
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [m, t]);

  async function add(v: Values) {
    setBusy(true);
    setFormError(null);
    try {
      await api.post(RELATIONS, { path: { customer_id: customerId }, body: { ...v, note: v.note?.trim() || null } });
      message.success(t("common.saved"));
      form.resetFields();
      map.reload();
    } catch (e) {
      setFormError(applyFieldErrors(form, e, ["fromContactId", "toContactId", "relationType", "note"]));
    } finally {
      setBusy(false);
    }
  }

  async function remove(r: ContactRelation) {
    try {
      await api.del(RELATION, { path: { relation_id: r.id } });
      message.success(t("common.deleted"));
      map.reload();
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    }
  }

  const contactOptions = (m?.contacts ?? []).map((c) => ({ value: c.id, label: `${c.fullName}${c.title ? ` · ${c.title}` : ""}` }));
  return (
    <Card title={t("f1.decision.title")} size="small" data-testid="decision-panel">
      {!m ? (
        map.error ? <Alert type="warning" message={map.error.message} /> : <Spin />
      ) : m.contacts.length === 0 ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("f1.decision.noContacts")} />
      ) : (
        <Suspense fallback={<Spin />}>{option && <Chart option={option} height={340} testId="decision-graph" />}</Suspense>
      )}
      {m && m.relations.length > 0 && (
        <Table<ContactRelation>
          size="small"
          rowKey="id"
          pagination={false}
          dataSource={m.relations}
          data-testid="relations-table"
          style={{ marginTop: 8 }}
          columns={[
            { title: t("f1.decision.from"), render: (_, r) => names.get(r.fromContactId) ?? r.fromContactId },
            { title: t("f1.decision.relationType"), render: (_, r) => <Tag color={RELATION_COLORS[r.relationType]}>{relationLabel(r.relationType)}</Tag> },
            { title: t("f1.decision.to"), render: (_, r) => names.get(r.toContactId) ?? r.toContactId },
            { title: t("f1.decision.note"), dataIndex: "note", ellipsis: true },
            ...(canEdit
              ? [
                  {
                    title: t("common.actions"),
                    width: 70,
                    render: (_: unknown, r: ContactRelation) => (
                      <Popconfirm title={t("f1.confirmDelete")} onConfirm={() => void remove(r)}>
                        <Button size="small" type="text" danger icon={<DeleteOutlined />} aria-label={t("common.delete")} data-testid="relation-delete" />
                      </Popconfirm>
                    ),
                  },
                ]
              : []),
          ]}
        />
      )}
      {canEdit && m && m.contacts.length > 1 && (
        <Form form={form} layout="inline" onFinish={add} style={{ marginTop: 12, rowGap: 8 }} data-testid="relation-form">
          {formError && <Alert type="error" showIcon message={formError} style={{ width: "100%", marginBottom: 8 }} />}
          <Form.Item name="fromContactId" rules={[{ required: true, message: t("login.required", { field: t("f1.decision.from") }) }]}>
            <Select placeholder={t("f1.decision.from")} options={contactOptions} style={{ width: 170 }} data-testid="relation-from" />
          </Form.Item>
          <Form.Item name="relationType" rules={[{ required: true, message: t("login.required", { field: t("f1.decision.relationType") }) }]}>
            <Select placeholder={t("f1.decision.relationType")} options={RELATION_TYPES.map((r) => ({ value: r, label: relationLabel(r) }))} style={{ width: 120 }} data-testid="relation-type" />
          </Form.Item>
          <Form.Item name="toContactId" rules={[{ required: true, message: t("login.required", { field: t("f1.decision.to") }) }]}>
            <Select placeholder={t("f1.decision.to")} options={contactOptions} style={{ width: 170 }} data-testid="relation-to" />
          </Form.Item>
          <Form.Item name="note">
            <Input placeholder={t("f1.decision.note")} maxLength={1000} style={{ width: 140 }} />
          </Form.Item>
          <Space>
            <Button htmlType="submit" icon={<PlusOutlined />} loading={busy} data-testid="relation-add">
              {t("f1.decision.add")}
            </Button>
          </Space>
        </Form>
      )}
    </Card>
  );
}
