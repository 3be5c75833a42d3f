import { App, Button, Card, Form, Input, Modal, Select, Space, Table, Tag, Tooltip } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { tablePagination, usePagedList } from "../../api/useTmfList";
import { api } from "../../api/client";
import { applyFieldErrors } from "../../api/errors";
import type { Customer, Designation, DesignationResponse } from "../../api/types";
import { hasPermission } from "../../auth/session";
import { useSession } from "../../auth/useSession";
import { enumLabel, enumOptions, formatTime } from "../../components/labels";
import { nodeInfo, type Tier } from "../../env";

const LIST = "/api/v1/customer/designations";
const ITEM = "/api/v1/customer/designations/{designation_id}";
const RESPONSE = "/api/v1/customer/designations/{designation_id}/response";

/** What this tier may answer (the service's rule: provinces acknowledge or dispute, local networks assign). */
export function answersFor(tier: Tier | undefined): DesignationResponse["status"][] {
  if (tier === "province") return ["ACKNOWLEDGED", "DISPUTED"];
  if (tier === "local") return ["ASSIGNED"];
  return [];
}

type Answer = { designation: Designation; status: string } | null;

export default function NationalList() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const session = useSession();
  const node = nodeInfo();
  const list = usePagedList<Designation>(LIST);
  const [designating, setDesignating] = useState(false);
  const [answer, setAnswer] = useState<Answer>(null);
  const [customers, setCustomers] = useState<Customer[]>([]);
  const [designForm] = Form.useForm();
  const [answerForm] = Form.useForm();
  const canDesignate = node?.tier === "group" && hasPermission(session?.claims, "customer.designation:write");
  const canRespond = hasPermission(session?.claims, "customer.designation:respond");
  const allowed = answersFor(node?.tier);


  const searchCustomers = (q: string) => {
    api
      .get<Customer[]>("/tmf-api/customerManagement/v4/customer", { query: { q, limit: 20 } })
      .then((r) => setCustomers(r.data))
      .catch(() => setCustomers([]));
  };

  const showErrors = (form: ReturnType<typeof Form.useForm>[0], e: unknown) => {
    const left = applyFieldErrors(form, e, null);
    if (left) message.error(left);
  };

  const designate = async (v: Record<string, string | undefined>) => {
    try {
      await api.post(LIST, { body: Object.fromEntries(Object.entries(v).filter(([, x]) => x)) });
      setDesignating(false);
      designForm.resetFields();
      message.success(t("common.created"));
      list.reload();
    } catch (e) {
      showErrors(designForm, e);
    }
  };

  const respond = async (v: Record<string, string | undefined>) => {
    if (!answer) return;
    try {
      await api.put(RESPONSE, {
        path: { designation_id: answer.designation.id },
        body: { status: answer.status, ...Object.fromEntries(Object.entries(v).filter(([, x]) => x)) },
      });
      setAnswer(null);
      answerForm.resetFields();
      message.success(t("common.saved"));
      list.reload();
    } catch (e) {
      showErrors(answerForm, e);
    }
  };

  const withdraw = async (d: Designation) => {
    try {
      await api.patch(ITEM, { path: { designation_id: d.id }, body: { status: "WITHDRAWN" } });
      list.reload();
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    }
  };

  const mine = (d: Designation) => d.responses.find((r) => r.node === node?.code);
  const label = { ACKNOWLEDGED: "national.acknowledge", DISPUTED: "national.dispute", ASSIGNED: "national.assign" } as Record<string, string>;

  return (
    <Card
      title={t("national.title")}
      data-testid="national-list"
      extra={
        canDesignate && (
          <Button type="primary" onClick={() => setDesignating(true)} data-testid="designate">
            {t("national.designate")}
          </Button>
        )
      }
    >
      <Table<Designation>
        rowKey="id"
        loading={list.loading}
        dataSource={list.rows}
        pagination={tablePagination(list, t)}
        columns={[
          {
            title: t("national.customer"),
            render: (_, d) => (
              <Space direction="vertical" size={0}>
                <Link to={`/customers/${d.customer.id}`}>{d.customer.name}</Link>
                <small>
                  {d.customer.customerCode} · {d.customer.ownerNode}
                </small>
              </Space>
            ),
          },
          { title: t("national.grade"), render: (_, d) => enumLabel(t, "grade", d.grade) },
          { title: t("national.groupAccountManager"), render: (_, d) => d.groupAccountManagerName ?? d.groupAccountManager ?? "—" },
          { title: t("common.status"), render: (_, d) => <Tag color={d.status === "ACTIVE" ? "green" : "default"}>{enumLabel(t, "designationStatus", d.status)}</Tag> },
          {
            title: t("national.responses"),
            render: (_, d) => (
              <Space wrap data-testid="responses">
                {d.responses.map((r) => (
                  <Tooltip key={r.node} title={`${r.respondedBy ?? ""} ${formatTime(r.updatedAt)} ${r.reason ?? ""} ${r.accountManagerName ?? r.accountManager ?? ""}`}>
                    <Tag color={r.status === "DISPUTED" ? "red" : "blue"}>
                      {r.node}: {enumLabel(t, "responseStatus", r.status)}
                    </Tag>
                  </Tooltip>
                ))}
              </Space>
            ),
          },
          { title: t("common.updatedAt"), render: (_, d) => formatTime(d.updatedAt) },
          {
            title: t("common.actions"),
            render: (_, d) => (
              <Space>
                {canRespond &&
                  d.status === "ACTIVE" &&
                  allowed.map((s) => (
                    <Button key={s} size="small" type={mine(d)?.status === s ? "primary" : "default"} onClick={() => setAnswer({ designation: d, status: s })} data-testid={`answer-${s}`}>
                      {t(label[s] ?? s)}
                    </Button>
                  ))}
                {canDesignate && d.status === "ACTIVE" && (
                  <Button size="small" danger onClick={() => withdraw(d)}>
                    {t("national.withdraw")}
                  </Button>
                )}
              </Space>
            ),
          },
        ]}
      />
      <Modal open={designating} title={t("national.designate")} onCancel={() => setDesignating(false)} onOk={() => designForm.submit()} okButtonProps={{ "data-testid": "designate-ok" } as never}>
        <Form form={designForm} layout="vertical" onFinish={designate} initialValues={{ grade: "A" }}>
          <Form.Item name="customerId" label={t("national.customer")} rules={[{ required: true, message: t("national.pickCustomer") }]}>
            <Select
              showSearch
              filterOption={false}
              onSearch={searchCustomers}
              onFocus={() => searchCustomers("")}
              placeholder={t("national.pickCustomer")}
              options={customers.map((c) => ({ value: c.id, label: `${c.name} (${c.customerCode} · ${c.ownerNode})` }))}
              data-testid="designate-customer"
            />
          </Form.Item>
          <Form.Item name="grade" label={t("national.grade")} rules={[{ required: true }]}>
            <Select options={enumOptions(t, "grade")} />
          </Form.Item>
          <Form.Item name="groupAccountManager" label={t("national.groupAccountManager")}>
            <Input />
          </Form.Item>
          <Form.Item name="serviceLevel" label={t("national.serviceLevel")}>
            <Input />
          </Form.Item>
          <Form.Item name="note" label={t("national.note")}>
            <Input.TextArea rows={2} />
          </Form.Item>
        </Form>
      </Modal>
      <Modal
        open={answer !== null}
        title={answer ? `${t(label[answer.status] ?? "")} · ${answer.designation.customer.name}` : ""}
        onCancel={() => setAnswer(null)}
        onOk={() => answerForm.submit()}
        okButtonProps={{ "data-testid": "answer-ok" } as never}
      >
        <Form form={answerForm} layout="vertical" onFinish={respond}>
          {answer?.status === "ASSIGNED" ? (
            <>
              <Form.Item name="accountManager" label={t("customer.accountManager")} rules={[{ required: true }]}>
                <Input data-testid="answer-manager" />
              </Form.Item>
              <Form.Item name="accountManagerName" label={t("admin.displayName")}>
                <Input />
              </Form.Item>
            </>
          ) : null}
          <Form.Item name="reason" label={t("national.reason")} rules={answer?.status === "DISPUTED" ? [{ required: true }] : []}>
            <Input.TextArea rows={2} data-testid="answer-reason" />
          </Form.Item>
        </Form>
      </Modal>
    </Card>
  );
}
