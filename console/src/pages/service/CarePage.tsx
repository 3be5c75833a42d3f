// 客户关怀: care plans and activities. Plans (holiday, executive visit, VIP event; the daily job proposes
// their activities), activities planned by hand, and each activity's moves as the API allows them
// (careMoves): plan, done with cost (money), feedback and satisfaction, or cancel.
import { PlusOutlined } from "@ant-design/icons";
import { Alert, App, Button, Card, Col, DatePicker, Form, Input, InputNumber, Modal, Rate, Row, Select, Space, Switch, Table, Tabs, Tag, type ButtonProps } from "antd";
import type { Dayjs } from "dayjs";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api } from "../../api/client";
import { applyFieldErrors } from "../../api/errors";
import type { components } from "../../api/gen/service";
import { tablePagination, usePagedList as useList } from "../../api/useTmfList";
import { hasPermission } from "../../auth/session";
import { useSession } from "../../auth/useSession";
import { formatTime } from "../../components/labels";
import { nodeInfo } from "../../env";
import { CustomerPicker } from "./CustomerPicker";
import { CARE_KINDS, careMoves, toMoney, type CareActivity, type CareStatus } from "./logic";

type Plan = components["schemas"]["CarePlanRead"];
const PLANS = "/api/v1/service/care/plan";
const ACTIVITIES = "/api/v1/service/care/activity";
// a birthday plan names a contact and its birthday per target: planned where the contacts are (not here)
const PLAN_KINDS = CARE_KINDS.filter((k) => k !== "BIRTHDAY_GREETING");

interface PlanValues {
  name: string;
  kind: string;
  occasion: string;
  leadDays: number;
  budget?: number | null;
  segment?: string;
  targets: string[];
  isActive: boolean;
}
interface ActivityValues {
  title: string;
  kind: string;
  customer: string;
  dueOn: Dayjs;
  cost?: number | null;
}
interface DoneValues {
  cost?: number | null;
  feedback?: string;
  satisfaction?: number;
}

const money = (m: { value: string | number; unit: string } | null | undefined) => (m ? `${m.value} ${m.unit}` : "—");

export default function CarePage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const session = useSession();
  const here = nodeInfo()?.code ?? session?.claims.node;
  const canWrite = hasPermission(session?.claims, "service.care:write");
  const plans = useList<Plan>(PLANS, {});
  const activities = useList<CareActivity>(ACTIVITIES, { sort: "dueOn" });
  const [planOpen, setPlanOpen] = useState(false);
  const [activityOpen, setActivityOpen] = useState(false);
  const [done, setDone] = useState<CareActivity | null>(null);
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [planForm] = Form.useForm<PlanValues>();
  const [activityForm] = Form.useForm<ActivityValues>();
  const [doneForm] = Form.useForm<DoneValues>();
  const kind = (k: string | undefined) => t(`service.careKinds.${k ?? ""}`, { defaultValue: k ?? "—" });
  const req = (field: string) => [{ required: true, message: t("login.required", { field }) }];
  const kindOptions = (kinds: readonly string[]) => kinds.map((k) => ({ value: k, label: kind(k) }));

  const run = async (work: () => Promise<void>, form: Parameters<typeof applyFieldErrors>[0], fields: string[], rename?: (f: string) => string) => {
    setBusy(true);
    setFormError(null);
    try {
      await work();
    } catch (e) {
      setFormError(applyFieldErrors(form, e, fields, rename));
    } finally {
      setBusy(false);
    }
  };

  const createPlan = (v: PlanValues) =>
    run(
      async () => {
        await api.post<Plan>(PLANS, {
          body: {
            name: v.name,
            kind: v.kind,
            occasion: v.occasion,
            leadDays: v.leadDays,
            budgetPerTarget: toMoney(v.budget),
            segment: v.segment ?? "",
            isActive: v.isActive,
            targets: v.targets.map((customerId) => ({ customerId })),
          },
        });
        message.success(t("common.created"));
        setPlanOpen(false);
        planForm.resetFields();
        plans.reload();
      },
      planForm,
      ["name", "kind", "occasion", "leadDays", "budget", "segment", "targets"],
      (f) => (f.startsWith("budgetPerTarget") ? "budget" : f.startsWith("targets") ? "targets" : f),
    );

  const createActivity = (v: ActivityValues) =>
    run(
      async () => {
        await api.post<CareActivity>(ACTIVITIES, {
          body: { title: v.title, kind: v.kind, dueOn: v.dueOn.format("YYYY-MM-DD"), cost: toMoney(v.cost), relatedParty: [{ id: v.customer, role: "customer" }] },
        });
        message.success(t("common.created"));
        setActivityOpen(false);
        activityForm.resetFields();
        activities.reload();
      },
      activityForm,
      ["title", "kind", "customer", "dueOn", "cost"],
      (f) => (f.startsWith("relatedParty") ? "customer" : f.startsWith("cost") ? "cost" : f),
    );

  const patch = async (a: CareActivity, body: Record<string, unknown>) => {
    await api.patch<CareActivity>("/api/v1/service/care/activity/{activity_id}", { path: { activity_id: a.id }, body });
    activities.reload();
  };
  const move = (a: CareActivity, to: CareStatus) => {
    if (to === "DONE") {
      doneForm.setFieldsValue({ cost: a.cost ? Number(a.cost.value) : null, feedback: a.feedback ?? "", satisfaction: a.satisfaction ?? undefined });
      setFormError(null);
      setDone(a);
      return;
    }
    setBusy(true);
    patch(a, { status: to })
      .then(() => message.success(t("service.moved")))
      .catch((e: unknown) => message.error(e instanceof Error ? e.message : String(e)))
      .finally(() => setBusy(false));
  };
  const finish = (v: DoneValues) =>
    run(
      async () => {
        if (!done) return;
        await patch(done, { status: "DONE", cost: toMoney(v.cost), feedback: v.feedback || null, satisfaction: v.satisfaction || null });
        message.success(t("service.moved"));
        setDone(null);
        doneForm.resetFields();
      },
      doneForm,
      ["cost", "feedback", "satisfaction"],
      (f) => (f.startsWith("cost") ? "cost" : f),
    );

  const moneyInput = (testId: string) => <InputNumber min={0} step={50} precision={2} addonAfter="CNY" style={{ width: "100%" }} data-testid={testId} />;

  return (
    <Card title={t("service.care")} data-testid="care-page">
      <Tabs
        items={[
          {
            key: "plans",
            label: t("service.plans"),
            children: (
              <>
                {canWrite && (
                  <Button
                    type="primary"
                    icon={<PlusOutlined />}
                    style={{ marginBottom: 12 }}
                    onClick={() => {
                      setFormError(null);
                      setPlanOpen(true);
                    }}
                    data-testid="care-plan-new"
                  >
                    {t("service.newPlan")}
                  </Button>
                )}
                <Table<Plan>
                  rowKey="id"
                  size="middle"
                  loading={plans.loading}
                  dataSource={plans.rows}
                  data-testid="care-plans"
                  pagination={tablePagination(plans, t)}
                  columns={[
                    { title: t("common.name"), dataIndex: "name" },
                    { title: t("service.careKind"), render: (_, p) => kind(p.kind) },
                    { title: t("service.occasion"), render: (_, p) => p.occasion || "—" },
                    { title: t("service.leadDays"), dataIndex: "leadDays" },
                    { title: t("service.budget"), render: (_, p) => money(p.budgetPerTarget) },
                    { title: t("service.targets"), render: (_, p) => p.targets?.length ?? 0 },
                    { title: t("service.segment"), render: (_, p) => p.segment || "—" },
                    { title: t("service.active"), render: (_, p) => (p.isActive ? <Tag color="green">{t("common.yes")}</Tag> : <Tag>{t("common.no")}</Tag>) },
                    { title: t("common.owner"), dataIndex: "ownerNode" },
                  ]}
                />
              </>
            ),
          },
          {
            key: "activities",
            label: t("service.activities"),
            children: (
              <>
                {canWrite && (
                  <Button
                    type="primary"
                    icon={<PlusOutlined />}
                    style={{ marginBottom: 12 }}
                    onClick={() => {
                      setFormError(null);
                      setActivityOpen(true);
                    }}
                    data-testid="care-activity-new"
                  >
                    {t("service.newActivity")}
                  </Button>
                )}
                <Table<CareActivity>
                  rowKey="id"
                  size="middle"
                  loading={activities.loading}
                  dataSource={activities.rows}
                  data-testid="care-activities"
                  pagination={tablePagination(activities, t)}
                  columns={[
                    { title: t("service.title"), dataIndex: "title" },
                    { title: t("service.careKind"), render: (_, a) => kind(a.kind) },
                    { title: t("service.customer"), render: (_, a) => a.relatedParty?.find((p) => p.role === "customer")?.name ?? "—" },
                    { title: t("service.dueOn"), dataIndex: "dueOn" },
                    { title: t("service.status"), render: (_, a) => <Tag>{t(`service.careStatuses.${a.status ?? ""}`, { defaultValue: a.status ?? "—" })}</Tag> },
                    { title: t("service.cost"), render: (_, a) => money(a.cost) },
                    { title: t("service.feedback"), render: (_, a) => a.feedback || "—" },
                    { title: t("service.satisfaction"), render: (_, a) => a.satisfaction ?? "—" },
                    { title: t("common.updatedAt"), render: (_, a) => formatTime(a.lastUpdate) },
                    {
                      title: t("service.actions"),
                      render: (_, a) => (
                        <Space size={4} wrap>
                          {careMoves(a, here, canWrite).map((to) => (
                            <Button key={to} size="small" danger={to === "CANCELLED"} disabled={busy} onClick={() => move(a, to)} data-testid={`care-${to}`}>
                              {t(`service.careMoves.${to}`)}
                            </Button>
                          ))}
                        </Space>
                      ),
                    },
                  ]}
                />
              </>
            ),
          },
        ]}
      />
      <Modal
        open={planOpen}
        width={720}
        title={t("service.newPlan")}
        onCancel={() => setPlanOpen(false)}
        onOk={() => planForm.submit()}
        confirmLoading={busy}
        okButtonProps={{ "data-testid": "care-plan-save" } as ButtonProps}
      >
        {formError && planOpen && <Alert type="error" showIcon message={formError} style={{ marginBottom: 12 }} data-testid="form-error" />}
        <Form form={planForm} layout="vertical" onFinish={createPlan} initialValues={{ kind: "HOLIDAY_GREETING", leadDays: 7, isActive: true }}>
          <Row gutter={12}>
            <Col span={12}>
              <Form.Item name="name" label={t("common.name")} rules={req(t("common.name"))}>
                <Input maxLength={200} data-testid="plan-name" />
              </Form.Item>
            </Col>
            <Col span={12}>
              <Form.Item name="kind" label={t("service.careKind")} rules={req(t("service.careKind"))}>
                <Select options={kindOptions(PLAN_KINDS)} data-testid="plan-kind" />
              </Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item name="occasion" label={t("service.occasion")} extra={t("service.occasionHint")} rules={req(t("service.occasion"))}>
                <Input placeholder="02-17 / 2026-09-01" maxLength={10} data-testid="plan-occasion" />
              </Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item name="leadDays" label={t("service.leadDays")}>
                <InputNumber min={0} max={60} style={{ width: "100%" }} data-testid="plan-leadDays" />
              </Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item name="budget" label={t("service.budget")}>
                {moneyInput("plan-budget")}
              </Form.Item>
            </Col>
            <Col span={16}>
              <Form.Item name="segment" label={t("service.segment")}>
                <Input maxLength={200} data-testid="plan-segment" />
              </Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item name="isActive" label={t("service.active")} valuePropName="checked">
                <Switch />
              </Form.Item>
            </Col>
            <Col span={24}>
              <Form.Item name="targets" label={t("service.targetCustomers")} rules={req(t("service.targetCustomers"))}>
                <CustomerPicker multiple testId="plan-targets" />
              </Form.Item>
            </Col>
          </Row>
        </Form>
      </Modal>
      <Modal
        open={activityOpen}
        title={t("service.newActivity")}
        onCancel={() => setActivityOpen(false)}
        onOk={() => activityForm.submit()}
        confirmLoading={busy}
        okButtonProps={{ "data-testid": "care-activity-save" } as ButtonProps}
      >
        {formError && activityOpen && <Alert type="error" showIcon message={formError} style={{ marginBottom: 12 }} data-testid="form-error" />}
        <Form form={activityForm} layout="vertical" onFinish={createActivity} initialValues={{ kind: "EXECUTIVE_VISIT" }}>
          <Form.Item name="title" label={t("service.title")} rules={req(t("service.title"))}>
            <Input maxLength={200} data-testid="activity-title" />
          </Form.Item>
          <Form.Item name="kind" label={t("service.careKind")} rules={req(t("service.careKind"))}>
            <Select options={kindOptions(CARE_KINDS)} data-testid="activity-kind" />
          </Form.Item>
          <Form.Item name="customer" label={t("service.customer")} rules={req(t("service.customer"))}>
            <CustomerPicker testId="activity-customer" />
          </Form.Item>
          <Form.Item name="dueOn" label={t("service.dueOn")} rules={req(t("service.dueOn"))}>
            <DatePicker style={{ width: "100%" }} data-testid="activity-dueOn" />
          </Form.Item>
          <Form.Item name="cost" label={t("service.cost")}>
            {moneyInput("activity-cost")}
          </Form.Item>
        </Form>
      </Modal>
      <Modal
        open={done !== null}
        title={t("service.careDone", { title: done?.title ?? "" })}
        onCancel={() => setDone(null)}
        onOk={() => doneForm.submit()}
        confirmLoading={busy}
        okButtonProps={{ "data-testid": "care-done-save" } as ButtonProps}
      >
        {formError && done && <Alert type="error" showIcon message={formError} style={{ marginBottom: 12 }} data-testid="form-error" />}
        <Form form={doneForm} layout="vertical" onFinish={finish}>
          <Form.Item name="cost" label={t("service.cost")}>
            {moneyInput("done-cost")}
          </Form.Item>
          <Form.Item name="feedback" label={t("service.feedback")}>
            <Input.TextArea rows={3} maxLength={2000} data-testid="done-feedback" />
          </Form.Item>
          <Form.Item name="satisfaction" label={t("service.satisfaction")}>
            <Rate data-testid="done-satisfaction" />
          </Form.Item>
        </Form>
      </Modal>
    </Card>
  );
}
